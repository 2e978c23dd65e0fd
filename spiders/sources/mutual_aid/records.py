"""The groups table's own schema steps (db/record_tables.py runs them after the ones every record table gets)."""
from __future__ import annotations

from db.migrations import Migrations

schema = Migrations("groups", legacy="public")


@schema
def m008_indicator_indexes(db) -> None:
    # A covering index for monitor/indicators/compute.py: groups are read by (source, scope) without their rows.
    db["groups"].create_index(["source", "scope", "status", "ward_code", "closed_at", "last_crawl_id"],
                              index_name="idx_groups_indicators", if_not_exists=True)
