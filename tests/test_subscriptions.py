import pytest
from click.testing import CliRunner

from core.errors import InputError
from monitor.delivery import subscriptions
from run import cli

NOW = "2024-03-05T06:00:00+00:00"


@pytest.mark.parametrize("email", ["ann@example.org", "a.b+tag@sub.example.co.uk"])
def test_valid_emails(email):
    assert subscriptions.validate_email(f" {email} ") == email


@pytest.mark.parametrize("email", ["ann", "ann@localhost", "a b@example.org", "ann@example.org\nBcc: x@y.z",
                                   "<ann@example.org>", "ann@@example.org", "ann@-x.org", ""])
def test_invalid_emails(email):
    with pytest.raises(InputError, match="not a valid email address"):
        subscriptions.validate_email(email)


def test_subscribe_checks_codes_and_kinds(fresh_db, private_db):
    with pytest.raises(InputError, match="unknown ward code 'E05999999'"):
        subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=["E05999999"], now=NOW)
    with pytest.raises(InputError, match="unknown local authority code"):
        subscriptions.subscribe(private_db, fresh_db, "ann@example.org", lads=["E09999999"], now=NOW)
    with pytest.raises(InputError, match="unknown kind"):
        subscriptions.subscribe(private_db, fresh_db, "ann@example.org", left_behind=True, kinds="pub,bingo",
                                now=NOW)
    with pytest.raises(InputError, match="say what to watch"):
        subscriptions.subscribe(private_db, fresh_db, "ann@example.org", now=NOW)
    assert private_db["subscriptions"].count == 0


def test_subscribe_extends_and_unsubscribe_by_token(fresh_db, private_db):
    first = subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=["e05000028"], kinds="pub",
                                    now=NOW)
    assert first.wards == ["E05000028"] and first.sources == {"fhrs_pubs"}
    second = subscriptions.subscribe(private_db, fresh_db, "ann@example.org", lads=["E08000001"],
                                     kinds="pub,news", now=NOW)
    assert second.id == first.id and second.token == first.token
    assert second.wards == ["E05000028"] and second.lad_codes == ["E08000001"]
    assert second.sources == {"fhrs_pubs", "library_news"}
    subscriptions.unsubscribe(private_db, first.token)
    assert subscriptions.active(private_db) == []
    with pytest.raises(InputError):
        subscriptions.unsubscribe(private_db, "no-such-token")


def test_commands(db_path, private_db_path, fresh_db):
    base = ["--db", str(db_path), "--private-db", str(private_db_path)]
    runner = CliRunner()
    ok = runner.invoke(cli, base + ["subscribe", "ann@example.org", "--ward", "E05000028", "--ward", "E05000652",
                                    "--kinds", "pub,library"])
    assert ok.exit_code == 0, ok.output
    assert "Subscribed ann@example.org to 2 ward(s): E05000028, E05000652; kinds: library, pub." in ok.output
    lb = runner.invoke(cli, base + ["subscribe", "bob@example.org", "--left-behind"])
    assert "all 225 left-behind wards" in lb.output
    bad = runner.invoke(cli, base + ["subscribe", "not-an-email", "--left-behind"])
    assert bad.exit_code == 2 and "Error: not a valid email address: 'not-an-email'" in bad.output
    listing = runner.invoke(cli, base + ["subscriptions"])
    assert "ann@example.org  [active]" in listing.output and "bob@example.org  [active]" in listing.output
    runner.invoke(cli, base + ["unsubscribe", "ann@example.org"])
    assert "ann@example.org  [unsubscribed]" in runner.invoke(cli, base + ["subscriptions"]).output
