"""Changed hands: a venue gone from its register whose address is registered again under a new id.

When a pub changes operator, the food hygiene register drops the old FHRSID and lists a new one at the same
address (the name may change too). That is one venue, not a closure and a new pub. The rule:
  - the address key is the postcode (spaces and case ignored) and the address (case, punctuation and white
    space ignored; "&" is "and"); a record without both has no key and never pairs;
  - a record due to close by absence pairs with a record of the same scope and key that is open, seen in this
    crawl, first seen after the old one was, and succeeds nothing yet; only one-to-one pairs count (two
    venues gone and two new at one address are left as closures: which is which cannot be told);
  - a closure by absence raised within `changed_hands_window_weeks` before a new registration at its address
    (first seen after the closed one was last seen) is superseded: the `changed_hands` event names the closure
    event it corrects, which is marked superseded (alerts send a correction to those who got it).
The old record gets status `changed_hands` and `succeeded_by`; the new one `succeeds`: it counts once, as open.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

_NOT_WORD = re.compile(r"[^a-z0-9 ]")


def address_key(address: str | None, postcode: str | None) -> str | None:
    """Return 'POSTCODE|address words', or None when either part is missing."""
    code = re.sub(r"[^A-Z0-9]", "", (postcode or "").upper())
    words = " ".join(_NOT_WORD.sub(" ", (address or "").lower().replace("&", " and ")).split())
    return f"{code}|{words}" if code and words else None


def one_to_one(olds: list[dict], news: list[dict], allowed) -> list[tuple[dict, dict]]:
    """Pair old and new records by address key where each key has exactly one of each and allowed(old, new)."""
    by_key: dict[str, tuple[list, list]] = {}
    for row in olds:
        key = address_key(row["address"], row["postcode"])
        if key:
            by_key.setdefault(key, ([], []))[0].append(row)
    for row in news:
        key = address_key(row["address"], row["postcode"])
        if key in by_key:
            by_key[key][1].append(row)
    pairs = []
    for old_rows, new_rows in by_key.values():
        if len(old_rows) == 1:
            fitting = [n for n in new_rows if allowed(old_rows[0], n)]
            if len(fitting) == 1:
                pairs.append((old_rows[0], fitting[0]))
    return pairs


_COLUMNS = "r.id, r.ref, r.name, r.address, r.postcode, r.ward_code, r.first_crawl_id, r.last_crawl_id, r.closed_at"


def _rows(step, where: str, params: list) -> list[dict]:
    sql = (f"select {_COLUMNS}, {step.lad} as lad_code from [{step.table}] r left join wards w on w.code = "
           f"r.ward_code where r.source = ? and r.scope = ? and {where} order by r.id")
    return list(step.db.query(sql, [step.source, step.scope, *params]))


def successors(step) -> list[dict]:
    """Return the scope's open records seen in this crawl that succeed nothing yet."""
    return _rows(step, "r.last_crawl_id = ? and coalesce(r.status, 'open') = 'open' and r.succeeds is null",
                 [step.crawl_id])


def record_change(step, old: dict, new: dict, rule: str, supersedes: int | None = None) -> int:
    """Write the `changed_hands` event for a pair and link the two records; return the event id."""
    evidence = {"rule": rule, "old_id": old["ref"], "new_id": new["ref"], "old_name": old["name"],
                "new_name": new["name"], "address": old["address"], "postcode": old["postcode"]}
    if supersedes:
        evidence["supersedes_event"] = supersedes
    event_id = step.db["events"].insert({
        "kind": "changed_hands", "source": step.source, "record_id": old["id"], "ref": old["ref"],
        "name": old["name"], "ward_code": old["ward_code"], "lad_code": old["lad_code"], "at": step.now,
        "crawl_id": step.crawl_id, "evidence": json.dumps(evidence), "baseline": step.baseline}, pk="id").last_pk
    step.db.execute(f"update [{step.table}] set status = 'changed_hands', closed_at = null, closed_by = null, "
                    "succeeded_by = ? where id = ?", [new["id"], old["id"]])
    step.db.execute(f"update [{step.table}] set succeeds = ? where id = ?", [old["id"], new["id"]])
    return event_id


def changed_instead_of_closed(step, due_where: str, params: list) -> int:
    """Record a change of hands for each record due to close by absence that pairs with a new one; count them."""
    due = _rows(step, due_where, params)
    if not due:
        return 0
    pairs = one_to_one(due, successors(step), lambda old, new: new["first_crawl_id"] > old["first_crawl_id"])
    for old, new in pairs:
        record_change(step, old, new, f"gone from {step.scope}'s register and registered again at the same "
                                      "address under a new id")
    return len(pairs)


def supersede_closures(step, window_weeks: float) -> int:
    """Turn recent closures by absence into changes of hands when a new registration took the address."""
    since = (datetime.fromisoformat(step.now) - timedelta(weeks=window_weeks)).isoformat()
    closed = _rows(step, "r.status = 'closed' and r.closed_by = 'absence' and r.closed_at >= ?", [since])
    if not closed:
        return 0
    pairs = one_to_one(closed, successors(step), lambda old, new: new["first_crawl_id"] > old["last_crawl_id"])
    for old, new in pairs:
        closure = step.db.execute("select max(id) from events where record_id = ? and kind = 'closed'",
                                  [old["id"]]).fetchone()[0]
        event_id = record_change(step, old, new, f"a new registration at the address of a venue closed on "
                                                 f"{old['closed_at'][:10]}: it changed hands", supersedes=closure)
        if closure:
            step.db.execute("update events set superseded_by = ? where id = ?", [event_id, closure])
    return len(pairs)
