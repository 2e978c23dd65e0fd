"""Place names as the lists write them, normalised for comparing: postcodes, UPRNs, authorities, a place's name.

Shared by the sources that link records to each other by name (library identity, library news).
"""
from __future__ import annotations

import re

_NAME_NOISE = {"library", "libraries", "lib", "and", "the", "of", "community", "centre", "center", "hub",
               "branch", "information", "learning", "local", "public", "point", "link", "plus", "services", "at",
               "service", "one", "stop", "shop"}   # "X Library and One Stop Shop" is "X Library & Information Service"
# Authorities replaced by others (local government reorganisation): a library keeps its identity across them.
SUCCESSORS = {"cumberland": "cumbria", "westmorland and furness": "cumbria",
              "north northamptonshire": "northamptonshire", "west northamptonshire": "northamptonshire"}
_AUTHORITY_NOISE = re.compile(r"\b(london borough of|royal borough of|metropolitan borough|county council|"
                              r"city council|borough council|district council|council|city of|borough of|the)\b")


def norm_postcode(value: str | None) -> str:
    return re.sub(r"[^A-Z0-9]", "", (value or "").upper())


def norm_uprn(value: str | None) -> str:
    digits = (value or "").strip()
    if not digits.isdigit():
        return ""
    digits = digits.lstrip("0")
    return digits if len(digits) >= 5 else ""


def norm_authority(value: str | None) -> str:
    text = re.sub(r"[^a-z ]", " ", (value or "").lower().replace("&", " and "))
    name = " ".join(_AUTHORITY_NOISE.sub(" ", text).split())
    return SUCCESSORS.get(name, name)


def name_words(value: str | None) -> frozenset[str]:
    text = re.sub(r"['’]", "", (value or "").lower().replace("&", " and "))   # Bishop's = Bishops
    words = re.sub(r"[^a-z0-9 ]", " ", text).split()
    kept = frozenset(w for w in words if w not in _NAME_NOISE)
    return kept or frozenset(words)
