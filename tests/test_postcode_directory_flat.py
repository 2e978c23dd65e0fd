"""A real 360Giving file flattened to CSV by flattentool places, offline, the grants its JSON places: by the directory."""
from __future__ import annotations

import csv
import json
import socket
from pathlib import Path

import pytest

flattentool = pytest.importorskip("flattentool", reason="flattentool is a test dependency: pip install -e '.[test]'")

from core.config import load  # noqa: E402
from db.postcode_directory import load_directory  # noqa: E402
from db.postcodes import normalise_postcode  # noqa: E402
from db.resolver import Query, Resolver  # noqa: E402
from spiders.grant_fields import grant_fields  # noqa: E402
from spiders.grants_json import json_grants  # noqa: E402
from spiders.grants_table import csv_grants  # noqa: E402
from spiders.replay.postcode_directory import OUT as DEMO_DIRECTORY  # noqa: E402
from spiders.replay.snapshots import DATA  # noqa: E402

NOW = "2024-05-01T09:00:00+00:00"
# Lloyds Bank Foundation's 4,116 grants: each placed by its recipient's postcode alone.
REAL = DATA / "threesixty_giving" / "grantnav-testdata_a002400000OiDBQAA3.json"
# The standard's own rollUp of recipientOrganization (360-giving-schema.json): the fields a publisher's CSV carries
# as "Recipient Org:..." columns of the grants sheet. Without it flattentool puts them in a sheet of their own,
# which a CSV file cannot hold.
ROLLUP = {"type": "object", "properties": {"recipientOrganization": {
    "type": "array", "rollUp": ["id", "name", "postalCode"],
    "items": {"type": "object", "properties": {k: {"type": "string"} for k in ("id", "name", "postalCode")}}}}}


@pytest.fixture(scope="module")
def flat_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("flat")
    schema = folder / "schema.json"
    schema.write_text(json.dumps(ROLLUP), encoding="utf-8")
    flattentool.flatten(str(REAL), schema=str(schema), output_name=str(folder / "csv"), output_format="csv",
                        root_list_path="grants", main_sheet_name="grants", rollup=True)
    return folder / "csv" / "grants.csv"


def offline_resolver(db) -> Resolver:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()       # postcodes.io "at" a closed port: every request to it is refused
    settings = load(environ={"LBM_POSTCODES_URL": f"http://127.0.0.1:{port}"})
    settings.update(http_backoff=0.001, http_retries=0)
    return Resolver(db, settings)


def placed(resolver: Resolver, grants) -> dict[str, str]:
    """Return {grant id: ward} of the grants the resolver places, the way the geo-match pipeline asks."""
    fields = [grant_fields(g) for g in grants]
    queries = [Query(ward_code=f.get("ward_code"), lsoa_code=f.get("lsoa_code"), postcode=f.get("postcode"))
               for f in fields]
    return {f["ref"]: r.ward_code for f, r in zip(fields, resolver.resolve_many(queries, now=NOW)) if r.ward_code}


def test_the_csv_places_the_same_grants_as_the_json_offline_when_the_directory_holds_their_postcodes(fresh_db,
                                                                                                      flat_csv):
    from_json = list(json_grants(REAL))
    from_csv = [g for g, _ in csv_grants(flat_csv)]
    assert len(from_json) == len(from_csv) == 4116
    postcode = {g["id"]: normalise_postcode(g["recipientOrganization"][0]["postalCode"]) for g in from_json}
    valid = sum(1 for pc in postcode.values() if pc)
    before = offline_resolver(fresh_db)
    assert placed(before, from_csv) == {}                    # offline and no directory: nothing placed
    assert before.counts["unresolved/postcodes.io unavailable"] == valid > 4000

    load_directory(fresh_db, DEMO_DIRECTORY, NOW)
    with open(DEMO_DIRECTORY, newline="", encoding="utf-8") as f:
        held = {r["pcds"] for r in csv.DictReader(f)}
    # Counted from the file itself: the grants whose recipient postcode the directory lists.
    expected = {ref for ref, pc in postcode.items() if pc in held}
    json_resolver, csv_resolver = offline_resolver(fresh_db), offline_resolver(fresh_db)
    json_wards, csv_wards = placed(json_resolver, from_json), placed(csv_resolver, from_csv)
    assert len(expected) > 50
    assert set(csv_wards) == expected and csv_wards == json_wards
    assert csv_resolver.counts["postcode/directory"] == len(expected)
    assert csv_resolver.counts["postcode/postcodes_io"] == 0
    assert csv_resolver.counts["unresolved/postcodes.io unavailable"] == valid - len(expected)
