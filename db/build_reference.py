"""Rebuild the compact reference tables in db/reference/ from the raw files in db/reference/raw/.

Run: python -m db.build_reference

Inputs (raw/, see raw/SOURCES.md for provenance and licences):
  cni2019_england_ward17.csv      OCSI / Local Trust Community Needs Index; `Left Behind Area?` marks the 225
  imd2019_ward17_popweighted.csv  ward IMD 2019 score (population-weighted LSOA scores), the 7,427 wards
  population_mid2019_lsoa11.csv   ONS mid-2019 LSOA populations
  lookup_lsoa11_ward17.csv        ONS best-fit LSOA 2011 -> ward 2017
  imd2019_lsoa11_deciles_ranks.csv
  ward_all_codes.csv, la_all_codes.csv  ward and LA codes across vintages

Outputs:
  wards.csv         one row per English 2017 best-fit ward
  lsoas.csv         LSOA 2011 -> ward, population, IMD decile
  ward_aliases.csv  ward codes of other vintages that map to exactly one 2017 ward
"""
from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent / "reference"
RAW = HERE / "raw"
OTHER_DEPRIVED_SHARE = 0.10  # most deprived 10% of English wards by ward IMD score


def _rows(name: str):
    with open(RAW / name, newline="", encoding="utf-8-sig") as f:
        yield from csv.DictReader(f)


def _norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower().replace("&", " and ")).strip()


def build_lsoas() -> list[dict]:
    pop = {r["lsoa11_code"]: int(r["total_population"]) for r in _rows("population_mid2019_lsoa11.csv")}
    decile = {r["lsoa11_code"]: int(r["IMD_decile"]) for r in _rows("imd2019_lsoa11_deciles_ranks.csv")}
    out = []
    for r in _rows("lookup_lsoa11_ward17.csv"):
        code = r["lsoa11_code"]
        if not code.startswith("E"):
            continue
        out.append({"code": code, "ward_code": r["ward17_code"], "population": pop.get(code, 0),
                    "imd_decile": decile.get(code, "")})
    return out


def build_wards(lsoas: list[dict]) -> list[dict]:
    population: dict[str, int] = defaultdict(int)
    for lsoa in lsoas:
        population[lsoa["ward_code"]] += lsoa["population"]
    cni = {r["ward17_code"]: r for r in _rows("cni2019_england_ward17.csv")}
    names = {r["WDCD"]: r for r in _rows("ward_all_codes.csv")}
    las = {r["LADCD"]: r for r in _rows("la_all_codes.csv")}
    wards = []
    for r in _rows("imd2019_ward17_popweighted.csv"):
        code = r["WD17CD"]
        c = cni.get(code, {})
        n = names.get(code, {})
        lad_code = c.get("lad19_code") or n.get("LADCD_ACTIVE") or n.get("LADCD", "")
        la = las.get(lad_code, {})
        wards.append({
            "code": code,
            "name": c.get("ward17_name") or n.get("WDNM", ""),
            "lad_code": lad_code,
            "lad_name": c.get("lad19_name") or la.get("LADNM", ""),
            "region": la.get("RGNNM", "") or n.get("RGNNM", ""),
            "population": population.get(code, 0),
            "imd_score": round(float(r["Score"]), 4),
            "cni_score": _num(c.get("Community Needs Index score")),
            "civic_assets_score": _num(c.get("Civic Assets score")),
            "connectedness_score": _num(c.get("Connectedness score")),
            "engaged_community_score": _num(c.get("Engaged community score")),
            "left_behind": 1 if c.get("Left Behind Area?") == "TRUE" else 0,
        })
    ranked = sorted(wards, key=lambda w: -w["imd_score"])
    cut = math.ceil(len(ranked) * OTHER_DEPRIVED_SHARE)
    most_deprived = {w["code"] for w in ranked[:cut]}
    for w in wards:
        w["most_deprived_10pc"] = 1 if w["code"] in most_deprived else 0
        w["other_deprived"] = 1 if w["most_deprived_10pc"] and not w["left_behind"] else 0
    return wards


def _num(value):
    return round(float(value), 4) if value not in (None, "", "NA") else ""


def build_aliases(wards: list[dict]) -> list[dict]:
    """Map codes of other vintages to a 2017 ward when name and local authority pick exactly one."""
    ward17 = {w["code"] for w in wards}
    by_key: dict[tuple, list[str]] = defaultdict(list)
    all_codes = list(_rows("ward_all_codes.csv"))
    info = {r["WDCD"]: r for r in all_codes}
    for w in wards:
        r = info.get(w["code"])
        lad = (r or {}).get("LADCD_ACTIVE") or w["lad_code"]
        by_key[(_norm_name(w["name"]), lad)].append(w["code"])
    out = []
    for r in all_codes:
        code = r["WDCD"]
        if code in ward17 or not code.startswith("E05"):
            continue
        hits = by_key.get((_norm_name(r["WDNM"]), r["LADCD_ACTIVE"]), [])
        if len(hits) == 1:
            out.append({"code": code, "vintage": r["SOURCEFILE"], "ward_code": hits[0], "rule": "same name and LA"})
    return out


def _write(name: str, rows: list[dict]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def main() -> None:
    lsoas = build_lsoas()
    wards = build_wards(lsoas)
    aliases = build_aliases(wards)
    _write("lsoas.csv", lsoas)
    _write("wards.csv", wards)
    _write("ward_aliases.csv", aliases)
    lb = [w for w in wards if w["left_behind"]]
    print(f"wards {len(wards)}, left behind {len(lb)}, other deprived {sum(w['other_deprived'] for w in wards)}, "
          f"England population {sum(w['population'] for w in wards):,}, left-behind population "
          f"{sum(w['population'] for w in lb):,}, aliases {len(aliases)}")


if __name__ == "__main__":
    main()
