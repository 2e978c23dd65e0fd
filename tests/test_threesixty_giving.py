"""The 360Giving spider through the real HTTP stack: registry, licences, JSON/CSV/XLSX, conditional GET, locations."""
from __future__ import annotations

import copy
import json

import pytest

from core.config import load
from db import seen
from db.store import connect
from monitor.changes.crawl import run_crawl
from spiders.replay import postcodes_io
from spiders.replay.catalogue import replay_server
from spiders.replay.server import ReplayServer
from spiders.sources.threesixty_giving.grant_fields import grant_fields, is_covid, location_input
from spiders.sources.threesixty_giving.grants_table import csv_grants, title_path, unflatten
from spiders.sources.threesixty_giving.licences import licence_verdict
from spiders.sources.threesixty_giving.replay import build_routes, recorded
from spiders.sources.threesixty_giving.spider import file_type
from tests.crawling import replay_env

NOW1, NOW2 = "2024-06-01T00:00:00+00:00", "2024-06-08T00:00:00+00:00"


def crawl(server, db_path, now):
    env = replay_env(server)
    return run_crawl("threesixty_giving", db_path, load(None), now, start_url=server.url + "/data.json",
                     extra_env=env, timeout=120)


def stats_of(db, crawl_id):
    return json.loads(db["crawl_runs"].get(crawl_id)["stats"])


# --- pure functions -------------------------------------------------------------------------------

@pytest.mark.parametrize("url, verdict", [
    ("https://creativecommons.org/licenses/by/4.0/", "acceptable"),
    ("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", "acceptable"),
    ("https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/", "unrecognised"),  # exact strings
    ("https://www.nationalarchives.gov.uk/doc/open-government-licence/version/2/", "acceptable"),
    ("https://creativecommons.org/licenses/by-nc/4.0/", "unacceptable"),
    ("", "unacceptable"),
    (None, "unacceptable"),
])
def test_licence_verdict_uses_datagetters_exact_urls(url, verdict):
    assert licence_verdict(url) == verdict


@pytest.mark.parametrize("content_type, disposition, url, kind", [
    ("application/json; charset=utf-8", "", "http://x/file.xlsx", "json"),              # Content-Type first
    ("application/octet-stream", 'attachment; filename="grants.xlsx"', "http://x/get?id=1", "xlsx"),
    ("text/plain", "", "http://x/data/grants.CSV?v=2", "csv"),                           # then the URL
    ("text/html", "", "http://x/download", None),
])
def test_file_type_by_content_type_then_disposition_then_extension(content_type, disposition, url, kind):
    assert file_type(content_type, disposition, url) == kind


def test_flattened_titles_match_by_name_with_multi_value_columns():
    header = ["Amount Awarded", "beneficiary location:1:geographic code", "IDENTIFIER", "Extra",
              "Beneficiary Location:0:Geographic Code", "Recipient Org:Location:Geographic Code Type"]
    paths = {i: title_path(t) for i, t in enumerate(header) if title_path(t)}
    assert 3 not in paths
    grant = unflatten(["10", "E05000001", "G-1", "x", "E01000001", "WD"], paths)
    assert grant == {"amountAwarded": "10", "id": "G-1",
                     "beneficiaryLocation": [{"geoCode": "E01000001"}, {"geoCode": "E05000001"}],
                     "recipientOrganization": [{"location": [{"geoCodeType": "WD"}]}]}


def test_windows_1252_csv_and_foreign_currency_are_read_not_guessed():
    body = "Identifier,Title,Amount Awarded,Currency,Award Date\nG-9,Caf\xe9 fund,\xa31\xa0000.50,USD,2020-05-01\n"
    grant, raw = next(csv_grants(body.encode("cp1252")))
    fields = grant_fields(grant)
    assert (fields["title"], fields["currency"], fields["amount"]) == ("Caf\xe9 fund", "USD", "\xa31\xa0000.50")
    assert raw["Title"] == "Caf\xe9 fund"


BEN_WARD = {"beneficiaryLocation": [{"geoCode": "K02000001", "geoCodeType": "CTRY"},
                                    {"geoCode": "E05000001", "geoCodeType": "WD"}]}
ORG = {"recipientOrganization": [{"postalCode": "LS3 1HH", "location": [{"geoCode": "E01011681",
                                                                          "geoCodeType": "LSOA"}]}]}
GRANTNAV = {"additional_data": {"locationLookup": [{"source": "recipientOrganizationPostcode",
                                                    "lsoa11cd": "E01000002"}]}}


