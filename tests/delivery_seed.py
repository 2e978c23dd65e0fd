"""Seed a public database with records, events, crawls and indicators for the delivery tests."""
from __future__ import annotations

import json

from core.config import defaults

LB_WARD = "E05000028"        # Becontree, Barking and Dagenham: left behind
LB_WARD_2 = "E05000652"      # Breightmet, Bolton: left behind
OTHER_WARD = "E05000027"     # Alibon, Barking and Dagenham: not left behind
HOSTILE = "<script>alert(1)</script>\r\nBcc: victim@example.net"


def settings(tmp_path, **over) -> dict:
    base = {**defaults(), "smtp_password": "", "maildir": str(tmp_path / "mail"),
            "datasette_url": "http://127.0.0.1:8001", "unsubscribe_url": "http://127.0.0.1:8001/unsubscribe"}
    base.update(over)
    return base


def add_crawl(db, source: str, at: str, healthy: bool = True, items: int = 10, reason: str = "") -> int:
    crawl_id = db["crawl_runs"].insert({
        "source": source, "scope": source, "started_at": at, "finished_at": at, "now": at,
        "status": "ok" if healthy else "failed", "reason": reason, "items": items,
        "healthy_scopes": 1 if healthy else 0, "unhealthy_scopes": 0 if healthy else 1}).last_pk
    db["scope_runs"].insert({"crawl_id": crawl_id, "source": source, "scope": source, "items": items,
                             "errors": 0 if healthy else 1, "healthy": int(healthy), "reason": reason, "at": at})
    return crawl_id


def add_record(db, table: str, source: str, ref: str, name: str, ward: str | None, **extra) -> str:
    rid = f"{source}:{ref}"
    db[table].insert({"id": rid, "source": source, "ref": ref, "scope": source, "name": name, "ward_code": ward,
                      "status": extra.pop("status", "open"), "licence": None, **extra}, alter=True)
    return rid


def add_event(db, kind: str, source: str, record_id: str, name: str, ward: str | None, crawl_id: int, at: str,
              lad: str | None = None, baseline: int = 0, evidence: dict | None = None) -> int:
    if ward and not lad:
        lad = db.execute("select lad_code from wards where code = ?", [ward]).fetchone()[0]
    return db["events"].insert({
        "kind": kind, "source": source, "record_id": record_id, "ref": record_id.split(":", 1)[1], "name": name,
        "ward_code": ward, "lad_code": lad, "at": at, "crawl_id": crawl_id,
        "evidence": json.dumps(evidence or {}), "baseline": baseline}).last_pk


def seed_pub_crawl(db, at: str = "2024-03-05T05:10:00+00:00") -> int:
    """A healthy pubs crawl that closed a pub in a left-behind ward, reopened one, and one baseline event."""
    crawl = add_crawl(db, "fhrs_pubs", at)
    red = add_record(db, "pubs", "fhrs_pubs", "1001", "The Red Lion", LB_WARD, status="closed",
                     address="1 High Road, Dagenham", postcode="RM8 1AA")
    crown = add_record(db, "pubs", "fhrs_pubs", "1002", "The Crown", LB_WARD, address="2 High Road")
    other = add_record(db, "pubs", "fhrs_pubs", "1003", "The Bull", OTHER_WARD)
    add_event(db, "closed", "fhrs_pubs", red, "The Red Lion", LB_WARD, crawl, at,
              evidence={"reason": "missing from 2 consecutive healthy crawls", "missing_crawls": 2})
    add_event(db, "reopened", "fhrs_pubs", crown, "The Crown", LB_WARD, crawl, at,
              evidence={"reason": "back in the register"})
    add_event(db, "closed", "fhrs_pubs", other, "The Bull", OTHER_WARD, crawl, at, baseline=1)
    return crawl


def seed_indicators(db, runs: list[tuple[str, float]]) -> None:
    """Indicator rows per run: (computed_at, scale) — values grow with scale so changes are visible."""
    for computed_at, scale in runs:
        for indicator, lb, od, en in (("mutual_aid_groups_per_100k", 3.5, 7.7, 10.6),
                                      ("covid_grants_gbp_per_100k", 21182, 50054, 60312),
                                      ("open_pubs_per_100k", 20.1, 24.3, 31.0)):
            for group, value in (("left_behind", lb), ("other_deprived", od), ("england", en)):
                db["indicators"].insert({
                    "computed_at": computed_at, "indicator": indicator, "area_group": group,
                    "numerator": value * scale, "population": 100000, "value": round(value * scale, 2),
                    "coverage": json.dumps({"share": 1.0}), "window_from": None, "window_to": None})
