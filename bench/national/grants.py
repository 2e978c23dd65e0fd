"""The simulated 360Giving registry: publishers' files of real grants under new ids, in JSON, CSV and XLSX.

Every grant is one of the replay data's 5,140 real grants (three GrantNav test packages) under a new id. File sizes
are heavy-tailed (a few publishers hold most grants, as on the real registry); formats by publisher are mostly
XLSX, then CSV, then JSON (datagetter's "xlsx mostly"; the shares are this benchmark's assumption). Each week from
the second, about 1% of the grants are retitled, a tenth of the grants of each file touched, and one publisher
leaves the registry in week 2 (its grants stay stored and must raise nothing).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from bench.bench_ingest import real_grants
from bench.national.calendar import week_date
from bench.national.truth import Truth
from spiders.sources.threesixty_giving.replay import HERE
from spiders.sources.threesixty_giving.replay_tables import CSV_COLUMNS, flat

SOURCE = "threesixty_giving"
GRANTS_AT_SCALE_1, PUBLISHERS_AT_SCALE_1 = 1_000_000, 250
FORMATS = {"xlsx": 0.60, "csv": 0.25, "json": 0.15}
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CHANGED_SHARE, SHARE_OF_A_FILE = 0.01, 0.10
LARGEST_SHARE = 0.08    # no one file above this share of the grants (the replay server holds a file in memory)


@dataclass
class Publisher:
    number: int
    kind: str
    grants: int
    offset: int
    modified: str = "2023-12-01T00:00:00.000+0000"
    retitled: dict[int, int] = field(default_factory=dict)   # grant index -> week it was last retitled

    @property
    def file_name(self) -> str:
        return f"publisher-{self.number:03d}.{self.kind}"

    def grant_id(self, base: dict, i: int) -> str:
        return f"{base['id']}-n{self.number}-{i}"


class GrantsPlan:
    def __init__(self, scale: float, rng: np.random.Generator, truth: Truth):
        self.rng, self.truth, self.base = rng, truth, real_grants()
        self.registry = json.loads((HERE / "registry.json").read_text(encoding="utf-8"))[0]
        total = max(100, round(GRANTS_AT_SCALE_1 * scale))
        n = max(6, round(PUBLISHERS_AT_SCALE_1 * scale))
        weights = rng.lognormal(0, 1.5, n)
        weights = np.minimum(weights / weights.sum(), LARGEST_SHARE if n >= 25 else 1.0)
        sizes = np.maximum(1, np.floor(weights / weights.sum() * total)).astype(int)
        sizes[int(np.argmax(sizes))] += total - int(sizes.sum())
        kinds = ["json", "csv", "xlsx"] + list(rng.choice(list(FORMATS), size=n - 3, p=list(FORMATS.values())))
        self.publishers = [Publisher(i + 1, str(k), int(s), int(rng.integers(len(self.base))))
                           for i, (k, s) in enumerate(zip(kinds, sizes))]
        self.gone = self.publishers[3 + int(rng.integers(n - 3))]
        self.total = int(sizes.sum())

    def base_of(self, p: Publisher, i: int) -> dict:
        return self.base[(p.offset + i) % len(self.base)]

    def grant(self, p: Publisher, i: int) -> dict:
        base = self.base_of(p, i)
        g = dict(base, id=p.grant_id(base, i))
        if i in p.retitled:
            g["title"] = f"{base.get('title') or ''} (revised in week {p.retitled[i]})"
        return g

    def listed(self, week: int) -> list[Publisher]:
        return [p for p in self.publishers if not (week >= 2 and p is self.gone)]

    def plant(self, week: int) -> set[int]:
        """Retitle about 1% of the grants; return the numbers of the publishers whose file changed."""
        if week == 1:
            return {p.number for p in self.publishers}
        if week == 2:
            ids = {f"{SOURCE}:{self.gone.grant_id(self.base_of(self.gone, i), i)}" for i in range(self.gone.grants)}
            self.truth.silent[f"{SOURCE}/publisher_gone"] = ids
        target, changed = round(self.total * CHANGED_SHARE), set()
        candidates = self.listed(week)
        for j in self.rng.permutation(len(candidates)):
            if target <= 0:
                break
            p = candidates[int(j)]
            k = min(target, max(1, round(p.grants * SHARE_OF_A_FILE)))
            for i in self.rng.choice(p.grants, size=k, replace=False):
                p.retitled[int(i)] = week
                self.truth.plant("changed", SOURCE, p.grant_id(self.base_of(p, int(i)), int(i)), week)
            p.modified = f"{week_date_stamp(week)}"
            target -= k
            changed.add(p.number)
        return changed

    def write(self, out: Path, previous: Path | None, changed: set[int]) -> None:
        """Write the week's registry and the publishers' files (unchanged files linked from last week's)."""
        folder = out / "grants"
        folder.mkdir(parents=True, exist_ok=True)
        served, datasets = {}, []
        for p in self.publishers:
            target = folder / p.file_name
            if p.number in changed or previous is None:
                WRITERS[p.kind](self, p, target)
            else:
                os.link(previous / "grants" / p.file_name, target)
            if p in self.listed(self.week_of(out)):
                datasets.append(self.dataset(p))
            served[f"/grants/{p.file_name}"] = {"file": p.file_name, "content_type": CONTENT_TYPES[p.kind],
                                                "modified": p.modified}
        (out / "registry.json").write_text(json.dumps(datasets, indent=1), encoding="utf-8")
        (out / "served_files.json").write_text(json.dumps(served, indent=1), encoding="utf-8")

    @staticmethod
    def week_of(out: Path) -> int:
        return int(out.name.split("-")[1])

    def dataset(self, p: Publisher) -> dict:
        d = json.loads(json.dumps(self.registry))
        prefix = f"360G-SIM{p.number:03d}"
        d.update(title=f"Grants of simulated publisher {p.number}", identifier=hashlib.sha1(prefix.encode())
                 .hexdigest()[:18], modified=p.modified)
        d["publisher"].update(name=f"Simulated publisher {p.number}", prefix=prefix, org_id="")
        d["distribution"][0].update(downloadURL=f"/grants/{p.file_name}", title=d["title"])
        return d


def week_date_stamp(week: int) -> str:
    return f"{week_date(week)}T00:00:00.000+0000"


def write_json(plan: GrantsPlan, p: Publisher, path: Path) -> None:
    with open(path, "wb") as f:
        f.write(b'{"grants": [\n')
        for i in range(p.grants):
            f.write(orjson.dumps(plan.grant(p, i)) + (b",\n" if i < p.grants - 1 else b"\n"))
        f.write(b"]}\n")


def write_csv(plan: GrantsPlan, p: Publisher, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for i in range(p.grants):
            w.writerow(flat(plan.grant(p, i)))


def write_xlsx(plan: GrantsPlan, p: Publisher, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Grants")
    sheet.append(CSV_COLUMNS)
    for i in range(p.grants):
        row = flat(plan.grant(p, i))
        sheet.append([row.get(c) for c in CSV_COLUMNS])
    book.save(path)


WRITERS = {"json": write_json, "csv": write_csv, "xlsx": write_xlsx}
