"""Each record table's migrations are its source's: a store made before they were keeps what it had applied."""
from db.schema import migrate

# The public set's steps as a store recorded them before each record table had its own (from db/schema.py of
# that time): every step, record tables' included, in one set.
OLD_PUBLIC = ("m001_reference", "m002_crawls", "m003_records", "m004_events_indicators", "m005_browse_item_columns",
              "m006_browse_places_view", "m007_download_state", "m008_indicator_indexes", "m009_crawl_recovery",
              "m010_indicator_intervals", "m011_changed_hands_backfill", "m012_venue_kinds",
              "m016_grants_input_hash", "m017_download_state_content_hash", "m018_orjson_content_hashes",
              "m019_drop_redundant_grant_index", "m020_download_state_scope", "m021_partial_covid_grant_index",
              "m022_grants_seen", "m023_unresolved_grants_unhashed", "m024_provisional_index",
              "m025_observation_windows", "m026_postcode_directory", "m027_news_events_index")


def schema(db) -> list[tuple]:
    return sorted(db.execute("select type, name, sql from sqlite_master where name != '_migrations'").fetchall())


def test_an_older_store_runs_only_the_split_steps_and_they_change_nothing(fresh_db):
    before = schema(fresh_db)
    # A library a healthy list has not dated yet: the older store's own value, not to be filled in again.
    fresh_db["libraries"].insert({"id": "libraries:1", "source": "libraries", "ref": "1", "name": "Dagenham Library",
                                  "last_seen_at": "2024-01-01", "listed_state_at": None})
    fresh_db.execute("delete from _migrations")
    fresh_db["_migrations"].insert_all({"migration_set": "public", "name": name, "applied_at": "2024-01-01T00:00:00"}
                                       for name in OLD_PUBLIC)
    ran = migrate(fresh_db)
    # By hand: the versions table left m003_records under a name of its own, and four steps that each did a part
    # for several tables were split into each table's own step of a new name (pubs and libraries both link
    # successors in m011). Nothing else runs again.
    assert sorted(ran) == sorted(["m003_versions", "m007_grants_source_url_index", "m011_successor_links",
                                  "m011_successor_links", "m020_pubs_source_url_index", "m025_library_windows"])
    assert schema(fresh_db) == before
    assert fresh_db["libraries"].get("libraries:1")["listed_state_at"] is None
    assert migrate(fresh_db) == []
