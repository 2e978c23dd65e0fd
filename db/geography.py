"""Best-fit 2017 ward boundaries in a spatial index: many points to ward codes in one vectorised call."""
from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

BOUNDARIES = Path(__file__).parent / "reference" / "raw" / "ward17_bestfit_boundaries.geojson.gz"


class WardIndex:
    """An STRtree over the ward polygons; `locate` answers all points at once."""

    def __init__(self, codes: list[str], polygons: np.ndarray):
        self.codes = np.asarray(codes, dtype=object)
        self.polygons = polygons
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)

    @classmethod
    def from_geojson(cls, path: Path = BOUNDARIES) -> "WardIndex":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            features = json.load(f)["features"]
        codes = [f["properties"]["WD17CD"] for f in features]
        polygons = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
        return cls(codes, polygons)

    def locate(self, lats, lngs) -> np.ndarray:
        """Return the ward code of each point (None outside every ward)."""
        lats = np.asarray(lats, dtype=float)
        lngs = np.asarray(lngs, dtype=float)
        out = np.full(len(lats), None, dtype=object)
        ok = np.isfinite(lats) & np.isfinite(lngs)
        if not ok.any():
            return out
        idx = np.flatnonzero(ok)
        points = shapely.points(lngs[idx], lats[idx])
        point_i, poly_i = self.tree.query(points, predicate="intersects")
        # A point on a shared edge matches two wards: keep the first, deterministically.
        first = np.unique(point_i, return_index=True)[1]
        out[idx[point_i[first]]] = self.codes[poly_i[first]]
        return out


@lru_cache(maxsize=1)
def ward_index() -> WardIndex:
    """Load the bundled boundaries once per process."""
    return WardIndex.from_geojson()
