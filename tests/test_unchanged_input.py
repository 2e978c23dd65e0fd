"""Re-crawling the same grants: those built from unchanged input are only touched; a changed one is stored anew."""
from __future__ import annotations

import copy
import json
import shutil

import spiders.sources.threesixty_giving.spider as threesixty
from core.config import load
from db import seen
from db.store import connect
from monitor.changes.crawl import run_crawl
from spiders.items import Batch, items_of
from spiders.pipelines.normalise import normalise_item
from spiders.registry import scrapy_settings
from spiders.sources.threesixty_giving.replay import PublisherFile, recorded
from spiders.sources.threesixty_giving.spider import ThreeSixtyGivingSpider
from tests.crawling import replay_env
from tests.test_threesixty_giving import NOW1, NOW2, crawl, small_server, stats_of

ABC = "abcharitabletrust.org.uk"
POSTCODED = "grantnav-testdata_a002400000nO46WAAS.json"   # 870 grants, 844 of them located by postcode


def abc_only(tmp_path):
    """The ABC Charitable Trust's real file, served from a copy the test can edit."""
    datasets, files = recorded()
    i = next(i for i, d in enumerate(datasets) if ABC in d["distribution"][0]["downloadURL"])
    copy_path = tmp_path / files[i].path.name
    shutil.copy(files[i].path, copy_path)
    served = PublisherFile(files[i].url_path, copy_path, files[i].content_type, files[i].disposition,
                           files[i].modified)
    return [copy.deepcopy(datasets[i])], [served], copy_path


def one_file(tmp_path, name):
    """One recorded publisher file, served from a copy the test can edit."""
    datasets, files = recorded()
    i = next(i for i, f in enumerate(files) if f.path.name == name)
    path = tmp_path / files[i].path.name
    shutil.copy(files[i].path, path)
    served = PublisherFile(files[i].url_path, path, files[i].content_type, files[i].disposition, files[i].modified)
    return [copy.deepcopy(datasets[i])], [served], path


def test_one_changed_grant_is_stored_and_the_rest_only_touched(tmp_path):
    datasets, files, path = abc_only(tmp_path)
    package = json.loads(path.read_text(encoding="utf-8"))
    ids = {g["id"] for g in package["grants"]}
    db_path = tmp_path / "db.db"
    with small_server(datasets, files) as server:
        first = crawl(server, db_path, NOW1)
        package["grants"][3]["title"] = "A retitled grant"
        path.write_text(json.dumps(package), encoding="utf-8")
        datasets[0]["modified"] = "2024-05-01T09:00:00.000+0000"    # republished: downloaded in full again
        second = crawl(server, db_path, NOW2)
    db = connect(db_path)
    stored = db.execute("select count(*) from grants").fetchone()[0]
    assert first.status == second.status == "ok" and stored == len(ids)
    retried = db.execute("select count(*) from grants where ward_code is null and geo_reason like '%unavailable%'"
                         ).fetchone()[0]
    stats = stats_of(db, second.crawl_id)
    assert stats["store/unchanged_input"] == len(ids) - 1 - retried
    assert second.counts["changed"] == 1 and second.counts["new"] == 0
    assert second.counts["unchanged"] == len(ids) - 1 and second.counts["items"] == len(ids)
    changed = f"threesixty_giving:{package['grants'][3]['id']}"
    assert db["grants"].get(changed)["title"] == "A retitled grant"
    assert db.execute("select count(*) from versions where record_id = ?", [changed]).fetchone()[0] == 2
    assert db.execute(f"select count(*) from grants r where {seen.last_crawl('grants')} != ?",
                      [second.crawl_id]).fetchone()[0] == 0
    # The unchanged grants were found by their bytes, without parsing them, and marked seen apart from their rows:
    # their rows still say the first crawl wrote them; the changed one's row was written by the second.
    assert stats["threesixty/known"] == len(ids) - 1 - retried
    rows = dict(db.execute("select id, last_crawl_id from grants").fetchall())
    marks = dict(db.execute("select id, crawl_id from grants_seen").fetchall())
    assert rows[changed] == second.crawl_id and changed not in marks
    assert len(marks) == len(ids) - 1 - retried and set(marks.values()) == {second.crawl_id}
    assert all(rows[i] == first.crawl_id for i in marks)


