"""Venue kinds from crawl to mail: stored by a real crawl, counted by the indicators, named in alerts, chosen
by subscriptions, and given to venues an older store already holds."""
from __future__ import annotations

import csv
import email
import hashlib
import json
from email import policy
from pathlib import Path

import pytest

from core.config import defaults
from db.schema import migrate
from monitor.delivery import subscriptions
from monitor.delivery.mailer import MaildirTransport
from monitor.indicators.compute import compute
from monitor.reports import alerts
from monitor.reports.digest import render_digest
from spiders.pipelines.store import content_hash
from spiders.sources.fhrs_pubs.items import Pub
from tests.delivery_seed import LB_WARD, add_crawl, add_event, add_record, settings
from tests.indicator_records import by_key, record
from tests.indicator_records import crawl as record_crawl
from tests.replay_crawl import crawl, write_config

SAMPLE = Path(__file__).resolve().parent / "fixtures" / "venue_kinds" / "sample.csv"
NOW = "2024-03-05T06:00:00+00:00"


def hand_labels(authority: str) -> dict[str, str]:
    with open(SAMPLE, encoding="utf-8", newline="") as f:
        return {r["fhrsid"]: r["label"] for r in csv.DictReader(f) if r["authority"] == authority}


@pytest.fixture
def replay(fhrs_replay):
    return fhrs_replay


def test_a_crawl_stores_every_venue_with_its_kind_and_rule(replay, db_path, tmp_path):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Wandsworth"])
    result, db, _ = crawl("fhrs_pubs", db_path, replay, "2024-01-01T05:00:00", config)
    assert result.status == "ok"
    stored = {r["ref"]: r for r in db.query("select ref, venue_kind, venue_kind_rule from pubs")}
    assert len(stored) == 146 and all(r["venue_kind_rule"] for r in stored.values())
    labels = {ref: label for ref, label in hand_labels("Wandsworth").items() if ref in stored}
    assert len(labels) == 146
    agree = sum(stored[ref]["venue_kind"] == label for ref, label in labels.items())
    assert agree / len(labels) >= 0.85, agree
    # Every club the labeller found a members' club or a sports club is stored as one, bar the pub that kept
    # a bowls club's name.
    clubs = {ref for ref, label in labels.items() if label in ("members_club", "sports_club")}
    assert len(clubs) == 23
    assert {ref for ref in clubs if stored[ref]["venue_kind"] != labels[ref]} == set()
    assert stored["543479"]["venue_kind"] == "sports_club" and labels["543479"] == "pub"   # Balham Bowls Club


def test_pub_indicators_count_pubs_and_bars_and_clubs_apart(fresh_db):
    c = record_crawl(fresh_db, "fhrs_pubs", {"fhrs_pubs": True})
    ward = "E05000028"
    for kind in ("pub", "pub", "bar", "members_club", "members_club", "sports_club", "restaurant", "nightclub"):
        record(fresh_db, "fhrs_pubs", ward, c, venue_kind=kind)
    record(fresh_db, "fhrs_pubs", ward, c, venue_kind="members_club", status="closed", closed_at="2024-05-01")
    record(fresh_db, "fhrs_pubs", ward, c, venue_kind="bar", status="closed", closed_at="2024-05-02")
    record(fresh_db, "fhrs_pubs", ward, c, venue_kind="sports_club", status="closed", closed_at="2024-05-03")
    rows = by_key(compute(fresh_db, "2024-06-01T07:00:00", defaults()))
    # Counted by hand from the list above: 2 pubs + 1 bar open; 2 members' clubs open; 1 bar and 1 club closed.
    assert rows[("pubs_per_100k", "england")]["numerator"] == 3
    assert rows[("social_clubs_per_100k", "england")]["numerator"] == 2
    assert rows[("pub_closures_per_100k", "england")]["numerator"] == 1
    assert rows[("social_club_closures_per_100k", "england")]["numerator"] == 1


def _closures(db) -> int:
    crawl_id = add_crawl(db, "fhrs_pubs", NOW)
    for ref, name, kind in (("1", "Putney Town Bowling Club", "sports_club"), ("2", "The Red Lion", "pub"),
                            ("3", "Tap 13", "bar"), ("4", "The Quarry Club", None)):
        extra = {"venue_kind": kind, "venue_kind_rule": "test"} if kind else {}
        rid = add_record(db, "pubs", "fhrs_pubs", ref, name, LB_WARD, status="closed", **extra)
        add_event(db, "closed", "fhrs_pubs", rid, name, LB_WARD, crawl_id, NOW,
                  evidence={"rule": "missing from 2 consecutive healthy crawls"})
    return crawl_id


