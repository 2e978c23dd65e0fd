"""Area groups: the definitions agree with the published lists and the reference flags."""
from __future__ import annotations

from monitor.indicators.area_groups import AREA_GROUPS, group_totals, load_wards


def test_groups_have_the_published_sizes(fresh_db):
    totals = group_totals(load_wards(fresh_db))
    assert list(AREA_GROUPS) == ["left_behind", "other_deprived", "england"]
    assert totals["left_behind"] == (225, 2_386_368)
    assert totals["other_deprived"] == (525, 6_069_002)
    assert totals["england"] == (7427, 56_286_961)


def test_other_deprived_definition_matches_the_reference_flag(fresh_db):
    wards = load_wards(fresh_db)
    flagged = {r[0] for r in fresh_db.execute("SELECT code FROM wards WHERE other_deprived = 1")}
    assert {c for c, w in wards.items() if "other_deprived" in w.groups} == flagged
    assert not any({"left_behind", "other_deprived"} <= w.groups for w in wards.values())


def test_every_ward_is_in_england_and_carries_its_population(fresh_db):
    wards = load_wards(fresh_db)
    de_bruce = wards["E05008943"]
    assert (de_bruce.name, de_bruce.lad_code, de_bruce.population) == ("De Bruce", "E06000001", 8895)
    assert de_bruce.groups == {"left_behind", "england"}
    assert all("england" in w.groups for w in wards.values())
