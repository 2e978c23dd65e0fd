"""An older store's content hashes (json.dumps form) are rehashed so the next crawl finds its records unchanged."""
from __future__ import annotations

import hashlib
import json

from db.schema import migrate
from spiders import registry
from spiders.pipelines.store import RecordStore, content_hash
from spiders.sources.threesixty_giving.items import Grant


def test_records_hashed_the_old_way_are_unchanged_after_the_migration(fresh_db):
    items = [Grant(source="threesixty_giving", ref="G-1", name="Caf\xe9 roof", amount=1500.5, award_date="2021-02-03",
                   scope="threesixty_giving"),
             Grant(source="threesixty_giving", ref="G-2", name="Hall", covid=1, scope="threesixty_giving")]
    for item in items:
        row = item.to_row()
        old = json.dumps({k: v for k, v in row.items() if k not in item.VOLATILE}, sort_keys=True, default=str)
        digest = hashlib.sha1(old.encode()).hexdigest()
        assert digest != content_hash(item)                     # the forms differ, so this test means something
        fresh_db["grants"].insert({**row, "content_hash": digest, "status": "open", "last_crawl_id": 1}, alter=True)
        fresh_db["versions"].insert({"record_id": item.id, "record_table": "grants", "crawl_id": 1, "at": "x",
                                     "content_hash": digest, "data": old})
    fresh_db.execute("delete from _migrations where name = 'm018_orjson_content_hashes'")
    assert migrate(fresh_db) == ["m018_orjson_content_hashes"] * len(registry.record_table_names())   # one a table
    counts = RecordStore(fresh_db, 2, "2024-06-08T00:00:00+00:00").write(items)
    assert counts["unchanged"] == 2 and counts["changed"] == 0
