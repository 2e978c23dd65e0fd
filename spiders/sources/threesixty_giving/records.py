"""The grants table's own schema steps (db/record_tables.py runs them after the ones every record table gets)."""
from __future__ import annotations

from db import seen
from db.migrations import Migrations

schema = Migrations("grants", legacy="public")


@schema
def m007_grants_source_url_index(db) -> None:
    db["grants"].create_index(["source", "source_url"], if_not_exists=True)   # touching a not-modified file's grants


@schema
def m008_indicator_indexes(db) -> None:
    # Covering indexes for monitor/indicators/compute.py: the grants window and the COVID grants are range searches;
    # 1M grants recompute in < 1 s.
    db["grants"].create_index(["source", "award_date", "ward_code", "currency", "amount"],
                              index_name="idx_grants_indicator_window", if_not_exists=True)
    db["grants"].create_index(["source", "covid", "ward_code", "currency", "amount"],
                              index_name="idx_grants_indicator_covid", if_not_exists=True)


@schema
def m016_grants_input_hash(db) -> None:
    # The hash of a grant's fields as built from its source: an unchanged grant is skipped before normalising and
    # geo-matching (spiders/pipelines/unchanged.py). Stores made before it gain the column here.
    if "input_hash" not in db["grants"].columns_dict:
        db["grants"].add_column("input_hash", str)


@schema
def m019_drop_redundant_grant_index(db) -> None:
    # Every grant has the same source and scope, so (source, scope) selects nothing the (source, ...) indexes do
    # not; it only cost time on every insert. The covering indicator indexes and (source, source_url) stay.
    db.execute("drop index if exists idx_grants_source_scope")


@schema
def m021_partial_covid_grant_index(db) -> None:
    # The COVID indicator reads only grants with covid = 1 (a few in a hundred): a partial index holds just those,
    # so the other grants cost it nothing when they are inserted (an index over every grant was a seventh of the
    # store's insert time). Its query says `r.covid = 1`, which lets SQLite use it; covid is a column of it too, so
    # that the query reads the index alone.
    db.execute("drop index if exists idx_grants_indicator_covid")
    db.execute("create index if not exists idx_grants_covid ON grants (source, ward_code, currency, amount, covid) "
               "where covid = 1")


@schema
def m022_grants_seen(db) -> None:
    # A grant listed again unchanged is marked seen in a narrow side table, not by rewriting its ~1 KB row
    # (db/seen.py): 0.17 s for 200,000 grants instead of 2.3 s.
    seen.create(db, "grants")


@schema
def m023_unresolved_grants_unhashed(db) -> None:
    # A grant left unresolved because postcodes.io was unavailable has no input hash, so it is never skipped as
    # unchanged and its lookup is tried again (spiders/pipelines/geomatch.py); a file holding such a grant is read
    # again whole, even if unchanged (spiders/conditional_get.py): the partial index finds those files.
    if "input_hash" in db["grants"].columns_dict:
        db.execute("update grants set input_hash = null where ward_code is null and geo_reason like '%unavailable%' "
                   "and input_hash is not null")
        db.execute("create index if not exists idx_grants_waiting on grants (source, source_url) "
                   "where input_hash is null")
