"""A library's identity across sources and years: which stored library is this row?

The match rule, in order; each stored library is claimed by at most one row of a file:
  1. UPRN: the same Unique Property Reference Number (digits, leading zeros dropped, at least 5 digits, and
     unique within the file: co-located services and mangled values share one, so a shared UPRN is no identity).
  2. Postcode and name: the same postcode (spaces and case ignored), authorities not different (a row without
     one matches any; the 2016 Taskforce list's are derived, spiders/sources/libraries/library_authorities.py; the very same
     name, or the only library at the postcode with one name's words containing the other's, needs no
     authority, as the 2019 file labels Hertfordshire's libraries "Herefordshire"), and names alike: after
     dropping words such as "library", "community", "hub" and apostrophes, one name's words contain the
     other's, or they share at least half their words. When several stored libraries at a postcode qualify,
     the one with the most alike name wins; a tie is no match (unless the tied names are the same). Rows of
     the very same name as a stored library claim first, then the rest in file order.
  The stored library in the row's own open/closed state is preferred; one in the other state is the same
  library as the newest list has it (closed since, or reopened: "the newest healthy list decides").
  3. Authority and name: the same authority and the same normalised name (a library that moved, or whose
     postcode was corrected), the only such stored library and the only such row left in the file, both in
     the row's open/closed state, as an old closed building and its open replacement often share a name; a
     row may also be the only library of its name in the other state (closed since, or reopened) if it is the
     only row of it.
A replacement is a move, not a closure and an opening: a file listing one closed and one open library of the
same authority and name (the 2016 list's "XLR" row and the new building) lists one library, at its new site;
`replaced_rows` finds the old site's row, which the identity pipeline leaves out (counted).
Otherwise the row is a new library, whose ref is the source's own id where it has one (the 2016 list's `id`),
else "uprn:<uprn>", else "key:<authority>|<name>|<postcode>" (a second row with the same key gets "#2").
A matched row takes the stored library's ref, so history, closures and versions stay on one record.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher

from spiders.place_names import name_words, norm_authority, norm_postcode, norm_uprn


def name_likeness(a: frozenset[str], b: frozenset[str]) -> float:
    """1.0 when one name's words contain the other's, else the share of words in common (Jaccard)."""
    if not a or not b:
        return 0.0
    if a <= b or b <= a:
        return 1.0
    jaccard = len(a & b) / len(a | b)
    if jaccard < 0.5 and len(a) == len(b):   # one word misspelt: "Higher Blackely" and "Higher Blackley"
        close = sum(1 for x in a if x in b or any(SequenceMatcher(None, x, y).ratio() >= 0.85 for y in b))
        if close == len(a):
            return 0.9
    return jaccard


@dataclass(frozen=True)
class LibraryKey:
    """What identifies a library: a stored one has its ref, a row has none yet."""
    name: str
    authority: str | None = None
    postcode: str | None = None
    uprn: str | None = None
    ref: str | None = None
    closed: bool = False
    source_id: str | None = None   # a row's own stable id in its source, used as the ref of a new library
    latitude: float | None = None
    longitude: float | None = None

    @property
    def words(self) -> frozenset[str]:
        return name_words(self.name)

    def new_ref(self, uprn_is_unique: bool = True) -> str:
        uprn = norm_uprn(self.uprn) if uprn_is_unique else ""
        if uprn:
            return f"uprn:{uprn}"
        authority = norm_authority(self.authority)
        return f"key:{authority}|{' '.join(sorted(self.words))}|{norm_postcode(self.postcode)}"


def _authorities_agree(a: str | None, b: str | None) -> bool:
    """Unknown on either side, or one's words contain the other's ("kingston upon hull" and "hull")."""
    wa, wb = set(norm_authority(a).split()), set(norm_authority(b).split())
    return not wa or not wb or wa <= wb or wb <= wa


def match_refs(rows: list[LibraryKey], known: list[LibraryKey], counts: Counter | None = None) -> list[str]:
    """Return the ref of each row: a stored library's when the rule matches, else a new one (counted by rule)."""
    counts = counts if counts is not None else Counter()
    refs: list[str | None] = [None] * len(rows)
    claimed: set[str] = set()
    file_uprns = Counter(norm_uprn(r.uprn) for r in rows)
    by_uprn = {norm_uprn(k.uprn): k for k in known if norm_uprn(k.uprn)}
    for i, row in enumerate(rows):                                     # rule 1
        uprn = norm_uprn(row.uprn)
        k = by_uprn.get(uprn) if uprn and file_uprns[uprn] == 1 else None
        if k and k.ref not in claimed:
            refs[i] = k.ref
            claimed.add(k.ref)
            counts["library_match/uprn"] += 1
    by_postcode: dict[str, list[LibraryKey]] = {}
    for k in known:
        by_postcode.setdefault(norm_postcode(k.postcode), []).append(k)
    # A row with the very same name as a stored library at its postcode claims it first, so a closed namesake
    # of a library (its old building, whose own postcode a later list dropped) does not take the open one.
    best = {i: _candidates(row, by_postcode, claimed)[:1] for i, row in enumerate(rows)
            if not refs[i] and norm_postcode(row.postcode)}
    order = sorted(best, key=lambda i: not (best[i] and best[i][0][2].words == rows[i].words))
    for i in order:                                                    # rule 2
        scored = _candidates(rows[i], by_postcode, claimed)
        # A tie between stored libraries of the very same name is one library stored twice: take the first.
        if scored and (len(scored) == 1 or scored[0][:2] != scored[1][:2] or scored[0][2].words == scored[1][2].words):
            refs[i] = scored[0][2].ref
            claimed.add(refs[i])
            counts["library_match/postcode_name"] += 1
    _match_by_name(rows, known, refs, claimed, counts)                 # rule 3
    taken = Counter({k.ref: 1 for k in known} | {r: 1 for r in refs if r})   # a new ref never reuses a stored one
    for i, row in enumerate(rows):
        if not refs[i]:
            ref = row.source_id or row.new_ref(file_uprns[norm_uprn(row.uprn)] == 1)
            taken[ref] += 1
            refs[i] = ref if taken[ref] == 1 else f"{ref}#{taken[ref]}"
            counts["library_match/new"] += 1
    return refs


