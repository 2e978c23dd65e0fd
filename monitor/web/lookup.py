"""Turn what a person types (ward code, postcode, place or ward name) into wards."""
from __future__ import annotations

import asyncio

from db.postcode_directory import directory_ward
from db.postcodes import normalise_postcode
from monitor.web import wards as wq


def _resolve(state, postcode: str | None = None, place: str | None = None) -> str | None:
    """Ask the resolver (postcodes.io, cached in the public database) in this thread; return a ward code."""
    from db.resolver import Query, Resolver

    db = state.public_db()
    try:
        found = Resolver(db, state.settings).resolve_one(Query(postcode=postcode, place=place), now=state.clock())
    finally:
        db.close()
    return found.ward_code


async def find_wards(datasette, state, text: str) -> tuple[list[dict], str]:
    """Return the matching wards and how they were found ('code', 'postcode', 'name', 'place' or '')."""
    text = (text or "").strip()[:100]
    if not text:
        return [], ""
    db = datasette.get_database()
    if wq.WARD_CODE.match(text.upper()):
        found = await db.execute_fn(lambda conn: wq.ward(conn, text))
        return ([found] if found else []), "code"
    postcode = normalise_postcode(text)
    if postcode:
        held, code = await db.execute_fn(lambda conn: directory_ward(conn, postcode))   # the local directory first
        if not held:
            code = await asyncio.to_thread(_resolve, state, postcode=postcode)
        found = await db.execute_fn(lambda conn: wq.ward(conn, code)) if code else None
        return ([found] if found else []), "postcode"
    named = await db.execute_fn(lambda conn: wq.wards_named(conn, text))
    if named:
        return named, "name"
    code = await asyncio.to_thread(_resolve, state, place=text)
    found = await db.execute_fn(lambda conn: wq.ward(conn, code)) if code else None
    return ([found] if found else []), "place"


async def one_ward(datasette, state, text: str) -> tuple[str | None, str]:
    """Return the single ward code a form value names, or None and a sentence saying why not."""
    found, how = await find_wards(datasette, state, text)
    exact = [w for w in found if wq.normalise_name(w["name"]) == wq.normalise_name(text)]
    if len(found) == 1 or len(exact) == 1:
        return (found if len(found) == 1 else exact)[0]["code"], ""
    if not found:
        return None, f"No ward found for “{text[:100]}”."
    return None, f"“{text[:100]}” matches {len(found)} wards: give a postcode or the ward code (E05…)."
