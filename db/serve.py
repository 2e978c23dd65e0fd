"""Serve the public database with Datasette, read-only, with the settings in db/datasette/settings.json.

The plugins (the people's pages, the site's metadata and canned queries, the read-only and limits hooks,
monitor/web/datasette_plugins/) are found by Datasette itself, through the project's `datasette` entry points:
nothing here imports the layers above the store. The plugin builds its metadata with `build_metadata` below; all
`run.py serve` hands it is its configuration (the private database and settings file), in the metadata file's
`plugins:` section.

Only the public database file is handed to Datasette, so the private one has no URL at all. Datasette opens a
file it may not change in read-only mode (`mode=ro`): it accepts only SELECT statements over HTTP, and SQLite
itself would refuse a write. `--immutable` is for a published copy no one writes to any more.
"""
from __future__ import annotations

import html
import json
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from core.errors import ConfigError, InputError

CONFIG_DIR = Path(__file__).parent / "datasette"
METADATA_KEY = "leftbehind"  # the database key as written in metadata.yml
CANNED_QUERIES = ("recent_closures", "indicator_history", "ward_profile", "source_health")   # the site's own
PRIVATE_TABLES = {"subscriptions", "outbox"}
PLUGIN = "leftbehind-monitor"   # the project's key under the metadata's `plugins:`


def _fill_placeholders(value, db_name: str):
    """Return value with every {db} in its strings replaced by the database name."""
    if isinstance(value, dict):
        return {k: _fill_placeholders(v, db_name) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_placeholders(v, db_name) for v in value]
    if isinstance(value, str):
        return value.replace("{db}", db_name)
    return value


def build_metadata(db_name: str, config_dir: Path = CONFIG_DIR, provenance: dict | None = None,
                   fragments: dict | None = None, extra: dict | None = None) -> dict:
    """Return Datasette metadata for a database named db_name, with each canned query's SQL from its file.

    provenance gives the metadata of the sources' tables (what each declares, with its source and licence keys;
    `record_columns: true` adds what the shared record columns mean);
    fragments replace markers /*name*/...default.../*end*/ in the queries' SQL (the ward's numerators);
    extra are the sources' own canned queries (name -> title, description, sql), after the site's."""
    metadata = yaml.safe_load((config_dir / "metadata.yml").read_text(encoding="utf-8"))
    derived = metadata.pop("derived", {})  # a YAML anchor shared by the queries, not a Datasette key
    shared_columns = metadata.pop("record_columns", {})   # what every record table's shared columns mean
    database = metadata["databases"].pop(METADATA_KEY)
    queries = database.get("queries", {})
    files = {p.stem for p in (config_dir / "queries").glob("*.sql")}
    if set(queries) != files:
        raise ConfigError(f"canned queries in metadata.yml and queries/*.sql differ: "
                          f"{sorted(set(queries) ^ files)}")
    for name, query in queries.items():
        query["sql"] = _fill_fragments((config_dir / "queries" / f"{name}.sql").read_text(encoding="utf-8"),
                                       fragments or {})
    for name, query in (extra or {}).items():   # a source's query says what it computes from, like the site's
        if name in queries:
            raise ConfigError(f"a source's canned query {name!r} has the name of one of the site's")
        queries[name] = {**derived, **query, "sql": _fill_fragments(query["sql"], fragments or {})}
    if queries:
        database["queries"] = queries
    links = ", ".join(f'<a href="/{{db}}/{name}">{html.escape(q.get("title") or name)}</a>'
                      for name, q in queries.items())
    metadata["description_html"] = metadata.get("description_html", "").replace("{queries}", links)
    for table, keys in (provenance or {}).items():
        keys = dict(keys)
        if keys.pop("record_columns", False):
            keys["columns"] = {**shared_columns, **keys.get("columns", {})}
        database.setdefault("tables", {}).setdefault(table, {}).update(keys)
    metadata["databases"] = {db_name: database}
    return _fill_placeholders(metadata, db_name)