@pytest.mark.parametrize("grant, expected", [
    ({**BEN_WARD, **ORG, **GRANTNAV}, ("beneficiary_location", {"ward_code": "E05000001"})),
    ({**ORG, **GRANTNAV}, ("recipient_location", {"lsoa_code": "E01011681"})),
    ({"recipientOrganization": [{"postalCode": "LS3 1HH"}], **GRANTNAV},
     ("grantnav_additional", {"lsoa_code": "E01000002"})),
    ({"recipientWardNameGeoCode": "E05001429", "recipientOrganization": [{"postalCode": "LS3 1HH"}]},
     ("grantnav_additional", {"ward_code": "E05001429"})),
    ({"recipientOrganization": [{"postalCode": "LS3 1HH"}]}, ("recipient_postcode", {"postcode": "LS3 1HH"})),
    ({"beneficiaryLocation": [{"countryCode": "GB"}]}, (None, {})),
])
def test_location_input_order(grant, expected):
    assert location_input(grant) == expected


@pytest.mark.parametrize("title, date, flag", [
    ("COVID-19 emergency fund", "2020-03-01", 1),
    ("Coronavirus response", "2021-12-31T23:00:00+00:00", 1),
    ("Pandemic recovery", "2022-01-01", 0),          # outside the window
    ("Covid support", "2020-02-29", 0),
    ("Church roof", "2020-06-01", 0),                 # no word
    ("covid", "not a date", 0),
])
def test_covid_flag_needs_the_words_and_the_window(title, date, flag):
    assert is_covid(title, None, None, date) == flag


# --- crawls through the replay server --------------------------------------------------------------

@pytest.fixture(scope="module")
def two_crawls(tmp_path_factory):
    """Crawl the recorded registry twice; the second crawl should download nothing."""
    db_path = tmp_path_factory.mktemp("g") / "leftbehind.db"
    with replay_server() as server:
        first = crawl(server, db_path, NOW1)
        log_first = list(server.log)
        second = crawl(server, db_path, NOW2)
        log_second = server.log[len(log_first):]
    return connect(db_path), first, second, log_first, log_second


def grant(db, ref):
    return db["grants"].get(f"threesixty_giving:{ref}")


def test_first_crawl_stores_each_format(two_crawls):
    db, first, _, _, _ = two_crawls
    stats = stats_of(db, first.crawl_id)
    assert first.status == "ok"
    assert (stats["threesixty/format/json"], stats["threesixty/format/csv"], stats["threesixty/format/xlsx"]) == (3, 1, 1)
    assert first.counts["new"] == 154 + 870 + 4116 + 6 + 4
    ptc = grant(db, "360G-ptc-gr-01653")
    assert (ptc["title"], ptc["amount"], ptc["currency"], ptc["award_date"]) == ("Hyde Park Source", 3239.34, "GBP",
                                                                                  "2015-06-01")
    assert (ptc["funder_id"], ptc["recipient_id"], ptc["recipient_postcode"]) == ("GB-CHC-1159982",
                                                                                   "GB-COH-IP28755R", "LS3 1HH")
    assert ptc["publisher"] == "Power to Change" and ptc["licence"] == "https://creativecommons.org/licenses/by/4.0/"
    assert json.loads(ptc["beneficiary_locations"]) == [{"geoCode": "E01011681", "geoCodeType": "LSOA"}]
    csv_row = grant(db, "360G-ptc-gr-01653-csv")
    assert json.loads(csv_row["beneficiary_locations"]) == [{"geoCode": "E01011681", "geoCodeType": "LSOA"},
                                                            {"geoCode": "E05001429", "geoCodeType": "WD"}]
    xlsx_row = grant(db, "360G-ptc-gr-01654-xlsx")
    assert xlsx_row["award_date"] and xlsx_row["programme"] and xlsx_row["source_url"].endswith("/download?file=42")
    assert stats["threesixty/table/rows_above_header"] == 2   # the XLSX's Readme sheet line and title row
    assert stats["file_download/to_disk"] == 5                 # every file streamed to disk, none held in memory


def test_unacceptable_licence_is_skipped_counted_and_never_requested(two_crawls):
    db, first, _, log_first, _ = two_crawls
    stats = stats_of(db, first.crawl_id)
    assert stats["threesixty/licence/unacceptable"] == 1 and stats["threesixty/licence/acceptable"] == 5
    assert not [path for _, path, _ in log_first if "nc-grants" in path]


def test_bad_rows_are_quarantined_with_a_reason(two_crawls):
    db, first, _, _, _ = two_crawls
    reasons = sorted(r["reason"] for r in db["quarantine"].rows_where("crawl_id = ?", [first.crawl_id]))
    assert reasons == ["amount not a number: 'to be confirmed'", "no stable identifier"]
    raw = json.loads(next(db["quarantine"].rows_where("reason = ?", ["no stable identifier"]))["raw"])
    assert raw["Title"] == "Grant to Preston Vocational Centre"
    assert grant(db, "360G-LBFEW-114483-csv")["amount"] == 1000.5          # "£1,000.50"