def test_input_hash_covers_the_grant_the_file_the_publisher_and_the_mapping(monkeypatch):
    spider = ThreeSixtyGivingSpider.__new__(ThreeSixtyGivingSpider)
    grant = {"id": "G-1", "title": "Hall roof", "amountAwarded": 500, "awardDate": "2021-01-01"}
    dataset = {"publisher": {"name": "P"}, "license": "L"}

    def digest(raw=grant, dataset=dataset, url="http://x/f.json"):
        salt = threesixty.input_salt(url, dataset, spider.default_scope)
        return spider.unbuilt(grant, raw, salt, dataset, url).input_hash

    same = digest()
    assert digest(raw=dict(grant)) == same
    others = [digest(raw=dict(grant, amountAwarded=501)), digest(dataset={"publisher": {"name": "Q"}, "license": "L"}),
              digest(dataset={"publisher": {"name": "P"}, "license": "M"}), digest(url="http://x/g.json")]
    monkeypatch.setattr(threesixty, "MAPPING", b"another version of the mapping code")
    others.append(digest())
    assert len({same, *others}) == 6


def test_an_unbuilt_grant_has_the_id_its_stored_record_will_have():
    spider = ThreeSixtyGivingSpider.__new__(ThreeSixtyGivingSpider)
    spider.stamp = lambda item: item
    grant = {"id": "  360G-x   12 ", "title": "Hall roof"}
    unbuilt = spider.unbuilt(grant, grant, b"", {}, "http://x/f.json")
    record = normalise_item(unbuilt.record())
    assert unbuilt.id == record.id == "threesixty_giving:360G-x 12"
    assert record.input_hash == unbuilt.input_hash and record.title == "Hall roof"


def test_same_bytes_under_a_new_etag_take_the_not_modified_path(tmp_path):
    datasets, files, path = abc_only(tmp_path)
    package = json.loads(path.read_text(encoding="utf-8"))
    db_path = tmp_path / "db.db"
    with small_server(datasets, files) as server:
        first = crawl(server, db_path, NOW1)
        files[0]._etag = '"regenerated"'               # the server's ETag changes, its bytes do not
        second = crawl(server, db_path, NOW2)
        package["grants"][0]["title"] = "A retitled grant"
        path.write_text(json.dumps(package), encoding="utf-8")
        files[0]._etag = '"changed"'
        third = crawl(server, db_path, "2024-06-15T00:00:00+00:00")
        statuses = [s for _, p, s in server.log if ABC in p]
    db = connect(db_path)
    assert statuses == [200, 200, 200]
    stats = stats_of(db, second.crawl_id)
    assert stats["threesixty/same_content"] == 1 and "threesixty/grants" not in stats
    assert stats["conditional/inputs_read_while_downloading"] == 1   # started with the body, stopped at its hash
    assert second.status == "ok" and second.counts["items"] == first.counts["items"] == len(package["grants"])
    assert db.execute("select count(*) from versions where crawl_id = ?", [second.crawl_id]).fetchone()[0] == 0
    third_stats = stats_of(db, third.crawl_id)
    assert "threesixty/same_content" not in third_stats and third_stats["threesixty/grants"] == len(package["grants"])
    assert third.counts["changed"] == 1


