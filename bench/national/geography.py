"""England's local authorities with their real pub counts, and random points inside each one's own wards."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from geo.geography import load_boundaries

ROOT = Path(__file__).resolve().parents[2]
PUB_COUNTS = ROOT / "bench" / "data" / "ons_pubs_2018_england_lads.csv"
WARDS = ROOT / "db" / "reference" / "wards.csv"


@dataclass
class Authority:
    lad_code: str
    name: str
    region: str
    pubs_2018: int
    code: str                  # LocalAuthorityIdCode (assigned: the FSA's real codes are not bundled)
    la_id: int                 # LocalAuthorityId (assigned)
    wards: list[str]
    weights: np.ndarray        # ward populations, as shares

    @property
    def file_name(self) -> str:
        return f"FHRS{self.code}en-GB.xml"


def authorities() -> list[Authority]:
    """Return every English local authority with its 2018 pub count, wards and their population shares."""
    wards: dict[str, list[tuple[str, int, str]]] = {}
    with open(WARDS, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            wards.setdefault(r["lad_code"], []).append((r["code"], int(r["population"] or 0), r["region"]))
    out = []
    with open(PUB_COUNTS, newline="", encoding="utf-8") as f:
        for i, r in enumerate(csv.DictReader(f)):
            rows = wards[r["area_code"]]
            pop = np.array([max(p, 1) for _, p, _ in rows], dtype=float)
            out.append(Authority(r["area_code"], r["area_name"], rows[0][2], int(r["pubs_2018"]), str(1001 + i),
                                 8001 + i, [c for c, _, _ in rows], pop / pop.sum()))
    return out


class Placer:
    """Random points in best-fit ward polygons, a ward chosen by population."""

    def __init__(self, rng: np.random.Generator):
        codes, polygons = load_boundaries()
        self.polygons = dict(zip(codes, polygons))
        self.rng = rng

    def points(self, authority: Authority, n: int) -> list[tuple[float, float, str]]:
        """Return n (latitude, longitude, ward code) inside the authority's wards."""
        chosen = self.rng.choice(len(authority.wards), size=n, p=authority.weights)
        out: list[tuple[float, float, str]] = [None] * n   # type: ignore[list-item]
        for ward_i in np.unique(chosen):
            slots = np.flatnonzero(chosen == ward_i)
            code = authority.wards[ward_i]
            for slot, (lat, lng) in zip(slots, self.inside(self.polygons[code], len(slots))):
                out[slot] = (lat, lng, code)
        return out

    def inside(self, polygon, n: int) -> list[tuple[float, float]]:
        """Return n points inside a polygon, by rejection from its bounding box (rounded as the FSA rounds)."""
        minx, miny, maxx, maxy = shapely.bounds(polygon)
        found: list[tuple[float, float]] = []
        while len(found) < n:
            xs = np.round(self.rng.uniform(minx, maxx, 4 * n + 8), 6)
            ys = np.round(self.rng.uniform(miny, maxy, 4 * n + 8), 6)
            keep = shapely.contains_xy(polygon, xs, ys)
            found += [(float(y), float(x)) for x, y in zip(xs[keep], ys[keep])]
        return found[:n]
