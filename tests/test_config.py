from pathlib import Path

import pytest

from core import config
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_has_help_and_is_in_the_configuration_doc():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for s in config.all_settings():
        assert s.help.strip(), s.name
    assert config.markdown_table() in doc, "docs/configuration.md is stale: paste `python run.py settings`"


def test_file_then_environment_override_defaults(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('health_min_share = 0.5\nsmtp_host = "mail.example.org"\n[start_urls]\nmutual_aid = "http://x"\n')
    values = config.load(f, environ={"LBM_SMTP_HOST": "smtp.example.net", "LBM_SMTP_PORT": "2525",
                                     "LBM_SMTP_PASSWORD": "s3cret"})
    assert values["health_min_share"] == 0.5
    assert values["start_urls"] == {"mutual_aid": "http://x"}
    assert values["smtp_host"] == "smtp.example.net"
    assert values["smtp_port"] == 2525
    assert values["smtp_password"] == "s3cret"
    assert values["closure_missing_crawls"] == 2


def test_secrets_cannot_come_from_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('smtp_password = "in the file"\n')
    with pytest.raises(ConfigError, match="unknown setting.*smtp_password"):
        config.load(f, environ={})


def test_bad_toml_is_a_clear_error(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("health_min_share = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(f, environ={})


def test_shipped_example_config_is_the_defaults():
    example = ROOT / "config.example.toml"
    assert example.read_text(encoding="utf-8") == config.example_toml() + "\n", \
        "config.example.toml is stale: python run.py settings --example > config.example.toml"
    assert config.load(example, environ={}) == config.load(None, environ={})


def test_a_sources_own_settings_are_declared_beside_its_spider_and_read_from_the_same_file(tmp_path):
    from spiders import registry
    from spiders.sources.fhrs_pubs.spider import FhrsPubsSpider

    central = {s.name for s in config.SETTINGS}
    for name in ("fhrs_authorities", "fhrs_route", "library_closures_since", "notable_grant_amount"):
        assert name not in central
    owners = {s.name: source for source, s in registry.source_settings()}
    assert owners["fhrs_route"] == "fhrs_pubs" and owners["library_closures_since"] == "libraries"
    assert "fhrs_route" in {s.name for s in FhrsPubsSpider.options}
    f = tmp_path / "c.toml"
    f.write_text('fhrs_route = "json"\nnotable_grant_amount = 500\n')
    values = config.load(f, environ={})
    assert values["fhrs_route"] == "json" and values["notable_grant_amount"] == 500
    assert values["library_closures_since"] == "2010-01-01"
    f.write_text('fhrs_route = "csv"\n')    # checked against the source's own declaration (its choices)
    with pytest.raises(ConfigError, match="fhrs_route"):
        config.load(f, environ={})


def test_a_setting_declared_twice_is_refused(monkeypatch):
    from core.setting_values import Setting
    monkeypatch.setattr(config, "_provider", lambda: [("toy", Setting("maildir", "x", "a clash"))])
    with pytest.raises(ConfigError, match="maildir.*declared twice"):
        config.defaults()
