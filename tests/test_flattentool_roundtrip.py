"""A real 360Giving file through flattentool (the standard's own converter): the flat readers get what JSON gives."""
from __future__ import annotations

from pathlib import Path

import pytest

flattentool = pytest.importorskip("flattentool", reason="flattentool is a test dependency: pip install -e '.[test]'")

from spiders.sources.threesixty_giving.grant_fields import grant_fields  # noqa: E402
from spiders.sources.threesixty_giving.grants_json import json_grants  # noqa: E402
from spiders.sources.threesixty_giving.grants_table import csv_grants, xlsx_grants  # noqa: E402
from spiders.sources.threesixty_giving.replay import HERE  # noqa: E402

# A B Charitable Trust's grants as GrantNav serves them: locations only in GrantNav's additional_data.
REAL = HERE / "grantnav-testdata_awefw001p00000zgyHZAAY.json"


def fields(grants) -> dict[str, tuple]:
    out = {}
    for grant in grants:
        f = grant_fields(grant)
        where = f.get("ward_code") or f.get("lsoa_code") or f.get("postcode")
        # The flat readers strip cells (a trailing space is no part of a name): compare as they do.
        out[f["ref"]] = tuple(v.strip() if isinstance(v, str) else v for v in (
            float(f["amount"]), f["award_date"][:10], f["recipient_name"], f["funder_name"], f["geo_input"], where))
    return out


@pytest.fixture(scope="module")
def flattened(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flat")
    for fmt, name in (("xlsx", "grants.xlsx"), ("csv", "csv")):
        flattentool.flatten(str(REAL), output_name=str(folder / name), output_format=fmt,
                            root_list_path="grants", main_sheet_name="grants")
    return folder


def test_xlsx_from_flattentool_gives_the_same_grants_amounts_and_placements(flattened):
    from_json = fields(json_grants(REAL))
    from_xlsx = fields(g for g, _ in xlsx_grants(flattened / "grants.xlsx"))
    assert len(from_json) == 154
    assert from_xlsx == from_json
    placed = sum(1 for v in from_json.values() if v[4] == "grantnav_additional")
    assert placed > 100                      # placed through additional_data/locationLookup, a sub-sheet


def test_csv_from_flattentool_gives_the_same_grants_and_amounts(flattened):
    """A CSV holds one sheet: the grants' own fields and additional_data's single values, not the arrays."""
    from_json = fields(json_grants(REAL))
    rows = list(csv_grants(Path(flattened / "csv" / "grants.csv")))
    assert {g["id"]: float(g["amountAwarded"]) for g, _ in rows} == {k: v[0] for k, v in from_json.items()}
    def canonical(grants):   # additional_data's single values are columns of the main sheet
        return {g["id"]: g["additional_data"]["recipientOrganizationCanonical"]["name"].strip() for g in grants
                if (g.get("additional_data") or {}).get("recipientOrganizationCanonical", {}).get("name")}
    assert canonical(g for g, _ in rows) == canonical(json_grants(REAL)) and len(canonical(json_grants(REAL))) > 50
