"""Best-fit 2017 ward boundaries in a spatial index: many points to ward codes in one vectorised call."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

from db.store import REFERENCE

BOUNDARIES = REFERENCE / "raw" / "ward17_bestfit_boundaries.geojson.gz"
CELL_DEGREES = 0.01     # grid cell of the candidate index: about 1.1 km by 0.7 km in England
CHUNK = 200_000         # points per pass: bounds the memory of the candidate pairs
INTERIOR_MIN_POINTS = 50_000   # batches this big first map the cells that lie inside a single ward


class WardIndex:
    """Ward polygons behind a grid of candidates; `locate` answers all points at once.

    A point's candidates are the wards whose bounding box covers its grid cell, narrowed by the exact bounding
    box in numpy; only those pairs are tested with shapely.contains_xy on prepared polygons. No point geometry
    is ever built, which is what made the STRtree route slower (`tree` is kept for callers that want it).
    Once a big batch comes, cells lying wholly inside one ward are mapped, and their points skip the test.
    """

    def __init__(self, codes: list[str], polygons: np.ndarray):
        self.codes = np.asarray(codes, dtype=object)
        self.polygons = np.asarray(polygons)
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        self.bounds = shapely.bounds(self.polygons)   # xmin, ymin, xmax, ymax per polygon
        self._build_grid()
        self.cell_owner: np.ndarray | None = None   # built on the first big batch: costs about a second

    @classmethod
    def from_geojson(cls, path: Path = BOUNDARIES) -> "WardIndex":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            features = json.load(f)["features"]
        codes = [f["properties"]["WD17CD"] for f in features]
        polygons = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
        return cls(codes, polygons)

    def _build_grid(self) -> None:
        """Index each polygon under every grid cell its bounding box touches (cells sorted, CSR layout)."""
        b = self.bounds
        self.x0, self.y0 = b[:, 0].min(), b[:, 1].min()
        ix0, iy0 = self._cell_xy(b[:, 0], b[:, 1])
        ix1, iy1 = self._cell_xy(b[:, 2], b[:, 3])
        # Sized by the same arithmetic that places the polygons, so no edge cell falls off the grid.
        self.nx, self.ny = int(ix1.max()) + 1, int(iy1.max()) + 1
        cells, polys = [], []
        for i in range(len(b)):
            c = (np.arange(iy0[i], iy1[i] + 1)[:, None] * self.nx + np.arange(ix0[i], ix1[i] + 1)).ravel()
            cells.append(c)
            polys.append(np.full(len(c), i, dtype=np.int32))
        cells_all = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
        order = np.argsort(cells_all, kind="stable")
        self.cell_polys = np.concatenate(polys)[order] if polys else np.zeros(0, dtype=np.int32)
        self.cell_start = np.searchsorted(cells_all[order], np.arange(self.nx * self.ny + 1)).astype(np.int64)

    def _cell_xy(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        return (np.floor((xs - self.x0) / CELL_DEGREES).astype(np.int64),
                np.floor((ys - self.y0) / CELL_DEGREES).astype(np.int64))

    def locate(self, lats, lngs) -> np.ndarray:
        """Return the ward code of each point (None outside every ward)."""
        lats = np.asarray(lats, dtype=float)
        lngs = np.asarray(lngs, dtype=float)
        out = np.full(len(lats), None, dtype=object)
        if self.cell_owner is None and len(lats) >= INTERIOR_MIN_POINTS:
            self.cell_owner = self._interior_cells()
        for s in range(0, len(lats), CHUNK):
            point_i, poly_i = self._matches(lats[s:s + CHUNK], lngs[s:s + CHUNK])
            out[s + point_i] = self.codes[poly_i]
        return out

    def _interior_cells(self) -> np.ndarray:
        """Return, per grid cell, the one polygon that holds the whole cell and touches no other (else -1)."""
        cells = np.repeat(np.arange(self.nx * self.ny), np.diff(self.cell_start))
        inside = np.zeros(len(cells), dtype=bool)
        for s in range(0, len(cells), CHUNK // 4):      # boxes in slices: bounds the memory
            part = slice(s, s + CHUNK // 4)
            inside[part] = shapely.contains_properly(self.polygons[self.cell_polys[part]], self._boxes(cells[part]))
        owner = np.full(self.nx * self.ny, -1, dtype=np.int32)
        owner[cells[inside]] = self.cell_polys[inside]
        # A neighbour overlapping that cell by a hair would make the answer a tie: leave such cells to the test.
        others = np.flatnonzero((owner[cells] >= 0) & ~inside)
        touching = shapely.intersects(self.polygons[self.cell_polys[others]], self._boxes(cells[others]))
        owner[cells[others[touching]]] = -1
        return owner

    def _boxes(self, cells: np.ndarray) -> np.ndarray:
        x, y = self.x0 + (cells % self.nx) * CELL_DEGREES, self.y0 + (cells // self.nx) * CELL_DEGREES
        return shapely.box(x, y, x + CELL_DEGREES, y + CELL_DEGREES)

    def _cells(self, lats: np.ndarray, lngs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the indices of the points on the grid and their cells."""
        with np.errstate(invalid="ignore"):
            fx, fy = np.floor((lngs - self.x0) / CELL_DEGREES), np.floor((lats - self.y0) / CELL_DEGREES)
            on_grid = np.flatnonzero((fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny))  # NaN fails here
        return on_grid, fy[on_grid].astype(np.int64) * self.nx + fx[on_grid].astype(np.int64)

    def _candidates(self, lats, lngs, points: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (point, polygon) index pairs whose polygon bounding box holds the point."""
        first, count = self.cell_start[cell], self.cell_start[cell + 1] - self.cell_start[cell]
        point_i = np.repeat(points, count)
        offsets = np.arange(len(point_i)) - np.repeat(np.cumsum(count) - count, count)
        poly_i = self.cell_polys[np.repeat(first, count) + offsets]
        x, y, b = lngs[point_i], lats[point_i], self.bounds[poly_i]
        keep = (x >= b[:, 0]) & (x <= b[:, 2]) & (y >= b[:, 1]) & (y <= b[:, 3])
        return point_i[keep], poly_i[keep]

    def _matches(self, lats: np.ndarray, lngs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return (point, polygon) pairs, one per located point, the lowest polygon index winning ties."""
        points, cell = self._cells(lats, lngs)
        sure_point = sure_poly = np.zeros(0, dtype=np.int64)
        if self.cell_owner is not None:     # points in a cell inside a single ward need no test
            owner = self.cell_owner[cell]
            sure = owner >= 0
            sure_point, sure_poly = points[sure], owner[sure]
            points, cell = points[~sure], cell[~sure]
        point_i, poly_i = self._candidates(lats, lngs, points, cell)
        x, y, polys = lngs[point_i], lats[point_i], self.polygons[poly_i]
        hit = shapely.contains_xy(polys, x, y)
        # A point on an edge is in no interior: test the boundary too, only for points without a hit.
        found = np.zeros(len(lats), dtype=bool)
        found[point_i[hit]] = True
        edge = np.flatnonzero(~found[point_i])
        if len(edge):
            hit[edge] = shapely.intersects_xy(polys[edge], x[edge], y[edge])
        point_i, poly_i = point_i[hit], poly_i[hit]
        # Simplified neighbours overlap by a hair: keep the lowest polygon index, deterministically.
        order = np.lexsort((poly_i, point_i))
        point_i, poly_i = point_i[order], poly_i[order]
        first = np.unique(point_i, return_index=True)[1]
        return np.concatenate([sure_point, point_i[first]]), np.concatenate([sure_poly, poly_i[first]])


def cache_dir() -> Path:
    """Where parsed boundaries are kept between processes (LBM_CACHE_DIR, else the user's cache folder)."""
    base = os.environ.get("LBM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "leftbehind-monitor")
    return Path(base)


def load_boundaries(path: Path = BOUNDARIES) -> tuple[list[str], np.ndarray]:
    """Return ward codes and polygons, from a WKB cache keyed by the file's content when there is one.

    Parsing the GeoJSON takes about two seconds and every crawl runs in a new process; WKB loads in 30 ms.
    A cache that cannot be written or read is simply rebuilt: it only ever holds what the file says.
    """
    digest = hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    cached = cache_dir() / f"wards-{digest}.npz"
    try:
        with np.load(cached, allow_pickle=False) as data:
            blob, ends = data["wkb"].tobytes(), data["ends"]
            starts = np.concatenate([[0], ends[:-1]])
            wkb = [blob[a:b] for a, b in zip(starts, ends)]
            return [str(c) for c in data["codes"]], shapely.from_wkb(wkb)
    except (OSError, ValueError, KeyError):
        pass
    with gzip.open(path, "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    codes = [f["properties"]["WD17CD"] for f in features]
    polygons = shapely.from_geojson([json.dumps(f["geometry"]) for f in features])
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.tmp.npz")
        wkb = shapely.to_wkb(polygons)
        np.savez(partial, codes=np.array(codes), ends=np.cumsum([len(w) for w in wkb]),
                 wkb=np.frombuffer(b"".join(wkb), dtype=np.uint8))
        os.replace(partial, cached)
    except OSError:
        pass
    return codes, polygons


@lru_cache(maxsize=1)
def ward_index() -> WardIndex:
    """Load the bundled boundaries once per process."""
    return WardIndex(*load_boundaries())
