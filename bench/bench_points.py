"""Benchmark: resolve 1,000,000 random points inside England's bounding box to best-fit 2017 wards.

Run: python -m bench.bench_points [--points N] [--repeat K] [--compare]
Times WardIndex.locate (wall clock and CPU), prints points per second, the ratio to the 200,000 points/s target
and the peak resident memory. The first call includes the one-off map of grid cells inside a single ward. --compare also times the plain STRtree query the index used before, on the same
points, and counts the points the two answer differently (points inside two overlapping simplified wards).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import shapely

from geo.geography import WardIndex

TARGET_PER_SECOND = 200_000
ENGLAND_BBOX = (-5.75, 49.95, 1.77, 55.82)   # lng_min, lat_min, lng_max, lat_max


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def random_points(n: int, seed: int = 2020) -> tuple[np.ndarray, np.ndarray]:
    """Return n uniform random (lats, lngs) inside England's bounding box."""
    rng = np.random.default_rng(seed)
    lng_min, lat_min, lng_max, lat_max = ENGLAND_BBOX
    return rng.uniform(lat_min, lat_max, n), rng.uniform(lng_min, lng_max, n)


def strtree_locate(index: WardIndex, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Locate points the way the index did before: point geometries and an STRtree 'intersects' query."""
    out = np.full(len(lats), None, dtype=object)
    point_i, poly_i = index.tree.query(shapely.points(lngs, lats), predicate="intersects")
    first = np.unique(point_i, return_index=True)[1]
    out[point_i[first]] = index.codes[poly_i[first]]
    return out


def timed(fn, *args) -> tuple[object, float, float]:
    """Return (result, wall seconds, CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def report(label: str, n: int, wall: float, cpu: float) -> None:
    rate, cpu_rate = n / wall, n / cpu
    print(f"{label:<10} {rate:>12,.0f} points/s wall ({wall:.2f} s)  {cpu_rate:>12,.0f} points/s CPU  "
          f"ratio to target {rate / TARGET_PER_SECOND:.2f}x wall, {cpu_rate / TARGET_PER_SECOND:.2f}x CPU")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also time the old STRtree route")
    args = parser.parse_args(argv)

    (index, load_wall, _) = timed(WardIndex.from_geojson)
    print(f"loaded {len(index.codes):,} ward polygons in {load_wall:.2f} s; peak RSS {peak_rss_mb():.0f} MB")
    lats, lngs = random_points(args.points)
    runs = [timed(index.locate, lats, lngs) for _ in range(args.repeat)]
    codes = runs[0][0]
    located = int(np.count_nonzero(codes != None))  # noqa: E711 (an object array)
    print(f"{args.points:,} points, {located:,} inside a ward ({located / args.points:.1%})")
    report("first", args.points, *runs[0][1:])       # includes mapping the cells inside one ward
    if len(runs) > 1:
        report(f"best of {len(runs) - 1}", args.points, *min(r[1:] for r in runs[1:]))
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    if args.compare:
        old, wall, cpu = timed(strtree_locate, index, lats, lngs)
        report("strtree", args.points, wall, cpu)
        print(f"answers that differ: {int(np.count_nonzero(old != codes)):,}; peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
