"""Resolve records to 2017 best-fit wards by the ordered chain of the architecture, a batch at a time.

ward_code -> lsoa -> ward_alias -> point -> postcode (-> its LSOA, else its point) -> place (-> its point),
else unresolved with a reason. A postcode is looked up in the local postcode directory first (a terminated one
where it last was) and postcodes.io is asked only about those it lacks. Every answer names the step that gave it;
`Resolver.counts` counts each step, fallback and failure (postcode/directory and postcode/postcodes_io: which
answered). Reference tables are loaded into dicts once; points of a batch go to the ward index together.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from core.errors import PostcodesError
from db.postcode_directory import TABLE as DIRECTORY
from db.postcode_directory import directory_rows
from db.postcodes import PostcodesClient, normalise_place, normalise_postcode

OUTSIDE = "outside England"
UNAVAILABLE = "postcodes.io unavailable"
NOT_ENGLISH = {"Wales", "Scotland", "Northern Ireland", "Channel Islands", "Isle of Man"}
NON_ENGLISH_PREFIXES = ("W", "S", "N", "L", "M")   # GSS codes of Wales, Scotland, NI, Channel Islands, Man


@dataclass(frozen=True)
class Query:
    """What a record says about where it is; any field may be missing."""
    ward_code: str | None = None
    lsoa_code: str | None = None
    lat: float | None = None
    lng: float | None = None
    postcode: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The 2017 ward a record resolved to and the step that answered, or None and the reason."""
    ward_code: str | None
    method: str | None
    reason: str | None = None


