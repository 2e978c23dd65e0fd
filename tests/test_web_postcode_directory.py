"""The ward search finds a postcode in the local postcode directory, one the (replayed) postcodes.io does not know."""
from __future__ import annotations

import csv
from pathlib import Path

import httpx
from bs4 import BeautifulSoup

from db.postcode_directory import load_directory
from db.store import connect
from tests.web_server import web_server

LOOKUP = Path(__file__).resolve().parents[1] / "db" / "reference" / "raw" / "lookup_lsoa11_ward17.csv"


def test_a_postcode_only_the_directory_knows_finds_its_ward(tmp_path, template_db):
    # LS3 1HH with the LSOA Power to Change's grant gives it (the demo directory's row); postcodes.io's replay
    # knows only its few recorded postcodes, and answers null for this one.
    directory = tmp_path / "onspd.csv"
    directory.write_text("pcds,lsoa11,lat,long,doterm\nLS3 1HH,E01011681,,,\n", encoding="utf-8")
    with open(LOOKUP, newline="", encoding="utf-8") as f:
        ward = next(r["ward17_code"] for r in csv.DictReader(f) if r["lsoa11_code"] == "E01011681")
    (tmp_path / "site").mkdir()
    with web_server(tmp_path / "site", template_db) as site:
        with httpx.Client(base_url=site["url"], timeout=30) as client:
            before = client.get("/wards", params={"q": "LS3 1HH"})
            db = connect(site["db_path"])
            load_directory(db, directory, "2024-05-01T00:00:00+00:00")
            db.close()
            after = client.get("/wards", params={"q": "ls31hh"})
    assert "No ward in England found" in BeautifulSoup(before.text, "html.parser").get_text(" ")
    links = [a["href"] for a in BeautifulSoup(after.text, "html.parser").select("main li a")]
    assert links == [f"/wards/{ward}"]