def test_a_grant_listed_again_in_a_later_batch_is_a_duplicate_not_a_second_unchanged(tmp_path):
    # A grant listed again 867 grants later, in another of the spider's batches, was marked seen with the first
    # listing: the store counts it a duplicate, not a second unchanged grant.
    datasets, [served], path = one_file(tmp_path, POSTCODED)
    package = json.loads(path.read_text(encoding="utf-8"))
    n = len(package["grants"])
    db_path = tmp_path / "db.db"
    with small_server(datasets, [served]) as server:
        crawl(server, db_path, NOW1)
        package["grants"].append(copy.deepcopy(package["grants"][3]))
        path.write_text(json.dumps(package), encoding="utf-8")
        datasets[0]["modified"] = "2024-05-01T09:00:00.000+0000"
        second = crawl(server, db_path, NOW2)
    db = connect(db_path)
    stats = stats_of(db, second.crawl_id)
    assert n == 870 and stats["store/duplicate"] == 1
    assert second.counts["unchanged"] == n and second.counts["new"] == second.counts["changed"] == 0
    assert db.execute(f"select count(*) from grants r where {seen.last_crawl('grants')} != ?",
                      [second.crawl_id]).fetchone()[0] == 0


def test_a_batch_read_without_the_unchanged_pipeline_still_gives_built_records():
    spider = ThreeSixtyGivingSpider.__new__(ThreeSixtyGivingSpider)
    spider.stamp = lambda item: item
    grants = [{"id": f"G-{i}", "title": f"Grant {i}"} for i in range(3)]
    batch = Batch([], [spider.unbuilt(g, g, b"", {}, "http://x/f.json") for g in grants])
    records = items_of(batch)
    assert [r.title for r in records] == ["Grant 0", "Grant 1", "Grant 2"] and batch.unbuilt == []
    assert all(r.input_hash and len(r.input_hash) == 40 for r in records)
    assert items_of(batch) is records   # built once


def test_a_file_moved_to_a_new_address_is_read_whole_and_its_grants_stay_unchanged(tmp_path):
    datasets, files, path = abc_only(tmp_path)
    db_path = tmp_path / "db.db"
    with small_server(datasets, files) as server:
        first = crawl(server, db_path, NOW1)
    moved = PublisherFile("/moved/" + path.name, path, files[0].content_type, files[0].disposition, files[0].modified)
    datasets[0]["distribution"][0]["downloadURL"] = moved.url_path
    with small_server(datasets, [moved]) as server:
        second = crawl(server, db_path, NOW2)
    db = connect(db_path)
    stats = stats_of(db, second.crawl_id)
    n = first.counts["new"]
    assert n > 100 and second.status == "ok"
    # No good crawl read the new address: nothing is skipped by its input hash, and the store finds every grant
    # unchanged by its content (the address is not content), so nothing is new, changed or versioned again.
    assert "store/unchanged_input" not in stats
    assert stats["unchanged/first_reading"] == stats_of(db, first.crawl_id)["unchanged/first_reading"] == n
    assert (second.counts["new"], second.counts["changed"], second.counts["unchanged"]) == (0, 0, n)
    assert db.execute(f"select count(*) from grants r where {seen.last_crawl('grants')} = ?",
                      [second.crawl_id]).fetchone()[0] == n


def test_a_grant_dropped_from_its_file_stays_missing_when_the_file_is_unchanged_later(tmp_path):
    # First crawl: every grant. Second: the file is republished with one grant retitled and one dropped; the rest
    # are marked seen apart from their rows. Third: the server answers 304. Every grant the second crawl listed is
    # listed by the third (read from rows and marks alike); the dropped one is not.
    datasets, files, path = abc_only(tmp_path)
    package = json.loads(path.read_text(encoding="utf-8"))
    db_path = tmp_path / "db.db"
    with small_server(datasets, files) as server:
        first = crawl(server, db_path, NOW1)
        package["grants"][3]["title"] = "A retitled grant"
        dropped = package["grants"].pop(5)["id"]
        path.write_text(json.dumps(package), encoding="utf-8")
        datasets[0]["modified"] = "2024-05-01T09:00:00.000+0000"
        second = crawl(server, db_path, NOW2)
        third = crawl(server, db_path, "2024-06-15T00:00:00+00:00")
        statuses = [s for _, p, s in server.log if ABC in p]
    db = connect(db_path)
    assert statuses == [200, 200, 304] and third.status == "ok"
    last = dict(db.execute(f"select r.id, {seen.last_crawl('grants')} from grants r").fetchall())
    assert last.pop(f"threesixty_giving:{dropped}") == first.crawl_id
    assert len(last) == len(package["grants"]) and set(last.values()) == {third.crawl_id}
    assert db.execute("select count(*) from grants_seen where crawl_id = ?",
                      [third.crawl_id]).fetchone()[0] == len(last)
    assert second.counts["changed"] == 1
    # The stored input hashes were read while the changed file downloaded; a 304 has no body: nothing was read.
    read = "conditional/inputs_read_while_downloading"
    assert stats_of(db, second.crawl_id)[read] == 1 and read not in stats_of(db, third.crawl_id)
    assert read not in stats_of(db, first.crawl_id)   # no crawl had read the file: no hashes to read


