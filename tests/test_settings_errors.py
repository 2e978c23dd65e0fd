"""A wrong setting is one line naming it, its value and what it accepts, with exit 2; an unknown one is warned."""
from __future__ import annotations

import pytest

from core import config
from core.errors import ConfigError
from db.store import init_private
from tests.cli_process import error_line, run_cli


@pytest.fixture
def folder(tmp_path, template_db):
    """A folder with a public and a private database, where the commands run with relative paths."""
    (tmp_path / "a.db").write_bytes(template_db.read_bytes())
    init_private(tmp_path / "p.db").conn.close()
    return tmp_path


# Each expectation is written from the setting's declaration in core/config.py (type, low, high, choices).
WRONG_IN_FILE = [
    ('web_requests_per_minute = "x"', 'web_requests_per_minute = "x" in c.toml: expected a whole number of at least 1'),
    ('crawl_timeout = "soon"', 'crawl_timeout = "soon" in c.toml: expected a whole number of at least 1'),
    ("crawl_timeout = -5", "crawl_timeout = -5 in c.toml: expected a whole number of at least 1"),
    ("crawl_memory_mb = -1", "crawl_memory_mb = -1 in c.toml: expected a whole number of at least 0"),
    ("health_min_share = 1.5", "health_min_share = 1.5 in c.toml: expected a number from 0 to 1"),
    ("backfill_days = 2.5", "backfill_days = 2.5 in c.toml: expected a whole number of at least 0"),
    ("backfill_days = true", "backfill_days = true in c.toml: expected a whole number of at least 0"),
    ('fhrs_route = "csv"', 'fhrs_route = "csv" in c.toml: expected one of "xml", "json"'),
    ('library_closures_since = "2010-13-01"',
     'library_closures_since = "2010-13-01" in c.toml: expected a date like "2010-01-01"'),
    ('schedule_timezone = "Mars/Olympus"',
     'schedule_timezone = "Mars/Olympus" in c.toml: expected a time zone like "Europe/London"'),
    ("allow_private_addresses = 1",
     'allow_private_addresses = 1 in c.toml: expected true, false or a list of "host:port" texts'),
    ("[schedule]\ndigest = 7", "schedule = { digest = 7 } in c.toml: expected a table of texts in quotes"),
    ("[frozen_sources]\nmutual_aid = true", "frozen_sources = { mutual_aid = true } in c.toml: expected a table of "
                                            "tables (archive_url, last_listing), or false for a source to treat as "
                                            "live"),
]
WRONG_IN_ENVIRONMENT = [
    ("LBM_SMTP_PORT", "abc", "LBM_SMTP_PORT=abc (setting smtp_port): expected a whole number from 1 to 65535"),
    ("LBM_SMTP_PORT", "70000", "LBM_SMTP_PORT=70000 (setting smtp_port): expected a whole number from 1 to 65535"),
    ("LBM_POSTCODES_RATE", "-1",
     "LBM_POSTCODES_RATE=-1 (setting postcodes_rate_per_second): expected a number of at least 0"),
    ("LBM_SMTP_SECURITY", "tls", 'LBM_SMTP_SECURITY=tls (setting smtp_security): expected one of "starttls", '
                                 '"ssl", "none"'),
]


@pytest.mark.parametrize("line, expected", WRONG_IN_FILE[:3])
def test_a_wrong_value_in_the_file_is_one_line_and_exit_2(folder, line, expected):
    (folder / "c.toml").write_text(line + "\n")
    result = run_cli(folder, "--config", "c.toml", "--db", "a.db", "--private-db", "p.db", "status")
    assert result.returncode == 2
    assert error_line(result) == expected
    assert result.stderr.strip() == f"Error: {expected}"   # one line, nothing else
    assert result.stdout == ""


def test_a_wrong_value_from_the_environment_is_one_line_and_exit_2(folder):
    variable, value, expected = WRONG_IN_ENVIRONMENT[0]
    result = run_cli(folder, "--db", "a.db", "--private-db", "p.db", "status", env={variable: value})
    assert result.returncode == 2
    assert result.stderr.strip() == f"Error: {expected}"


@pytest.mark.parametrize("line, expected", WRONG_IN_FILE)
def test_each_wrong_value_in_the_file_is_named(tmp_path, line, expected):
    f = tmp_path / "c.toml"
    f.write_text(line + "\n")
    with pytest.raises(ConfigError) as caught:
        config.load(f, environ={})
    assert str(caught.value) == expected.replace("c.toml", str(f))


@pytest.mark.parametrize("variable, value, expected", WRONG_IN_ENVIRONMENT)
def test_each_wrong_value_in_the_environment_is_named(variable, value, expected):
    with pytest.raises(ConfigError) as caught:
        config.load(None, environ={variable: value})
    assert str(caught.value) == expected


def test_an_unknown_setting_is_warned_and_the_command_goes_on(folder):
    (folder / "c.toml").write_text("crawl_timout = 10\nhealth_window = 3\n")
    result = run_cli(folder, "--config", "c.toml", "--db", "a.db", "--private-db", "p.db", "events")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ("Warning: unknown setting 'crawl_timout' in c.toml is ignored "
                                     "(did you mean crawl_timeout?)")
    assert result.stdout.strip() == "No events."


def test_every_default_passes_its_own_check():
    for s in config.all_settings():
        assert config.check(s, s.default, s.name) == s.default, s.name


def test_the_secret_is_still_refused_in_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('smtp_password = "x"\n')
    with pytest.raises(ConfigError, match="read only from the environment"):
        config.load(f, environ={}, warn=lambda message: None)


def test_checked_values_keep_their_types(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("http_timeout = 5\nallow_private_addresses = [\"127.0.0.1:8000\"]\n"
                 "library_closures_since = 2011-04-01\n")   # a TOML date, unquoted
    values = config.load(f, environ={"LBM_SMTP_PORT": "2525", "LBM_POSTCODES_RATE": "2"})
    assert (values["http_timeout"], type(values["http_timeout"])) == (5.0, float)
    assert values["allow_private_addresses"] == ["127.0.0.1:8000"]
    assert values["library_closures_since"] == "2011-04-01"
    assert (values["smtp_port"], values["postcodes_rate_per_second"]) == (2525, 2.0)


def test_a_long_or_unprintable_value_is_cut_in_the_message(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("crawl_timeout = \"" + "9" * 500 + "\"\n")
    with pytest.raises(ConfigError) as caught:
        config.load(f, environ={})
    assert str(caught.value) == f'crawl_timeout = "{"9" * 56}... in {f}: expected a whole number of at least 1'
    with pytest.raises(ConfigError) as caught:
        config.load(None, environ={"LBM_SMTP_PORT": "\x1b[2J25"})
    assert str(caught.value) == "LBM_SMTP_PORT='\\x1b[2J25' (setting smtp_port): expected a whole number from 1 to 65535"
