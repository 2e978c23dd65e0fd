"""Build the CSV and XLSX renderings of a few real grants (replay data for the table parsers).

CONVERTED from the GrantNav test packages beside them into 360Giving flattened titles; the alterations made to
exercise the parsers are listed in ALTERED and in data/threesixty_giving/README.md.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

PTC = "grantnav-testdata_a002400000nO46WAAS.json"
LLOYDS = "grantnav-testdata_a002400000OiDBQAA3.json"
ABCT = "grantnav-testdata_awefw001p00000zgyHZAAY.json"

# Shuffled, mixed case, with an extra column and an unused one: matched by name, never by position.
CSV_COLUMNS = ["Title", "Identifier", "Notes (internal)", "Currency", "Amount awarded", "award date", "Description",
               "RECIPIENT ORG:NAME", "Recipient Org:Identifier", "Recipient Org:Postal Code",
               "Recipient Org:Location:Geographic Code", "Recipient Org:Location:Geographic Code Type",
               "Beneficiary Location:0:Name", "Beneficiary Location:0:Geographic Code",
               "Beneficiary Location:0:Geographic Code Type", "Beneficiary Location:1:Geographic Code",
               "Beneficiary Location:1:Geographic Code Type", "Funding Org:Identifier", "Funding Org:Name",
               "Funding Org:Department", "Grant Programme:Title", "Last Modified"]
ALTERED = {
    "ids": "every identifier gets a '-csv' or '-xlsx' suffix, so each file's grants are distinct records",
    "recipient_location": "PTC grant 2: its GrantNav ward code moved to Recipient Org:Location, beneficiary dropped",
    "postcode": "Lloyds grant 2: postcode replaced by IG10 1PZ, one the postcodes.io replay knows",
    "pound_amount": "Lloyds grant 3: amount written as '£1,000.50'",
    "bad_amount": "Lloyds grant 4: amount written as 'to be confirmed'",
    "no_identifier": "Lloyds grant 5: identifier removed",
}


def flat(g: dict) -> dict:
    """Flatten a grant's fields we render to titles."""
    rec = (g.get("recipientOrganization") or [{}])[0]
    ben = g.get("beneficiaryLocation") or []
    row = {"Identifier": g["id"], "Title": g.get("title"), "Description": g.get("description"),
           "Currency": g.get("currency"), "Amount awarded": g.get("amountAwarded"), "award date": g.get("awardDate"),
           "RECIPIENT ORG:NAME": rec.get("name"), "Recipient Org:Identifier": rec.get("id"),
           "Recipient Org:Postal Code": rec.get("postalCode"),
           "Funding Org:Identifier": g["fundingOrganization"][0].get("id"),
           "Funding Org:Name": g["fundingOrganization"][0].get("name"),
           "Funding Org:Department": g["fundingOrganization"][0].get("department"),
           "Grant Programme:Title": (g.get("grantProgramme") or [{}])[0].get("title"),
           "Last Modified": g.get("dateModified")}
    for i, loc in enumerate(ben[:2]):
        if i == 0:
            row["Beneficiary Location:0:Name"] = loc.get("name")
        row[f"Beneficiary Location:{i}:Geographic Code"] = loc.get("geoCode")
        row[f"Beneficiary Location:{i}:Geographic Code Type"] = loc.get("geoCodeType")
    return row


def csv_rows(src: Path) -> list[dict]:
    ptc = json.loads((src / PTC).read_text())["grants"]
    lloyds = json.loads((src / LLOYDS).read_text())["grants"]
    abct = json.loads((src / ABCT).read_text())["grants"]
    first = flat(ptc[0])   # multi-value: its LSOA and, as a second beneficiary location, its GrantNav ward
    first.update({"Beneficiary Location:1:Geographic Code": ptc[0]["recipientWardNameGeoCode"],
                  "Beneficiary Location:1:Geographic Code Type": "WD", "Notes (internal)": "checked"})
    second = flat(ptc[1])
    for k in [c for c in second if c.startswith("Beneficiary")]:
        second[k] = None
    second.update({"Recipient Org:Location:Geographic Code": ptc[1]["recipientWardNameGeoCode"],
                   "Recipient Org:Location:Geographic Code Type": "WD"})
    covid = next(g for g in abct if g["id"] == "360G-ABCT-0065I000002yzGKQAY")
    rows = [first, second, flat(lloyds[0]), flat(lloyds[1]), flat(covid), flat(lloyds[2]), flat(lloyds[3]),
            flat(lloyds[4])]
    rows[3]["Recipient Org:Postal Code"] = "IG10 1PZ"
    rows[5]["Amount awarded"] = "£1,000.50"
    rows[6]["Amount awarded"] = "to be confirmed"
    for r in rows:
        r["Identifier"] += "-csv"
    rows[7]["Identifier"] = ""
    return rows


def xlsx_rows(src: Path) -> list[dict]:
    ptc = json.loads((src / PTC).read_text())["grants"]
    rows = [flat(g) for g in ptc[2:6]]
    for r in rows:
        r["Identifier"] += "-xlsx"
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, CSV_COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in CSV_COLUMNS})


def write_xlsx(rows: list[dict], path: Path) -> None:
    """A Readme sheet first, then the grants under a title row; dates as real date cells, amounts as numbers."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Readme"
    book.active.append(["Power to Change grants (a few, converted from the GrantNav test data)"])
    sheet = book.create_sheet("Grants")
    sheet.append(["360Giving data: grants awarded"])
    columns = [c for c in CSV_COLUMNS if c != "Notes (internal)"]
    sheet.append(columns)
    for r in rows:
        values = dict(r)
        values["award date"] = datetime.fromisoformat(r["award date"]).replace(tzinfo=None)
        sheet.append([values.get(c) for c in columns])
    book.save(path)


def build(here: Path) -> None:
    write_csv(csv_rows(here), here / "360giving-sample.csv")
    write_xlsx(xlsx_rows(here), here / "360giving-sample.xlsx")
