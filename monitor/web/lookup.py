"""Turn what a person types (ward code, postcode, place or ward name) into wards.

A web request asks postcodes.io at most once (all the postcodes of a form in one bulk request, or one place) and
waits for it at most LOOKUP_SECONDS, with no retries: a service that is down or slow is said to be unavailable,
never taken for "no ward found". Ward codes and ward names are matched in the database and need no lookup.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from db.postcode_directory import directory_ward
from db.postcodes import normalise_postcode
from monitor.web import wards as wq

LOOKUP_SECONDS = 2.0
UNAVAILABLE = {"postcode": "Postcode lookup is unavailable just now; try a ward or place name.",
               "place": "Place lookup is unavailable just now; try the ward's name or its code (E05…)."}


@dataclass
class Found:
    """The wards a text names, how they were found, and why a lookup gave no answer ('unavailable' or 'spent')."""
    wards: list[dict]
    how: str = ""            # 'code', 'postcode', 'name', 'place' or ''
    problem: str = ""        # 'unavailable': postcodes.io down or slow; 'spent': this request already asked once


def _resolve(state, keys: list[tuple[str, str]], seconds: float) -> list:
    """Ask the resolver (postcodes.io, cached in the public database) in this thread, once and without retries."""
    from db.resolver import Query, Resolver

    settings = dict(state.settings, http_retries=0, http_timeout=seconds)
    db = state.public_db()
    try:
        resolver = Resolver(db, settings)
        try:
            return resolver.resolve_many([Query(**{kind: value}) for kind, value in keys], now=state.clock())
        finally:
            resolver.postcodes.close()
    finally:
        db.close()


class Lookups:
    """One web request's question to postcodes.io: asked at most once, answered within `seconds` or not at all."""

    def __init__(self, state, seconds: float = LOOKUP_SECONDS):
        self.state, self.seconds = state, seconds
        self.asked = False
        self.answers: dict[tuple[str, str], str | None] = {}
        self.unavailable: set[tuple[str, str]] = set()

    async def ask(self, keys: list[tuple[str, str]]) -> None:
        """Ask about these (kind, value) pairs in one go, unless this request has asked already."""
        if self.asked or not keys:
            return
        self.asked = True
        try:
            found = await asyncio.wait_for(asyncio.to_thread(_resolve, self.state, keys, self.seconds), self.seconds)
        except TimeoutError:
            self.unavailable.update(keys)   # the thread ends by its own timeout; nobody waits for it
            return
        from db.resolver import UNAVAILABLE as FAILED
        for key, resolution in zip(keys, found):
            if resolution.ward_code is None and FAILED in (resolution.reason or ""):
                self.unavailable.add(key)
            else:
                self.answers[key] = resolution.ward_code

    async def ward_code(self, kind: str, value: str) -> tuple[str | None, str]:
        """Return (ward code or None, problem) for a postcode or place, asking if this request has not yet."""
        key = (kind, value)
        if key not in self.answers and key not in self.unavailable:
            await self.ask([key])
        if key in self.unavailable:
            return None, "unavailable"
        if key not in self.answers:
            return None, "spent"
        return self.answers[key], ""


async def find_wards(datasette, state, text: str, lookups: Lookups | None = None) -> Found:
    """Return the wards a text names: a ward code, a postcode, a ward or authority name, else a place."""
    text = (text or "").strip()[:100]
    if not text:
        return Found([])
    lookups = lookups or Lookups(state)
    db = datasette.get_database()
    if wq.WARD_CODE.match(text.upper()):
        found = await db.execute_fn(lambda conn: wq.ward(conn, text))
        return Found([found] if found else [], "code")
    postcode = normalise_postcode(text)
    if postcode:
        held, code = await db.execute_fn(lambda conn: directory_ward(conn, postcode))   # the local directory first
        if held:
            found = await db.execute_fn(lambda conn: wq.ward(conn, code)) if code else None
            return Found([found] if found else [], "postcode")
        return await _ward_from(db, lookups, "postcode", postcode)
    named = await db.execute_fn(lambda conn: wq.wards_named(conn, text))
    if named:
        return Found(named, "name")
    return await _ward_from(db, lookups, "place", text)


async def _ward_from(db, lookups: Lookups, kind: str, value: str) -> Found:
    code, problem = await lookups.ward_code(kind, value)
    found = await db.execute_fn(lambda conn: wq.ward(conn, code)) if code else None
    return Found([found] if found else [], kind, problem)


async def one_ward(datasette, state, text: str, lookups: Lookups) -> tuple[str | None, str]:
    """Return the single ward code a form value names, or None and a sentence saying why not."""
    found = await find_wards(datasette, state, text, lookups)
    exact = [w for w in found.wards if wq.normalise_name(w["name"]) == wq.normalise_name(text)]
    if len(found.wards) == 1 or len(exact) == 1:
        return (found.wards if len(found.wards) == 1 else exact)[0]["code"], ""
    shown = text[:100]
    if found.problem == "unavailable":
        return None, f"“{shown}”: {UNAVAILABLE[found.how]}"
    if found.problem == "spent":
        return None, (f"“{shown}”: only one place can be looked up per form; give this ward by its name, its code "
                      "(E05…) or a postcode in it.")
    if not found.wards:
        return None, f"No ward found for “{shown}”."
    return None, f"“{shown}” matches {len(found.wards)} wards: give a postcode or the ward code (E05…)."


def postcodes_in(values: list[str]) -> list[tuple[str, str]]:
    """Return the (kind, postcode) keys of the form values that are postcodes, to be looked up together."""
    keys = [("postcode", normalise_postcode(v)) for v in values if not wq.WARD_CODE.match(v.strip().upper())]
    return list(dict.fromkeys(k for k in keys if k[1]))
