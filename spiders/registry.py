"""The source registry: what the monitor knows of each source, read from the spider classes that declare it.

Each spider in SPIDER_MODULES declares, next to its parsing, its item (and so its record table and its migrations),
how its health is scoped, how its records close, its licence and attribution, its label, its indicators, its wording
in the digest and on the ward pages, and the words people use to subscribe to it (spiders/base.py lists the
attributes); its folder holds its replay routes and its Datasette metadata. The store, closures, coverage,
indicators, alerts, the digest, the subscription form, the web pages and Datasette all read this registry, so adding
a source is one folder and its tests (docs/adding-a-source.md).

LBM_SPIDER_MODULES (comma-separated package names) adds source folders kept outside spiders/sources
(spiders/settings.py).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader

from core import config
from core.errors import ConfigError
from core.setting_values import Setting
from db import record_tables
from db.record_tables import RecordTable
from spiders import settings as spider_settings
from spiders.items import columns

CLOSURE_RULES = ("absence", "source", "reports")


@dataclass(frozen=True)
class Source:
    name: str
    table: str                 # the record table its items go to (its item's TABLE)
    label: str                 # "Pubs (FSA register)"
    noun: str                  # "pub": one record, in a sentence
    credit: str                # one line naming who to credit and the licence, for emails and the digest
    licence: str               # the data's licence ("" when each record carries its publisher's)
    licence_url: str
    attribution: str
    homepage: str
    by_authority: bool         # health, coverage and closures are judged per local authority
    closure_rule: str          # absence | source | reports
    dated_by_first_missing: bool   # a closure by absence dates from the first crawl without the record
    overlap_checked: bool      # a scope is healthy only if it lists most of its known records again
    kinds: dict                # subscription word -> the venue kinds it means (() = every record)
    scopes_setting: str        # the setting naming the scopes a crawl covers, if any
    counted: bool              # its records are counted by indicators, so coverage applies
    schedule: str              # cron: when the scheduler crawls it, unless the `schedule` setting says otherwise
    record_table: RecordTable  # its item's table: columns, migrations, place on the map (db/record_tables.py)
    indicators: tuple          # the indicators its records feed (spiders/indicators.py)
    rank: int                  # where its figures and news come in tables and the digest (lower first)
    digest_section: dict       # its section of new records in the digest, in its own words ({} = none)
    venue_kind_nouns: dict     # venue kind -> its noun, in alerts and the digest
    ward_profile: tuple        # its records on the ward_profile page: SQL for section, item, date, detail
    ward_section: dict         # its records on the people's ward page: heading and rank
    options: tuple             # its own settings (core.setting_values.Setting)
    archived: dict             # its publisher stopped: archive_url, last_listing ({} = a live source)

    @property
    def closes_by_absence(self) -> bool:
        return self.closure_rule == "absence"


def scrapy_settings() -> Settings:
    """Return the project's Scrapy settings (spiders/settings.py), as `scrapy crawl` would see them."""
    settings = Settings()
    settings.setmodule(spider_settings)
    return settings


def spider_loader() -> SpiderLoader:
    """Return Scrapy's own loader over SPIDER_MODULES: the one way a source name becomes a spider class."""
    return SpiderLoader.from_settings(scrapy_settings())


def from_spider(cls) -> Source:
    if cls.closure_rule not in CLOSURE_RULES:
        raise ValueError(f"spider {cls.name}: closure_rule must be one of {CLOSURE_RULES}, not {cls.closure_rule!r}")
    if cls.item_class is None or not cls.item_class.TABLE:
        raise ValueError(f"spider {cls.name} declares no item with a record table")
    return Source(name=cls.name, table=cls.item_class.TABLE, label=cls.label or cls.name, noun=cls.noun,
                  credit=cls.credit or ", ".join(filter(None, (cls.attribution, cls.licence))),
                  licence=cls.licence, licence_url=cls.licence_url, attribution=cls.attribution,
                  homepage=cls.homepage, by_authority=cls.scope_kind == "authority", closure_rule=cls.closure_rule,
                  overlap_checked=cls.overlap_checked, dated_by_first_missing=cls.dated_by_first_missing, kinds=dict(cls.subscription_kinds),
                  scopes_setting=cls.scopes_setting, counted=cls.closure_rule != "reports",
                  schedule=cls.schedule, record_table=record_table(cls),
                  indicators=tuple(cls.indicators), rank=cls.rank,
                  digest_section=dict(cls.digest_section), venue_kind_nouns=dict(cls.venue_kind_nouns),
                  ward_profile=tuple(cls.ward_profile), ward_section=dict(cls.ward_section),
                  options=tuple(cls.options), archived=dict(cls.archived))


def record_table(cls) -> RecordTable:
    """Return the record table a spider's item declares, with the migrations the spider names."""
    schema = cls.schema
    return RecordTable(cls.item_class.TABLE, columns(cls.item_class), tuple(schema.steps) if schema else (),
                       cls.place_kind, cls.venue_kind_sql, schema.legacy if schema else None,
                       seen_apart=cls.item_class.SEEN_APART)


@cache
def sources() -> dict[str, Source]:
    """Return every source, by name, in name order."""
    loader = spider_loader()
    return {name: from_spider(loader.load(name)) for name in sorted(loader.list())}


def ranked() -> list[Source]:
    """Return every source in the order its figures and news are shown."""
    return sorted(sources().values(), key=lambda s: (s.rank, s.name))


def indicators() -> tuple:
    """Return every source's indicators, in the sources' order."""
    return tuple(i for s in ranked() for i in s.indicators)


