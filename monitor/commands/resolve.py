"""`run.py resolve`: which 2017 best-fit ward a point, postcode, LSOA or place is in; one at a time or a CSV."""
from __future__ import annotations

import csv
import json
import sys

import click

from core.errors import InputError
from db.resolver import Query, Resolution, Resolver
from monitor.commands.group import cli

CSV_BATCH = 1000
ADDED_COLUMNS = ("ward_code", "ward_name", "left_behind", "method", "reason")
# Header names a CSV may use for each query field, compared case-insensitively.
COLUMN_NAMES = {
    "lat": ("lat", "latitude"),
    "lng": ("lng", "lon", "long", "longitude"),
    "postcode": ("postcode", "post_code", "postal_code", "postalcode"),
    "lsoa_code": ("lsoa", "lsoa_code", "lsoa11", "lsoa11cd"),
    "place": ("place", "location", "location_name"),
}


def describe(resolver: Resolver, answer: Resolution) -> dict:
    """Return the printable description of one answer."""
    ward = resolver.ward(answer.ward_code) or {}
    out = {"ward_code": answer.ward_code, "ward_name": ward.get("name"), "lad_code": ward.get("lad_code"),
           "left_behind": bool(ward["left_behind"]) if ward else None,
           "other_deprived": bool(ward["other_deprived"]) if ward else None, "method": answer.method}
    if answer.ward_code is None:
        out["reason"] = answer.reason
    return out


def query_columns(header: list[str]) -> dict[str, str]:
    """Map each query field to the CSV column that holds it."""
    lowered = {h.strip().lower(): h for h in header}
    found = {field: next((lowered[n] for n in names if n in lowered), None) for field, names in COLUMN_NAMES.items()}
    found = {k: v for k, v in found.items() if v}
    if not ({"lat", "lng"} <= found.keys() or {"postcode", "lsoa_code", "place"} & found.keys()):
        raise InputError(f"the CSV needs lat and lng, postcode, lsoa or place columns; it has: {', '.join(header)}")
    return found


def resolve_csv(resolver: Resolver, infile, outfile) -> int:
    """Copy a CSV, adding the ward of each row; return the rows written."""
    reader = csv.DictReader(infile)
    if not reader.fieldnames:
        raise InputError("the CSV is empty")
    columns = query_columns(reader.fieldnames)
    fieldnames = list(reader.fieldnames) + [c for c in ADDED_COLUMNS if c not in reader.fieldnames]
    writer = csv.DictWriter(outfile, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    rows, written = [], 0
    for row in reader:
        rows.append(row)
        if len(rows) >= CSV_BATCH:
            written += _write_batch(resolver, rows, columns, writer)
            rows = []
    return written + _write_batch(resolver, rows, columns, writer)


def _write_batch(resolver: Resolver, rows: list[dict], columns: dict[str, str], writer) -> int:
    queries = [Query(**{field: (row.get(col) or "").strip() or None for field, col in columns.items()})
               for row in rows]
    for row, answer in zip(rows, resolver.resolve_many(queries)):
        ward = resolver.ward(answer.ward_code) or {}
        row.update({"ward_code": answer.ward_code or "", "ward_name": ward.get("name", ""),
                    "left_behind": ward.get("left_behind", ""), "method": answer.method or "",
                    "reason": answer.reason or ""})
        writer.writerow(row)
    return len(rows)


@cli.command()
@click.option("--lat", type=float, help="Latitude (WGS84); give --lng too.")
@click.option("--lng", type=float, help="Longitude (WGS84).")
@click.option("--postcode", help="A UK postcode, looked up on postcodes.io (cached).")
@click.option("--lsoa", help="A 2011 LSOA code.")
@click.option("--ward", help="A ward code of any vintage.")
@click.option("--place", help="A place name, looked up on postcodes.io (cached).")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="A CSV with lat,lng or postcode or lsoa or place columns; written to stdout with the ward added.")
@click.pass_obj
def resolve(obj, lat, lng, postcode, lsoa, ward, place, input_path):
    """Say which 2017 best-fit ward a point, postcode, LSOA or place is in.

    Example: python run.py resolve --postcode "EX36 4AT"
    """
    if (lat is None) != (lng is None):
        raise InputError("give both --lat and --lng")
    single = any(v is not None for v in (lat, postcode, lsoa, ward, place))
    if single == bool(input_path):
        raise InputError("give one location (--lat/--lng, --postcode, --lsoa, --ward, --place) or --input FILE.csv")
    db = obj.public_db(create=True)
    resolver = Resolver(db, obj.settings, strict=True)
    try:
        if input_path:
            with open(input_path, newline="", encoding="utf-8-sig") as f:
                resolve_csv(resolver, f, sys.stdout)
            return
        answer = resolver.resolve_one(Query(ward_code=ward, lsoa_code=lsoa, lat=lat, lng=lng, postcode=postcode,
                                            place=place))
        click.echo(json.dumps(describe(resolver, answer)))
    finally:
        resolver.postcodes.close()