def _fill_fragments(sql: str, fragments: dict) -> str:
    for name, text in fragments.items():
        sql = re.sub(rf"/\*{name}\*/.*?/\*end\*/", lambda _, text=text: text, sql, flags=re.S)
    return sql


def load_settings(config_dir: Path = CONFIG_DIR) -> dict:
    """Return the Datasette settings from settings.json."""
    return json.loads((config_dir / "settings.json").read_text(encoding="utf-8"))


def check_servable(db_path: Path, private_db_path: Path | None = None) -> None:
    """Refuse a missing file, the private database, or any file holding private tables."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise InputError(f"no database at {db_path}; run `python run.py init` (or the demo) first")
    if private_db_path and Path(private_db_path).resolve() == db_path.resolve():
        raise InputError(f"{db_path} is the private database; only the public database may be served")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.DatabaseError as e:
        raise InputError(f"{db_path} cannot be read as a SQLite database: {e}") from None
    finally:
        conn.close()
    if tables & PRIVATE_TABLES:
        raise InputError(f"{db_path} holds private tables ({', '.join(sorted(tables & PRIVATE_TABLES))}); "
                         "it will not be served")


def datasette_argv(db_path: Path, metadata_path: Path, host: str, port: int, immutable: bool = False,
                   settings: dict | None = None) -> list[str]:
    """Return the command line that serves db_path alone with the given metadata file and settings."""
    argv = [sys.executable, "-m", "datasette", "serve"]
    argv += ["-i", str(db_path)] if immutable else [str(db_path)]
    argv += ["--host", host, "--port", str(port), "--metadata", str(metadata_path)]
    for name, value in (load_settings() if settings is None else settings).items():
        if isinstance(value, bool):
            value = "on" if value else "off"
        argv += ["--setting", name, str(value)]
    return argv


def plugin_metadata(private_db_path: Path | None = None, config_path: Path | None = None) -> dict:
    """Return the metadata that configures the project's plugin: the private database and the settings file."""
    options = {}
    if private_db_path:
        options["private_database"] = str(Path(private_db_path).resolve())
    if config_path:
        options["config"] = str(Path(config_path).resolve())
    return {"plugins": {PLUGIN: options}}


def write_metadata(folder: Path, private_db_path: Path | None = None, config_path: Path | None = None) -> Path:
    """Write the plugin's configuration as a metadata file into folder and return its path."""
    path = Path(folder) / "metadata.json"
    path.write_text(json.dumps(plugin_metadata(private_db_path, config_path), indent=2), encoding="utf-8")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def memory_ceiling(memory_mb: int):
    """Return a preexec function giving the child an address-space ceiling (0 = none)."""
    def limit() -> None:
        if memory_mb:
            ceiling = int(memory_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    return limit


def start(db_path: Path, folder: Path, host: str = "127.0.0.1", port: int = 8001, immutable: bool = False,
          private_db_path: Path | None = None, memory_mb: int = 0, config_path: Path | None = None,
          **popen) -> subprocess.Popen:
    """Check the database, write the plugin's configuration into folder and start Datasette (with the plugins)."""
    check_servable(db_path, private_db_path)
    if private_db_path:
        from db.store import init_private
        init_private(private_db_path).close()  # the signup table exists before the first form is posted
    metadata_path = write_metadata(folder, private_db_path, config_path)
    return subprocess.Popen(datasette_argv(db_path, metadata_path, host, port, immutable),
                            preexec_fn=memory_ceiling(memory_mb), **popen)


def wait_until_ready(process: subprocess.Popen, url: str, timeout: float = 30.0) -> None:
    """Wait until url answers, or raise ConfigError if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(f"Datasette exited with code {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url + "/-/versions.json", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise ConfigError(f"Datasette did not answer at {url} within {timeout:.0f} s")