def ward_sections() -> dict[str, str]:
    """Return the record tables shown on the people's ward page, in page order -> their headings."""
    shown = sorted((s for s in sources().values() if s.ward_section), key=lambda s: (s.ward_section["rank"], s.name))
    out: dict[str, str] = {}
    for s in shown:
        out.setdefault(s.table, s.ward_section["heading"])
    return out


def venue_kind_nouns() -> dict[str, str]:
    """Return every venue kind a source gives its records -> its noun ("members_club" -> "social club")."""
    return {kind: noun for s in ranked() for kind, noun in s.venue_kind_nouns.items()}


def tables_of_sources() -> list[RecordTable]:
    """Return every record table, once each: the first source (by name) writing to a table declares it."""
    out: dict[str, RecordTable] = {}
    for s in sources().values():
        out.setdefault(s.table, s.record_table)
    return list(out.values())


def record_table_names() -> tuple[str, ...]:
    """Return the name of every record table."""
    return tuple(t.name for t in tables_of_sources())


def source_settings() -> list[tuple[str, Setting]]:
    """Return each source's own settings, as (source name, Setting), in the order sources are shown."""
    return [(s.name, setting) for s in ranked() for setting in s.options]


record_tables.provide(tables_of_sources)   # the store learns its record tables from the sources
config.provide(source_settings)            # and the settings their own


def source_folders() -> list:
    """Return each source's folder (the package its spider module is in), once each, in source name order."""
    loader = spider_loader()
    out = []
    for name in sorted(loader.list()):
        folder = loader.load(name).__module__.rpartition(".")[0]
        if folder and (package := importlib.import_module(folder)) not in out:
            out.append(package)
    return out


def replay_modules() -> list:
    """Return each source's replay module: the `replay` module in its folder, where it has one."""
    out = []
    for folder in source_folders():
        try:
            out.append(importlib.import_module(f"{folder.__name__}.replay"))
        except ModuleNotFoundError as e:
            if e.name != f"{folder.__name__}.replay":
                raise
    return out


def source(name: str) -> Source | None:
    return sources().get(name)


def tables() -> dict[str, str]:
    """Return source name -> record table."""
    return {s.name: s.table for s in sources().values()}


def subscription_kinds() -> dict[str, tuple[str, str, tuple]]:
    """Return each word `subscribe --kinds` accepts -> (its source, its noun, the venue kinds it means)."""
    return {word: (s.name, s.noun, tuple(venue_kinds)) for s in sources().values()
            for word, venue_kinds in s.kinds.items()}


def table_provenance() -> dict[str, dict]:
    """Return Datasette's metadata of each source's tables: what its folder's datasette.yml says of them, and the
    source and licence keys of each record table, from the spiders writing to it."""
    out: dict[str, dict] = {}
    for folder in source_folders():
        path = Path(folder.__file__).parent / "datasette.yml"
        if path.exists():
            for table, meta in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("tables", {}).items():
                out.setdefault(table, meta)
    for table, keys in _record_table_provenance().items():
        out.setdefault(table, {}).update(keys)
    return out


def source_queries() -> dict[str, dict]:
    """Return the canned queries the sources declare: their folders' datasette.yml `queries`, each with its SQL from
    the folder's queries/<name>.sql."""
    out: dict[str, dict] = {}
    for folder in source_folders():
        base = Path(folder.__file__).parent
        path = base / "datasette.yml"
        declared = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("queries") or {} \
            if path.exists() else {}
        for name, meta in declared.items():
            sql = base / "queries" / f"{name}.sql"
            if not sql.is_file():
                raise ConfigError(f"{path} declares the canned query {name!r} but {sql} is missing")
            out.setdefault(name, {**meta, "sql": sql.read_text(encoding="utf-8")})
    return out


def _record_table_provenance() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, list[str]]] = {}
    for s in sources().values():
        keys = out.setdefault(s.table, {"source": [], "source_url": [], "license": [], "license_url": []})
        for key, value in (("source", s.attribution), ("source_url", s.homepage), ("license_url", s.licence_url),
                           ("license", s.licence or "Each publisher's licence, given in the licence column")):
            if value and value not in keys[key]:
                keys[key].append(value)
    # Datasette shows one link each: the first source's; the names and licences of every source are listed.
    return {table: {"source": "; ".join(k["source"]), "source_url": k["source_url"][0] if k["source_url"] else "",
                    "license": "; ".join(k["license"]), "license_url": k["license_url"][0] if k["license_url"] else ""}
            for table, k in out.items()}


def enabled(settings: dict) -> list[str]:
    """Return the sources `crawl --all` and the scheduler run: enabled_sources, or every source when it is empty."""
    return list(settings.get("enabled_sources") or sources())


def frozen(settings: dict) -> dict[str, dict]:
    """Return the sources treated as archived -> archive_url and last_listing: those whose spider says so, then the
    `frozen_sources` setting's (a source named false there is live)."""
    out = {s.name: dict(s.archived) for s in sources().values() if s.archived}
    for name, value in (settings.get("frozen_sources") or {}).items():
        if value is False:
            out.pop(name, None)
        else:
            out[name] = dict(value) if isinstance(value, dict) else {}
    return out


def cron(settings: dict, name: str) -> str | None:
    """Return a job's cron: the `schedule` setting's, else a source's own; None when neither names it."""
    configured = settings.get("schedule") or {}
    if name in configured:
        return configured[name]
    registered = source(name)
    return registered.schedule if registered else None