def _mail(tmp_path) -> dict[str, email.message.EmailMessage]:
    out = {}
    for p in sorted((tmp_path / "mail" / "new").iterdir()):
        msg = email.message_from_bytes(p.read_bytes(), policy=policy.default)
        out[msg["To"]] = msg
    return out


def test_alerts_name_the_kind_and_subscriptions_choose_kinds(fresh_db, private_db, tmp_path):
    crawl_id = _closures(fresh_db)
    for address, kinds in (("all@example.org", None), ("pubs@example.org", "pub"),
                           ("sport@example.org", "sports_club"), ("library@example.org", "library")):
        subscriptions.subscribe(private_db, fresh_db, address, wards=[LB_WARD], kinds=kinds, now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, crawl_id, NOW, transport=MaildirTransport(s["maildir"])) == 3
    mail = _mail(tmp_path)
    assert set(mail) == {"all@example.org", "pubs@example.org", "sport@example.org"}
    everything = mail["all@example.org"].get_body(("plain",)).get_content()
    for line in ("SPORTS CLUB CLOSED: Putney Town Bowling Club", "PUB CLOSED: The Red Lion", "BAR CLOSED: Tap 13",
                 "CLOSED pub: The Quarry Club"):    # not yet classified: said as before, and not dropped
        assert line in everything
    pubs = mail["pubs@example.org"].get_body(("plain",)).get_content()
    assert "The Red Lion" in pubs and "Tap 13" in pubs and "Quarry" in pubs and "Bowling" not in pubs
    assert mail["sport@example.org"]["Subject"].startswith("Sports club closed: Putney Town Bowling Club — ")
    assert "Red Lion" not in mail["sport@example.org"].get_body(("plain",)).get_content()
    assert "Sports club closed" in mail["all@example.org"].get_body(("html",)).get_content()


def test_unknown_kind_is_refused_with_the_choices(fresh_db, private_db):
    with pytest.raises(subscriptions.InputError, match="golf.*choose from.*social_club"):
        subscriptions.subscribe(private_db, fresh_db, "a@example.org", wards=[LB_WARD], kinds="golf", now=NOW)


def test_an_older_store_gets_its_venues_classified_and_stays_unchanged(fresh_db):
    # Venues stored before kinds existed: their content (and hash) has no venue_kind.
    items = [Pub(source="fhrs_pubs", ref="1", name="Esh Winning Working Mens Club", address="Front Street",
                 scope="County Durham"),
             Pub(source="fhrs_pubs", ref="2", name="The Half Moon Inn", scope="County Durham")]
    for item in items:
        row = {k: v for k, v in item.to_row().items() if k not in ("venue_kind", "venue_kind_rule")}
        old = json.dumps({k: v for k, v in row.items() if k not in item.VOLATILE}, sort_keys=True, default=str)
        digest = hashlib.sha1(old.encode()).hexdigest()
        fresh_db["pubs"].insert({**row, "content_hash": digest, "status": "open"}, alter=True)
        fresh_db["versions"].insert({"record_id": item.id, "record_table": "pubs", "crawl_id": 1, "at": NOW,
                                     "content_hash": digest, "data": old})
    fresh_db.execute("delete from _migrations where name = 'm012_venue_kinds'")
    assert migrate(fresh_db) == ["m012_venue_kinds"]
    stored = {r["ref"]: r for r in fresh_db.query("select * from pubs")}
    assert {ref: (r["venue_kind"], r["venue_kind_rule"]) for ref, r in stored.items()} == {
        "1": ("members_club", "members_club_word"), "2": ("pub", "pub_word")}
    # The next crawl brings the same venues with their kinds: the store must find them unchanged.
    for item in items:
        item.venue_kind, item.venue_kind_rule = stored[item.ref]["venue_kind"], stored[item.ref]["venue_kind_rule"]
        assert content_hash(item) == stored[item.ref]["content_hash"]


def test_the_digest_names_each_closed_venue_by_its_kind(fresh_db, tmp_path):
    _closures(fresh_db)
    _, html, text, _ = render_digest(fresh_db, settings(tmp_path), "2024-03-06T07:00:00+00:00")
    closures = text[text.index("CLOSURES (4)"):text.index("REOPENINGS")]
    for line in ("SPORTS CLUB CLOSED: Putney Town Bowling Club", "PUB CLOSED: The Red Lion", "BAR CLOSED: Tap 13"):
        assert line in closures
    assert "Sports club closed" in html
