"""The register week by week: built once in proportion to the real pub counts, then changed as planted.

Between weeks: closures (gone from then on: closed after two healthy crawls without them), changes of hands (a new
FHRSID at the same address and postcode), renamings (same FHRSID, new name: a `changed` event) and openings; in
week 2 one authority's file is cut short and another's is renumbered (both unhealthy, both back the week after).
Authorities that are cut short or renumbered get no other planted change, so no closure waits on them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from bench.national.geography import Placer, authorities
from bench.national.register import AuthorityRegister, Pool, new_venue, write_file
from bench.national.truth import Truth
from spiders.sources.fhrs_pubs.replay_build import authority_row

SOURCE = "fhrs_pubs"
PUBS_AT_SCALE_1, ESTABLISHMENTS_AT_SCALE_1 = 50_000, 500_000
MIN_PUBS = 5            # below this the overlap check does not apply, and a cut-short file could not show
RENUMBER_BY = 500_000_000
# Planted each week, as shares of the pubs (at least one each): about what a real week of the register changes.
RATES = {"closed": 0.002, "changed_hands": 0.001, "renamed": 0.002, "opened": 0.001}


class PubsPlan:
    def __init__(self, scale: float, rng: np.random.Generator, truth: Truth):
        self.rng, self.truth, self.pool = rng, truth, Pool()
        self.placer = Placer(rng)
        auths = authorities()
        total = sum(a.pubs_2018 for a in auths)
        self.registers: dict[str, AuthorityRegister] = {}
        self.next_id = 10_000_000
        # The file cut short and the renumbered one: two of the fifty biggest authorities, with pubs enough to show.
        big = sorted(auths, key=lambda a: -a.pubs_2018)[:50]
        self.cut, self.renumbered = (big[int(i)].code for i in rng.choice(len(big), size=2, replace=False))
        for a in auths:
            share = a.pubs_2018 / total
            pubs = max(MIN_PUBS, round(PUBS_AT_SCALE_1 * scale * share))
            if a.code in (self.cut, self.renumbered):
                pubs = max(pubs, 2 * MIN_PUBS)
            reg = AuthorityRegister(a)
            for point in self.placer.points(a, pubs):
                venue = new_venue(reg, self.take_id(), self.pool, self.placer, rng, point)
                reg.pubs[venue.fhrsid] = venue
            reg.others = max(0, round(ESTABLISHMENTS_AT_SCALE_1 * scale * share) - pubs)
            reg.first_other, self.next_id = self.next_id, self.next_id + reg.others
            self.registers[a.code] = reg
        self.published = {code: None for code in self.registers}   # code -> LastPublishedDate
        self.touched: set[int] = set()
        self.removed: dict[str, dict[int, int]] = {}   # code -> week -> venues planted gone

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def pubs(self) -> int:
        return sum(len(r.pubs) for r in self.registers.values())

    def plant(self, week: int, weeks: int) -> set[str]:
        """Apply the week's planted changes; return the codes of the authorities whose file changed."""
        changed: set[str] = set()
        if week == 1:
            return set(self.registers)
        for code in (self.cut, self.renumbered):   # back as they were after their week
            reg = self.registers[code]
            if reg.keep_share < 1 or reg.renumber_by:
                reg.keep_share, reg.renumber_by = 1.0, 0
                changed.add(code)
        if week == 2:
            self.registers[self.cut].keep_share = 0.5
            self.registers[self.renumbered].renumber_by = RENUMBER_BY
            for code in (self.cut, self.renumbered):
                self.truth.unhealthy.add((SOURCE, self.registers[code].authority.name, week))
                changed.add(code)
        n = {k: max(1, round(self.pubs() * r)) for k, r in RATES.items()}
        eligible = [c for c in self.registers if c not in (self.cut, self.renumbered)]
        if week < weeks:   # a closure or change of hands is concluded by the next week's crawl
            for reg, venue in self.pick(eligible, n["closed"], week, removal=True):
                del reg.pubs[venue.fhrsid]
                self.truth.plant("closed", SOURCE, venue.fhrsid, week + 1)
                changed.add(reg.authority.code)
            for reg, venue in self.pick(eligible, n["changed_hands"], week, removal=True):
                del reg.pubs[venue.fhrsid]
                successor = type(venue)(self.take_id(), self.other_name(venue.name), venue.street, venue.postcode,
                                        venue.lat, venue.lng, venue.ward)
                reg.pubs[successor.fhrsid] = successor
                self.removed[reg.authority.code][-week] = self.removed[reg.authority.code].get(-week, 0) + 1
                self.touched.add(successor.fhrsid)
                self.truth.plant("new", SOURCE, successor.fhrsid, week)
                self.truth.plant("changed_hands", SOURCE, venue.fhrsid, week + 1)
                changed.add(reg.authority.code)
        for reg, venue in self.pick(eligible, n["renamed"], week):
            venue.name = self.other_name(venue.name)
            self.truth.plant("changed", SOURCE, venue.fhrsid, week)
            changed.add(reg.authority.code)
        for _ in range(n["opened"]):
            reg = self.registers[eligible[int(self.rng.integers(len(eligible)))]]
            venue = new_venue(reg, self.take_id(), self.pool, self.placer, self.rng)
            reg.pubs[venue.fhrsid] = venue
            self.touched.add(venue.fhrsid)
            self.truth.plant("new", SOURCE, venue.fhrsid, week)
            changed.add(reg.authority.code)
        return changed

    def pick(self, codes: list[str], n: int, week: int, removal: bool = False):
        """Yield up to n (register, venue) not planted before, from authorities chosen by their number of pubs.

        A removal is planted only where the venues gone from a file, this week's and last week's (still known
        open until closed), stay within a fifth of those it lists: more would rightly make the file unhealthy.
        """
        weights = np.array([len(self.registers[c].pubs) for c in codes], dtype=float)
        done = tries = 0
        while done < n and tries < 100 * n:
            tries += 1
            reg = self.registers[codes[int(self.rng.choice(len(codes), p=weights / weights.sum()))]]
            free = [v for v in reg.pubs.values() if v.fhrsid not in self.touched]
            gone = self.removed.setdefault(reg.authority.code, {})
            pending = gone.get(week, 0) + gone.get(week - 1, 0)
            known = len(reg.pubs) + pending - gone.get(-week, 0)   # successors listed this week are not known yet
            if not free or (removal and 5 * (pending + 1) > known):
                continue
            venue = free[int(self.rng.integers(len(free)))]
            self.touched.add(venue.fhrsid)
            if removal:
                gone[week] = gone.get(week, 0) + 1
            done += 1
            yield reg, venue

    def other_name(self, name: str) -> str:
        while True:
            new = self.pool.names[int(self.rng.integers(len(self.pool.names)))]
            if new != name:
                return new

    def write(self, out: Path, previous: Path | None, date: str, changed: set[str]) -> dict[str, int]:
        """Write the week's /Authorities listing and files (unchanged files linked from last week's); return
        the pubs listed per authority code."""
        fhrs = out / "fhrs"
        fhrs.mkdir(parents=True, exist_ok=True)
        listed, rows = {}, []
        for code, reg in self.registers.items():
            a, target = reg.authority, fhrs / reg.authority.file_name
            if code in changed or previous is None:
                listed[code] = write_file(reg, target, date)
                self.published[code] = date
            else:
                os.link(previous / "fhrs" / a.file_name, target)
                listed[code] = len(reg.pubs)
            row = authority_row(a.name, a.region, a.la_id, a.code, len(reg.pubs) + reg.others)
            row.update(LastPublishedDate=f"{self.published[code]}T00:00:00")
            rows.append(row)
        payload = {"authorities": rows, "meta": {"dataSource": None, "extractDate": f"{date}T00:00:00",
                                                 "itemCount": len(rows), "returncode": "OK", "totalCount": len(rows),
                                                 "totalPages": 1, "pageSize": len(rows), "pageNumber": 1},
                   "links": []}
        (fhrs / "authorities.json").write_text(json.dumps(payload), encoding="utf-8")
        return listed
