"""The libraries table's own schema steps (db/record_tables.py runs them after the ones every record table gets)."""
from __future__ import annotations

from db.migrations import Migrations

schema = Migrations("libraries", legacy="public")


@schema
def m008_indicator_indexes(db) -> None:
    # A covering index for monitor/indicators/compute.py: libraries are read by (source, scope) without their rows.
    db["libraries"].create_index(["source", "scope", "status", "ward_code", "closed_at", "last_crawl_id"],
                                 index_name="idx_libraries_indicators", if_not_exists=True)


@schema
def m011_successor_links(db) -> None:
    # A venue that changed hands links to its successor (and back).
    for name in ("succeeds", "succeeded_by"):
        if name not in db["libraries"].columns_dict:
            db["libraries"].add_column(name, str)


@schema
def m025_library_windows(db) -> None:
    # A library's listed_state_at is the last date a healthy list showed it in its current state (the next
    # window's start); `announced` is the announcement last reported ("2024", "temporary closure"), so it is told
    # once.
    if "listed_state_at" not in db["libraries"].columns_dict:   # (a store made before has it, and its values)
        db["libraries"].add_column("listed_state_at", str)
        db.execute("update libraries set listed_state_at = last_seen_at where listed_state_at is null")
    if "announced" not in db["libraries"].columns_dict:
        db["libraries"].add_column("announced", str)
