"""Commands for the store: init."""
from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click

from core.errors import InputError
from db.postcode_directory import load_directory
from db.store import ward_summary
from monitor.commands.group import cli
from spiders.reference_download import download, is_url


def load_postcodes(db, file_or_url: str, settings: dict, now: str, work_dir: Path) -> dict:
    """Load a postcode directory from a path, or from an http(s) URL downloaded into work_dir first."""
    if not is_url(file_or_url):
        path = Path(file_or_url)
        if not path.is_file():
            raise InputError(f"--postcodes: no such file: {file_or_url}")
        return load_directory(db, path, now)
    with tempfile.TemporaryDirectory(prefix="postcodes-", dir=work_dir) as tmp:
        path = Path(tmp) / "directory"
        download(file_or_url, path, settings)
        return load_directory(db, path, now, source_name=file_or_url)


@cli.command()
@click.option("--postcodes", "postcodes", metavar="FILE_OR_URL",
              help="Load a postcode directory in the ONS Postcode Directory's CSV layout (.csv, .csv.gz or ONSPD's "
                   ".zip; a path or an http(s) URL), replacing the one loaded before.")
@click.pass_obj
def init(obj, postcodes):
    """Create or migrate both databases and load the reference geography.

    Safe to run again: it changes nothing that is already there. With --postcodes, records are placed by that
    postcode directory first, and postcodes.io is asked only about postcodes it lacks.

    Example: python run.py init --postcodes ONSPD_MAY_2024_UK.zip
    """
    db = obj.public_db(create=True)
    obj.private_db(create=True)
    s = ward_summary(db)
    click.echo(f"Public database: {obj.db_path}")
    click.echo(f"Private database: {obj.private_db_path}")
    click.echo(f"Wards (2017 best-fit, England): {s['wards']:,}, population {s['population']:,}")
    click.echo(f"  left behind: {s['left_behind_wards']} wards, {s['left_behind_population']:,} people")
    click.echo(f"  other deprived: {s['other_deprived_wards']} wards, {s['other_deprived_population']:,} people")
    if postcodes:
        now = datetime.now(UTC).isoformat(timespec="seconds")   # the clock is read here, at the boundary
        c = load_postcodes(db, postcodes, obj.settings, now, obj.db_path.parent)
        click.echo(f"Postcode directory: {c['loaded']:,} postcodes loaded from {c['rows']:,} rows "
                   f"({c['terminated']:,} terminated, {c['no_location']:,} without a location); "
                   f"{c['quarantined']:,} malformed rows quarantined")
