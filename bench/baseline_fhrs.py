"""The hand-rolled floor for the FHRS pub register: /Authorities, each open-data XML file, ElementTree, insert_all.

Run on its own: python -m bench.baseline_fhrs API_BASE DB   (prints the pubs stored)
"""
from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import httpx
import sqlite_utils

FIELDS = ("FHRSID", "BusinessName", "BusinessType", "AddressLine1", "AddressLine2", "PostCode", "RatingDate",
          "LocalAuthorityName", "LocalAuthorityCode")


def ingest(api: str, db_path: str) -> int:
    db = sqlite_utils.Database(db_path)
    db.enable_wal()
    n = 0
    with httpx.Client(timeout=600) as client:
        listing = client.get(api + "/Authorities", headers={"x-api-version": "2"}).json()["authorities"]
        for authority in listing:
            if not authority.get("FileName"):
                continue
            answer = client.get(authority["FileName"])
            if answer.status_code != 200:   # listed, but no file served
                continue
            root = ET.fromstring(answer.content)
            rows = []
            for e in root.iter("EstablishmentDetail"):
                if e.findtext("BusinessTypeID") != "7843":
                    continue
                row = {f: e.findtext(f) for f in FIELDS}
                row["Latitude"], row["Longitude"] = e.findtext("Geocode/Latitude"), e.findtext("Geocode/Longitude")
                rows.append(row)
            db["pubs"].insert_all(rows, pk="FHRSID", replace=True, alter=True, batch_size=1000)
            n += len(rows)
    return n


if __name__ == "__main__":
    print(ingest(sys.argv[1], sys.argv[2]))