def _coord(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _code(v) -> str | None:
    return v.strip().upper() if isinstance(v, str) and v.strip() else None


class _Pending:
    """One query's progress through the chain."""
    __slots__ = ("query", "ward_code", "method", "reasons")

    def __init__(self, query: Query):
        self.query = query
        self.ward_code: str | None = None
        self.method: str | None = None
        self.reasons: list[str] = []

    def done(self) -> bool:
        return self.ward_code is not None

    def answer(self, ward_code: str, method: str) -> None:
        self.ward_code, self.method = ward_code, method

    def result(self) -> Resolution:
        if self.ward_code:
            return Resolution(self.ward_code, self.method)
        return Resolution(None, None, "; ".join(dict.fromkeys(self.reasons)) or "no location")


class Resolver:
    """Resolve queries to 2017 best-fit ward codes; one instance per crawl (it holds the reference dicts)."""

    def __init__(self, db: sqlite_utils.Database, settings: dict, client=None, ward_index=None,
                 postcodes: PostcodesClient | None = None, strict: bool = False):
        self.db = db
        self.wards = {r["code"]: r for r in db.query(
            "select code, name, lad_code, left_behind, other_deprived from wards")}
        self.lsoas = dict(db.execute("select code, ward_code from lsoas").fetchall())
        self.aliases = dict(db.execute("select code, ward_code from ward_aliases").fetchall())
        self.postcodes = postcodes or PostcodesClient(db, settings, client=client)
        self.has_directory = db[DIRECTORY].exists()
        self._ward_index = ward_index
        self.strict = strict          # raise PostcodesError instead of leaving the items unresolved
        self.counts: Counter[str] = Counter()

    @property
    def ward_index(self):
        if self._ward_index is None:
            from db.geography import ward_index
            self._ward_index = ward_index()
        return self._ward_index

    def resolve_one(self, query: Query, now=None) -> Resolution:
        """Resolve a single query."""
        return self.resolve_many([query], now)[0]

    def resolve_many(self, queries: list[Query], now=None) -> list[Resolution]:
        """Resolve a batch: codes by dict, all points in one index call, postcodes and places in bulk."""
        pending = [_Pending(q) for q in queries]
        for p in pending:
            self._by_codes(p)
        self._by_points([p for p in pending if not p.done()])
        self._by_postcodes([p for p in pending if not p.done() and _code(p.query.postcode)], now)
        self._by_places([p for p in pending if not p.done() and _code(p.query.place)], now)
        results = [p.result() for p in pending]
        for r in results:
            self.counts[f"method/{r.method}" if r.ward_code else f"unresolved/{r.reason}"] += 1
        return results

    def ward(self, code: str | None) -> dict | None:
        """Return the ward row (code, name, lad_code, left_behind, other_deprived) of a 2017 code."""
        return self.wards.get(code) if code else None

    def _by_codes(self, p: _Pending) -> None:
        ward, lsoa = _code(p.query.ward_code), _code(p.query.lsoa_code)
        if ward and ward in self.wards:
            return p.answer(ward, "ward_code")
        if lsoa:
            if lsoa in self.lsoas:
                return p.answer(self.lsoas[lsoa], "lsoa")
            p.reasons.append(OUTSIDE if lsoa.startswith(NON_ENGLISH_PREFIXES) else "unknown LSOA code")
        if ward:
            if ward in self.aliases:
                return p.answer(self.aliases[ward], "ward_alias")
            p.reasons.append(OUTSIDE if ward.startswith(NON_ENGLISH_PREFIXES) else "ward code has no 2017 ward")

    def _locate(self, pending: list[_Pending], coords: list[tuple[float, float]], method: str) -> None:
        """Answer each pending item from its (lat, lng) by one vectorised call to the ward index."""
        if not pending:
            return
        lats, lngs = np.array(coords, dtype=float).reshape(-1, 2).T
        for p, code in zip(pending, self.ward_index.locate(lats, lngs)):
            if code is None:
                p.reasons.append(OUTSIDE)
            else:
                p.answer(code, method)

    def _by_points(self, pending: list[_Pending]) -> None:
        with_point, coords = [], []
        for p in pending:
            lat, lng = _coord(p.query.lat), _coord(p.query.lng)
            if lat is not None and lng is not None:
                with_point.append(p)
                coords.append((lat, lng))
        self._locate(with_point, coords, "point")

    def _by_postcodes(self, pending: list[_Pending], now) -> None:
        valid: dict[int, str] = {}
        for i, p in enumerate(pending):
            pc = normalise_postcode(p.query.postcode)
            if pc:
                valid[i] = pc
            else:
                p.reasons.append("invalid postcode")
        to_locate: list[_Pending] = []
        coords: list[tuple[float, float]] = []
        held = directory_rows(self.db.conn, sorted(set(valid.values()))) if self.has_directory else {}
        for i in [i for i, pc in valid.items() if pc in held]:
            self._from_directory(pending[i], held[valid.pop(i)], to_locate, coords)
        answers = self._lookup(self.postcodes.postcodes, set(valid.values()), now, "postcode")
        if answers is None:
            for i in valid:
                pending[i].reasons.append(UNAVAILABLE)
            valid = {}
        for i, pc in valid.items():
            p, found = pending[i], answers.get(pc)
            if not found:
                p.reasons.append("postcode not found")
                continue
            self.counts["postcode/postcodes_io"] += 1
            if found.get("country") in NOT_ENGLISH:
                p.reasons.append(OUTSIDE)
            elif self._postcode_lsoa(found):
                self.counts["postcode/lsoa"] += 1
                p.answer(self.lsoas[self._postcode_lsoa(found)], "postcode")
            elif _coord(found.get("latitude")) is not None and _coord(found.get("longitude")) is not None:
                self.counts["postcode/point"] += 1
                to_locate.append(p)
                coords.append((found["latitude"], found["longitude"]))
            else:
                p.reasons.append("postcode has no location")
        self._locate(to_locate, coords, "postcode")

    def _from_directory(self, p: _Pending, row: tuple, to_locate: list, coords: list) -> None:
        """Answer from a directory row (lsoa11, lat, long, terminated): its LSOA when ours, else its point."""
        lsoa, lat, lng, terminated = row
        self.counts["postcode/directory"] += 1
        if terminated:
            self.counts["postcode/directory_terminated"] += 1     # placed where it last was
        if lsoa in self.lsoas:
            self.counts["postcode/lsoa"] += 1
            p.answer(self.lsoas[lsoa], "postcode")
        elif lsoa and lsoa.startswith(NON_ENGLISH_PREFIXES):
            p.reasons.append(OUTSIDE)
        elif lat is not None and lng is not None:
            self.counts["postcode/point"] += 1
            to_locate.append(p)
            coords.append((lat, lng))
        else:
            p.reasons.append("postcode has no location")

    def _postcode_lsoa(self, found: dict) -> str | None:
        """Return the postcode's 2011 LSOA code when it is one of ours (codes.lsoa is 2021 on the live API)."""
        codes = found.get("codes") or {}
        return next((c for c in (codes.get("lsoa11"), codes.get("lsoa")) if c in self.lsoas), None)

    def _by_places(self, pending: list[_Pending], now) -> None:
        queries = {id(p): normalise_place(p.query.place) for p in pending}
        answers = self._lookup(self.postcodes.places, {q for q in queries.values() if q}, now, "place")
        to_locate, coords = [], []
        for p in pending:
            q = queries[id(p)]
            if answers is None:
                p.reasons.append(UNAVAILABLE)
                continue
            matches = answers.get(q, []) if q else []
            best = best_place(q, matches) if q else None
            if sum(_place_name(m) == q for m in matches) > 1:
                self.counts["place/ambiguous"] += 1      # e.g. two Newports: the first exact match is taken
            if best is None:
                p.reasons.append("place not found")
            elif best.get("country") in NOT_ENGLISH:
                p.reasons.append(OUTSIDE)
            else:
                to_locate.append(p)
                coords.append((best["latitude"], best["longitude"]))
        self._locate(to_locate, coords, "place")

    def _lookup(self, fetch, keys: set[str], now, what: str):
        """Call a postcodes.io lookup; on failure count it and return None, unless strict."""
        if not keys:
            return {}
        try:
            return fetch(sorted(keys), now)
        except PostcodesError:
            self.counts[f"{what}/lookup_failed"] += 1
            if self.strict:
                raise
            return None


def best_place(query: str, matches: list[dict]) -> dict | None:
    """Pick the match whose name equals the query (else the first), among those with coordinates."""
    located = [m for m in matches if _coord(m.get("latitude")) is not None and _coord(m.get("longitude")) is not None]
    for m in located:
        if _place_name(m) == query.lower():
            return m
    return located[0] if located else None


def _place_name(match: dict) -> str:
    # The live API names a place in name_1; an older documented shape uses place_name.
    return (match.get("name_1") or match.get("place_name") or "").lower()
