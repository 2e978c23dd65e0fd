"""Library changes planted in the real DCMS / ACE 2023 list: closures it dates this year, and closures announced.

From week 2, each week a few open libraries (names unique in the list) get a `closed` year: the current year (a
closure the source dates: `closed` at once) or the next (a closure announced, not made: `announced`). Libraries are
matched across lists by the identity pipeline, which names their refs, so the truth names them by their name.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import numpy as np

from bench.national.truth import Truth

SOURCE = "libraries"
PER_WEEK = 3   # of each kind: the list is national whatever the scale


class LibrariesPlan:
    def __init__(self, path: Path, rng: np.random.Generator, truth: Truth):
        self.original = path.read_bytes()
        text = self.original.decode("utf-8-sig")
        self.header = next(csv.reader(io.StringIO(text)))
        self.rows = list(csv.DictReader(io.StringIO(text)))
        names = Counter(r["name"].strip().lower() for r in self.rows)
        self.free = [i for i, r in enumerate(self.rows) if not r["closed"].strip() and r["name"].strip()
                     and names[r["name"].strip().lower()] == 1 and r["type"] == "Static Library"]
        self.rng, self.truth, self.changed = rng, truth, False

    def plant(self, week: int, year: int) -> None:
        if week == 1:
            return
        picks = self.rng.choice(len(self.free), size=2 * PER_WEEK, replace=False)
        chosen = [self.free[int(i)] for i in picks]
        self.free = [i for i in self.free if i not in chosen]
        for n, i in enumerate(chosen):
            row = self.rows[i]
            announced = n >= PER_WEEK
            row["closed"] = str(year + 1 if announced else year)
            self.truth.plant("announced" if announced else "closed", SOURCE, row["name"].strip(), week)
        self.changed = True

    def write(self, path: Path) -> None:
        """Write the list: the real bytes until a change is planted, then the rows as changed (UTF-8 with BOM)."""
        if not self.changed:
            path.write_bytes(self.original)
            return
        out = io.StringIO()
        writer = csv.DictWriter(out, self.header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows)
        path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))