def test_a_grant_left_unresolved_for_want_of_postcodes_io_is_read_again_from_an_unchanged_file(tmp_path):
    # First crawl: postcodes.io cannot be reached, so the grant located only by its postcode is left without a ward
    # and without an input hash (a file with thousands so left is judged unhealthy, and read whole next time).
    # Second crawl, the same bytes: the file is read again (not taken as unchanged), the other grants are found by
    # their bytes, and the waiting one is parsed and its postcode looked up again (the emulator does not hold it).
    datasets, files, path = one_file(tmp_path, POSTCODED)
    db_path = tmp_path / "db.db"
    with small_server(datasets, files) as server:
        env = {**replay_env(server), "LBM_POSTCODES_URL": "http://127.0.0.1:9"}   # nothing listens there
        first = run_crawl("threesixty_giving", db_path, load(None), NOW1, start_url=server.url + "/data.json",
                          extra_env=env, timeout=120)
        db = connect(db_path)
        waiting = [r[0] for r in db.execute("select id from grants where ward_code is null and geo_reason like "
                                            "'%postcodes.io unavailable%' and input_hash is null")]
        hashed = db.execute("select count(*) from grants where input_hash is not null").fetchone()[0]
        second = crawl(server, db_path, NOW2)
        statuses = [s for _, p, s in server.log if path.name in p]
    stats = stats_of(db, second.crawl_id)
    assert statuses == [200, 200] and stats["conditional/waiting"] == 1 and "threesixty/same_content" not in stats
    assert first.status == second.status == "ok" and len(waiting) == 1   # the rest are located by LSOA
    assert stats["threesixty/known"] == stats["store/unchanged_input"] == hashed
    assert stats["geo/unresolved/postcode not found"] == 1
    row = db["grants"].get(waiting[0])
    assert row["geo_reason"] == "postcode not found" and row["input_hash"] and row["last_crawl_id"] == second.crawl_id


def test_records_lost_to_a_pipeline_error_make_the_crawl_unhealthy(tmp_path):
    # A pipeline raising drops its item (Scrapy logs it and carries on): the second batch of 500, 370 grants, never
    # reaches the store. The
    # crawl must not pass for complete, or records missing from it would close.
    datasets, files, path = one_file(tmp_path, POSTCODED)
    pipelines = {**scrapy_settings().getdict("ITEM_PIPELINES"), "tests.raising_pipeline.RaiseOnSecondBatch": 46}
    with small_server(datasets, files) as server:
        result = run_crawl("threesixty_giving", tmp_path / "db.db", load(None), NOW1,
                           start_url=server.url + "/data.json", extra_env=replay_env(server, ITEM_PIPELINES=pipelines),
                           timeout=120)
    db = connect(tmp_path / "db.db")
    stats = stats_of(db, result.crawl_id)
    assert stats["item_errors/count"] == 1 and stats["item_errors/RuntimeError"] == 1
    assert db.execute("select count(*) from grants").fetchone()[0] == threesixty.BATCH == 500   # the second is lost
    assert result.status == "failed"
    assert [(v.healthy, v.reason) for v in result.scopes] == [(False, "1 items lost to errors while storing them")]
