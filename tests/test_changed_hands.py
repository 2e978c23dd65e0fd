"""Closures you can trust, on a real authority's register: changed hands is not closed, a bad field is not absence,
another authority's file is not this one's."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from spiders.replay.fhrs import HERE
from tests.crawling import replay_env
from tests.replay_crawl import crawl, events, write_config

ROOT = Path(__file__).resolve().parent.parent
REAL = (HERE / "FHRS903en-GB_2024-01-01.xml").read_bytes()          # Hartlepool's pubs, as registered
DETAIL = re.compile(rb"\s*<EstablishmentDetail>.*?</EstablishmentDetail>", re.S)


def details(body: bytes) -> list[bytes]:
    return DETAIL.findall(body)


def fhrsid(detail: bytes) -> str:
    return re.search(rb"<FHRSID>(\d+)</FHRSID>", detail).group(1).decode()


def rebuild(body: bytes, keep: list[bytes]) -> bytes:
    """The file with its establishments replaced by `keep` (header and footer as they were)."""
    rows = details(body)
    start, end = body.index(rows[0]), body.index(rows[-1]) + len(rows[-1])
    return body[:start] + b"".join(keep) + body[end:]


def scenario() -> tuple[bytes, list[str], list[str]]:
    """6 pubs gone; 5 others re-registered under new FHRSIDs at the same address (2 under new names)."""
    rows = details(REAL)
    with_address = [r for r in rows if b"<PostCode>" in r and b"<AddressLine1>" in r]
    removed, rehomed = with_address[0:60:10], with_address[5:55:10]          # spread over the file
    assert len(removed) == 6 and len(rehomed) == 5 and not set(removed) & set(rehomed)
    keep = []
    for r in rows:
        if r in removed:
            continue
        if r in rehomed:
            k = rehomed.index(r)
            r = r.replace(f"<FHRSID>{fhrsid(r)}</FHRSID>".encode(), f"<FHRSID>{9_100_000 + k}</FHRSID>".encode())
            if k < 2:   # a new operator often renames the place
                r = re.sub(rb"<BusinessName>(.*?)</BusinessName>", rb"<BusinessName>The New \1</BusinessName>", r)
        keep.append(r)
    return rebuild(REAL, keep), [fhrsid(r) for r in removed], [fhrsid(r) for r in rehomed]


@pytest.fixture
def hartlepool(tmp_path, fhrs_replay):
    config = write_config(tmp_path / "c.toml", fhrs_authorities=["Hartlepool"])
    return {"server": fhrs_replay, "fhrs": fhrs_replay.fhrs, "config": config, "db": tmp_path / "db.sqlite",
            "tmp": tmp_path}


def run_cli(w, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, **replay_env(w["server"])}
    cmd = [sys.executable, str(ROOT / "run.py"), "--db", str(w["db"]), "--private-db", str(w["tmp"] / "p.db"),
           "--config", str(w["config"]), *args]
    return subprocess.run(cmd, cwd=w["tmp"], env=env, capture_output=True, text=True, timeout=300)


def _field(detail: bytes, tag: str) -> str:
    return re.search(rb"<%s>(.*?)</%s>" % (tag.encode(), tag.encode()), detail, re.S).group(1).decode()


def _registered_again(detail: bytes, new_id: int, tag: str | None = None, value: str | None = None) -> bytes:
    """The venue under a new FHRS id, with one address field (AddressLine1 or PostCode) changed if asked."""
    again = detail.replace(f"<FHRSID>{fhrsid(detail)}</FHRSID>".encode(), f"<FHRSID>{new_id}</FHRSID>".encode())
    if tag:
        again = re.sub(rb"<%s>.*?</%s>" % (tag.encode(), tag.encode()),
                       f"<{tag}>{value}</{tag}>".encode(), again, flags=re.S)
    return again


def test_a_change_of_hands_needs_both_the_same_address_and_the_same_postcode(hartlepool):
    """Three pubs vanish and a new registration appears for each: at the same address and postcode (changed hands),
    at the same address under another postcode (closed), at the same postcode under another address (closed)."""
    w = hartlepool
    rows = details(REAL)
    placed = [r for r in rows if b"<PostCode>" in r and b"<AddressLine1>" in r]
    same, other_postcode, other_address = placed[0], placed[10], placed[20]
    assert len({_field(r, "PostCode") for r in (same, other_postcode, other_address)}) == 3
    newcomers = [_registered_again(same, 9_300_001),
                 _registered_again(other_postcode, 9_300_002, "PostCode", "TS24 9ZZ"),
                 _registered_again(other_address, 9_300_003, "AddressLine1", "1 Elsewhere Street")]
    gone = (same, other_postcode, other_address)
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-01T05:00:00", w["config"])
    w["fhrs"].override["903"] = rebuild(REAL, [r for r in rows if r not in gone] + newcomers)
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-08T05:00:00", w["config"])
    result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], "2024-01-15T05:00:00", w["config"])
    assert result.status == "ok"
    assert [e["ref"] for e in events(db, result.crawl_id, "changed_hands")] == [fhrsid(same)]
    assert [e["ref"] for e in events(db, result.crawl_id, "closed")] == sorted(
        [fhrsid(other_postcode), fhrsid(other_address)])
    assert db["pubs"].get("fhrs_pubs:9300001")["succeeds"] == f"fhrs_pubs:{fhrsid(same)}"
    assert db["pubs"].get("fhrs_pubs:9300002")["succeeds"] is None


def test_a_new_registration_after_the_closure_corrects_it(hartlepool):
    w = hartlepool
    rows = details(REAL)
    gone = next(r for r in rows if b"<PostCode>" in r and b"<AddressLine1>" in r)
    without = rebuild(REAL, [r for r in rows if r is not gone])
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-01T05:00:00", w["config"])
    w["fhrs"].override["903"] = without
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-08T05:00:00", w["config"])
    result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], "2024-01-15T05:00:00", w["config"])
    [closure] = events(db, result.crawl_id, "closed")
    assert closure["ref"] == fhrsid(gone)
    reborn = gone.replace(f"<FHRSID>{fhrsid(gone)}</FHRSID>".encode(), b"<FHRSID>9200001</FHRSID>")
    w["fhrs"].override["903"] = rebuild(REAL, [r for r in rows if r is not gone] + [reborn])
    result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], "2024-02-05T05:00:00", w["config"])
    [correction] = events(db, result.crawl_id, "changed_hands")
    evidence = json.loads(correction["evidence"])
    assert correction["ref"] == fhrsid(gone) and evidence["supersedes_closure"] == closure["id"]
    assert db["pubs"].get(closure["record_id"])["status"] == "changed_hands"
    from monitor.reports.event_lines import event_line
    label = event_line(db, dict(correction), "http://x/db").kind_label
    assert label.startswith("Correction: ") and label.endswith(" not closed, changed hands")


def test_a_correction_goes_only_to_those_told_of_the_closure(hartlepool):
    from email import message_from_bytes, policy

    from db.store import init_private
    from monitor.delivery import subscriptions
    from monitor.delivery.mailer import MaildirTransport
    from monitor.reports import alerts
    from tests.delivery_seed import settings

    w = hartlepool
    private = init_private(w["tmp"] / "p.db")
    s = settings(w["tmp"])
    rows = details(REAL)
    gone = next(r for r in rows if b"<PostCode>" in r and b"<AddressLine1>" in r)
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-01T05:00:00", w["config"])
    w["fhrs"].override["903"] = rebuild(REAL, [r for r in rows if r is not gone])
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-08T05:00:00", w["config"])
    result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], "2024-01-15T05:00:00", w["config"])
    [closure] = events(db, result.crawl_id, "closed")
    lad = closure["lad_code"]
    subscriptions.subscribe(private, db, "early@example.org", lads=[lad], now="2024-01-14T00:00:00+00:00")
    alerts.send_alerts(db, private, s, result.crawl_id, "2024-01-15T06:00:00+00:00",
                       transport=MaildirTransport(s["maildir"]))
    subscriptions.subscribe(private, db, "late@example.org", lads=[lad], now="2024-01-20T00:00:00+00:00")
    reborn = gone.replace(f"<FHRSID>{fhrsid(gone)}</FHRSID>".encode(), b"<FHRSID>9200001</FHRSID>")
    w["fhrs"].override["903"] = rebuild(REAL, [r for r in rows if r is not gone] + [reborn])
    result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], "2024-02-05T05:00:00", w["config"])
    [correction] = events(db, result.crawl_id, "changed_hands")
    alerts.send_alerts(db, private, s, result.crawl_id, "2024-02-05T06:00:00+00:00",
                       transport=MaildirTransport(s["maildir"]))
    mail = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in (w["tmp"] / "mail" / "new").iterdir()]
    early = sorted(m["Subject"].split(":")[0] for m in mail if m["To"] == "early@example.org")
    late = [m.get_body(("plain",)).get_content() for m in mail if m["To"] == "late@example.org"]
    # The early subscriber got the closure, then its correction; the late one, who never heard of the closure,
    # hears of the new registration only, never of a correction.
    assert early == ["Bar closed", "Correction"], early
    assert len(late) == 1 and "not closed" not in late[0] and "Correction" not in late[0]


def test_a_bad_field_never_makes_a_pub_absent(hartlepool):
    w = hartlepool
    rows = details(REAL)
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-01T05:00:00", w["config"])
    victim = rows[3]
    broken = re.sub(rb"<Latitude>[^<]*</Latitude>", b"<Latitude>123.4</Latitude>", victim)   # out of range
    assert broken != victim
    spoilt = rebuild(REAL, [broken if r is victim else r for r in rows])
    # A byte more the second time, so the file is read again (the same bytes would not be: conditional GET).
    for now, body in (("2024-01-08T05:00:00", spoilt), ("2024-01-15T05:00:00", spoilt + b"\n")):
        w["fhrs"].override["903"] = body
        result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], now, w["config"])
        assert result.status == "ok"
        assert events(db, result.crawl_id, "closed") == []
    assert db["pubs"].get(f"fhrs_pubs:{fhrsid(victim)}")["status"] == "open"
    assert db["quarantine"].count == 2                          # quarantined each time, with its reason
    stats = json.loads(db["crawl_runs"].get(result.crawl_id)["stats"])
    assert stats["validate/quarantined_but_seen"] == 1


def test_another_authoritys_file_makes_the_scope_unhealthy(hartlepool):
    w = hartlepool
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-01T05:00:00", w["config"])
    halton = (HERE / "FHRS902en-GB_2024-01-01.xml").read_bytes()
    w["fhrs"].override["903"] = halton                          # Halton's well-formed file at Hartlepool's URL
    for now in ("2024-01-08T05:00:00", "2024-01-15T05:00:00"):
        result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], now, w["config"])
        assert result.status == "failed" and "another authority" in result.reason
        assert events(db, result.crawl_id, "closed") == []
    assert db.execute("select count(*) from pubs where status = 'closed'").fetchone()[0] == 0


def test_a_file_of_other_venues_of_the_same_size_is_unhealthy_by_overlap(hartlepool):
    """Same count, same authority code, different venues (a renumbered register): health looks at overlap."""
    w = hartlepool
    crawl("fhrs_pubs", w["db"], w["server"], "2024-01-01T05:00:00", w["config"])
    renumbered = re.sub(rb"<FHRSID>(\d+)</FHRSID>", lambda m: b"<FHRSID>8" + m.group(1) + b"</FHRSID>", REAL)
    w["fhrs"].override["903"] = renumbered
    result, db, _ = crawl("fhrs_pubs", w["db"], w["server"], "2024-01-08T05:00:00", w["config"])
    assert result.status == "failed"
    assert "only 0 of the 110 open venues known in Hartlepool were listed" in result.reason