def test_covid_flag(two_crawls):
    db, _, _, _, _ = two_crawls
    assert grant(db, "360G-ABCT-0065I000002yzGKQAY")["covid"] == 1           # "COVID19", April 2020
    assert grant(db, "360G-ABCT-0065I000002yzGKQAY-csv")["covid"] == 1
    assert grant(db, "360G-ptc-gr-01653")["covid"] == 0
    rows = list(db.query("select award_date from grants where covid = 1"))
    assert len(rows) == 55 and all("2020-03-01" <= r["award_date"] <= "2021-12-31" for r in rows)


def test_location_inputs_in_order(two_crawls):
    db, _, _, _, _ = two_crawls
    lsoa_ward = db["lsoas"].get("E01011681")["ward_code"]
    cases = {
        "360G-ptc-gr-01653-csv": ("beneficiary_location", "lsoa", lsoa_ward),
        "360G-ptc-gr-01652-csv": ("recipient_location", "ward_code", "E05000918"),
        "360G-ABCT-0065I000002yzGKQAY": ("grantnav_additional", None, None),    # a Northern Irish LSOA
        "360G-LBFEW-111585-csv": ("recipient_postcode", "postcode", None),       # IG10 1PZ
        "360G-LBFEW-114001": ("recipient_postcode", None, None),                 # not known to the replay
        "360G-FoundationScotland-A377940": (None, None, None),
    }
    for ref, (geo_input, method, ward) in cases.items():
        row = grant(db, ref)
        assert (row["geo_input"], row["geo_method"]) == (geo_input, method), ref
        if ward:
            assert row["ward_code"] == ward
    assert grant(db, "360G-LBFEW-111585-csv")["ward_code"]
    assert grant(db, "360G-FoundationScotland-A377940")["geo_reason"] == "no location"
    scottish = grant(db, "360G-FoundationScotland-A391765")     # a Scottish ward: where the money goes wins
    assert (scottish["geo_input"], scottish["ward_code"], scottish["geo_reason"]) == (
        "beneficiary_location", None, "outside England")


def test_second_crawl_downloads_nothing_and_stays_healthy(two_crawls):
    db, first, second, _, log_second = two_crawls
    files = [(path, status) for _, path, status in log_second if path not in ("/data.json", "/robots.txt")
             and not path.startswith("/postcodes")]
    assert len(files) == 5 and {s for _, s in files} == {304}
    assert second.status == "ok"
    assert second.counts["new"] == 0 and second.counts["items"] == first.counts["items"]
    stats = stats_of(db, second.crawl_id)
    assert stats["threesixty/not_modified"] == 5 and stats["conditional/asked"] == 5
    assert db.execute(f"select count(*) from grants r where {seen.last_crawl('grants')} != ?",
                      [second.crawl_id]).fetchone()[0] == 0


def small_server(datasets, files):
    return ReplayServer(routes=build_routes(datasets, files) + postcodes_io.routes())


def only_csv():
    datasets, files = recorded()
    keep = [i for i, d in enumerate(datasets) if d["distribution"][0]["downloadURL"].endswith(".csv")]
    return [copy.deepcopy(datasets[i]) for i in keep], [files[i] for i in keep]


def test_changed_registry_date_downloads_again(tmp_path):
    datasets, files = only_csv()
    with small_server(datasets, files) as server:
        crawl(server, tmp_path / "db.db", NOW1)
        datasets[0]["modified"] = "2024-05-01T09:00:00.000+0000"    # the publisher republished
        again = crawl(server, tmp_path / "db.db", NOW2)
        statuses = [s for _, path, s in server.log if path.endswith(".csv")]
    assert statuses == [200, 200]
    assert stats_of(connect(tmp_path / "db.db"), again.crawl_id)["conditional/full"] == 1


def test_broken_file_is_an_error_and_its_validators_are_not_kept(tmp_path):
    datasets, files = recorded()
    keep = [i for i, d in enumerate(datasets) if "a002400000nO46WAAS" in d["distribution"][0]["downloadURL"]]
    with small_server([datasets[i] for i in keep], [files[i] for i in keep]) as server:
        server.set_fault("/www.powertochange.org.uk/", truncate=0.5, times=1)
        broken = crawl(server, tmp_path / "db.db", NOW1)
        again = crawl(server, tmp_path / "db.db", NOW2)
        statuses = [s for _, path, s in server.log if path.startswith("/www.powertochange")]
    assert broken.status == "failed" and "cannot parse" in broken.reason
    assert statuses == [200, 200]          # no conditional GET after a failed crawl
    assert again.status == "ok" and again.counts["items"] == 870
