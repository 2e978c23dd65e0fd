"""The held-out changed-hands scenario, built from the shipped real Halton file (81 pubs).

Hand-picked from the file: six pubs are removed outright, five are removed and registered again at the same
address under new FHRS ids (two also under new names), as the register shows a change of operator. Stages:
  before     the real file
  after      without the 11, with the 5 re-registrations
  truncated  the first 30 establishments of `after` (a well-formed but cut-short list)
"""
from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path

REAL = Path(__file__).resolve().parent.parent / "spiders/sources/fhrs_pubs/data/FHRS902en-GB_2024-01-01.xml"
CODE = "902"
REMOVED = {"245068": "Alchemy", "245114": "Ball Hotel", "245145": "Blundell Arms", "245273": "Cricketers Arms",
           "245390": "Grapes", "245610": "New Inn"}
# old id -> (new id, new name or None for the same name)
REREGISTERED = {"245157": ("1700001", None), "245235": ("1700002", "The Clarendon"), "245354": ("1700003", None),
                "245570": ("1700004", "Millfield Tavern"), "245702": ("1700005", None)}


def _file(root: ET.Element, details: list[ET.Element]) -> bytes:
    root = copy.deepcopy(root)
    collection = root.find("EstablishmentCollection")
    for child in list(collection):
        collection.remove(child)
    collection.extend(details)
    root.find("Header/ItemCount").text = str(len(details))
    return b'<?xml version="1.0"?>\n' + ET.tostring(root, encoding="utf-8").split(b"?>", 1)[-1].lstrip()


def stages() -> dict[str, bytes]:
    """Return the scenario's files by stage."""
    body = REAL.read_bytes()
    root = ET.fromstring(body)
    details = list(root.iter("EstablishmentDetail"))
    ids = {d.findtext("FHRSID") for d in details}
    assert set(REMOVED) | set(REREGISTERED) <= ids, "the hand-picked pubs are in the real file"
    kept, new = [], []
    for d in details:
        fhrsid = d.findtext("FHRSID")
        if fhrsid in REMOVED:
            continue
        if fhrsid in REREGISTERED:
            again = copy.deepcopy(d)
            new_id, new_name = REREGISTERED[fhrsid]
            again.find("FHRSID").text = new_id
            if new_name:
                again.find("BusinessName").text = new_name
            new.append(again)
            continue
        kept.append(d)
    after = kept + new
    return {"before": body, "after": _file(root, after), "truncated": _file(root, after[:30])}