def replaced_rows(rows: list[LibraryKey]) -> set[int]:
    """Return the indices of closed rows whose authority lists exactly one closed and one open library of their
    name in the same file: the old site of a library that moved (its replacement is the open row)."""
    def key(k: LibraryKey):
        return (norm_authority(k.authority), " ".join(sorted(k.words)))

    states: dict[tuple, list[int]] = {}
    for i, row in enumerate(rows):
        if row.authority:
            states.setdefault(key(row), []).append(i)
    return {i for group in states.values() if len(group) == 2 and rows[group[0]].closed != rows[group[1]].closed
            for i in group if rows[i].closed}


def _candidates(row: LibraryKey, by_postcode: dict, claimed: set) -> list[tuple[float, bool, LibraryKey]]:
    """Return the stored libraries at the row's postcode it may be, most alike first (rule 2)."""
    here = by_postcode.get(norm_postcode(row.postcode), [])
    # The authority is not asked of the only library at a postcode whose name one name's words contain: a
    # source's mislabelled authority (the 2019 file's "Herefordshire" for Hertfordshire) is no other library.
    alone = len(here) == 1 and (row.words <= here[0].words or here[0].words <= row.words)
    # Score: name likeness, then the same open/closed state (an old closed building and its replacement
    # share a name and postcode), then the ref, so the choice is stable.
    scored = sorted(((name_likeness(row.words, k.words), k.closed == row.closed, k) for k in here
                     if k.ref not in claimed
                     and (alone or row.words == k.words or _authorities_agree(row.authority, k.authority))),
                    key=lambda s: (-s[0], not s[1], s[2].ref))
    return [s for s in scored if s[0] >= 0.5]


def _match_by_name(rows, known, refs, claimed, counts) -> None:
    def key(k: LibraryKey):
        return (norm_authority(k.authority), " ".join(sorted(k.words)))

    # An old closed building and its open replacement often share a name: each row looks first for the stored
    # library in its own state, and must be the only row left of that name and state. A row may also be a
    # library in the other state (closed since, or reopened), when none in its own state has the name and it is
    # the only row of the name.
    pending = [i for i, row in enumerate(rows) if not refs[i] and row.authority]
    row_keys = Counter(key(rows[i]) for i in pending)
    row_state_keys = Counter((key(rows[i]), rows[i].closed) for i in pending)
    stored: dict[tuple, list[LibraryKey]] = {}
    for k in known:
        if k.authority:
            stored.setdefault(key(k), []).append(k)
    for i in pending:
        row = rows[i]
        same_state = [k for k in stored.get(key(row), []) if k.closed == row.closed]
        other_state = [k for k in stored.get(key(row), []) if k.closed != row.closed]
        if len(same_state) == 1 and row_state_keys[(key(row), row.closed)] == 1:
            k = same_state[0]
        elif not same_state and len(other_state) == 1 and row_keys[key(row)] == 1:
            k = other_state[0]
        else:
            continue
        if k.ref not in claimed:
            refs[i] = k.ref
            claimed.add(k.ref)
            counts["library_match/authority_name"] += 1


def known_libraries(db, source: str = "libraries") -> list[LibraryKey]:
    """Read the stored libraries' identities (a crawl matches its rows against what earlier crawls stored)."""
    if not db["libraries"].exists() or "uprn" not in db["libraries"].columns_dict:
        return []
    rows = db.execute("select ref, name, authority, postcode, uprn, source_status, latitude, longitude "
                      "from libraries where source = ?", [source])
    return [LibraryKey(name=n or "", authority=a, postcode=p, uprn=u, ref=r, closed=st == "closed", latitude=lat,
                       longitude=lng) for r, n, a, p, u, st, lat, lng in rows.fetchall()]
