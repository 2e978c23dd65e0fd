"""The ward index: grid candidates plus exact tests give the same answers as a plain STRtree query."""
from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.geography import WardIndex, ward_index


@pytest.fixture(scope="module")
def index() -> WardIndex:
    return ward_index()


def test_known_points(index):
    # EX36 4AT (NSPL) is in South Molton; Edinburgh, Cardiff and null island are in no English ward.
    codes = index.locate([51.01467, 55.9533, 51.4816, 0.0], [-3.83317, -3.1883, -3.1791, 0.0])
    assert list(codes) == ["E05003557", None, None, None]


def test_missing_and_infinite_coordinates_are_not_located(index):
    codes = index.locate([np.nan, 51.01467, np.inf, 51.01467], [-3.83317, np.nan, -3.8, -3.83317])
    assert list(codes) == [None, None, None, "E05003557"]


def test_empty_input(index):
    assert len(index.locate([], [])) == 0


def test_same_answers_as_an_strtree_query(index):
    rng = np.random.default_rng(1)
    lats, lngs = rng.uniform(49.95, 55.82, 50_000), rng.uniform(-5.75, 1.77, 50_000)
    got = index.locate(lats, lngs)
    pairs = index.tree.query(shapely.points(lngs, lats), predicate="intersects")
    matches = [set() for _ in range(len(lats))]
    for p, g in zip(*pairs):
        matches[p].add(index.codes[g])
    assert sum(code is not None for code in got) > 15_000
    assert all((code in m) if m else code is None for code, m in zip(got, matches))


def test_a_vertex_on_the_boundary_is_located(index):
    # A polygon's own vertex is on its boundary, outside every interior: the edge pass finds it.
    x, y = shapely.get_coordinates(index.polygons[100])[0]
    assert index.locate([y], [x])[0] is not None


def test_ties_go_to_the_lowest_polygon_index():
    square = shapely.box(0, 0, 1, 1)
    index = WardIndex(["B", "A"], np.array([square, shapely.box(0.5, 0, 1.5, 1)]))
    assert list(index.locate([0.5, 0.5, 0.5, 2], [0.25, 0.75, 1.25, 0.5])) == ["B", "B", "A", None]


def test_cells_inside_one_ward_give_the_same_answers(index):
    rng = np.random.default_rng(2)
    lats, lngs = rng.uniform(50.0, 55.8, 60_000), rng.uniform(-5.7, 1.7, 60_000)
    index.cell_owner = None
    tested = index._matches(lats, lngs)
    index.cell_owner = index._interior_cells()
    assert (index.cell_owner >= 0).sum() > 50_000
    mapped = index._matches(lats, lngs)
    assert dict(zip(*tested)) == dict(zip(*mapped))
    sure = index.cell_owner[index._cells(lats, lngs)[1]] >= 0
    assert sure.sum() > 10_000          # the map answered many points without a test


def test_a_big_batch_maps_the_interior_cells():
    index = WardIndex(["B", "A"], np.array([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]))
    rng = np.random.default_rng(3)
    lngs = rng.uniform(-0.5, 3.5, 60_000)
    codes = index.locate(np.full(60_000, 0.5), lngs)
    assert index.cell_owner is not None
    expected = np.where((lngs > 0) & (lngs < 1), "B", np.where((lngs > 2) & (lngs < 3), "A", None))
    assert (codes == expected).all()


def test_boundaries_cache_gives_the_same_polygons_and_survives_corruption(tmp_path, monkeypatch):
    import shapely

    from geo.geography import cache_dir, load_boundaries

    monkeypatch.setenv("LBM_CACHE_DIR", str(tmp_path / "cache"))
    codes, polygons = load_boundaries()            # parsed from the GeoJSON, then cached
    (cached,) = cache_dir().glob("wards-*.npz")
    again_codes, again = load_boundaries()          # read back from the cache
    assert again_codes == codes and type(again_codes[0]) is str
    assert shapely.equals_exact(polygons, again, tolerance=0).all()
    cached.write_bytes(b"not a cache")
    codes3, polygons3 = load_boundaries()           # a broken cache is rebuilt, never trusted
    assert codes3 == codes and len(polygons3) == 7427
    assert cached.stat().st_size > 1_000_000
