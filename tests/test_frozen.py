"""Frozen sources (mutual aid by default): crawled once or on demand, never 'failing', figures dated."""
from __future__ import annotations

from core.config import defaults
from monitor.changes import health
from monitor.indicators.compute import compute
from monitor.scheduling.scheduler import default_jobs
from spiders import registry
from tests.delivery_seed import add_crawl
from tests.indicator_records import DE_BRUCE, crawl, record


def test_mutual_aid_is_frozen_by_default():
    # Declared beside its spider (its publisher stopped), not in the monitor's settings.
    assert defaults()["frozen_sources"] == {}
    assert registry.frozen(defaults())["mutual_aid"]["last_listing"] == "2020-06-28"
    # The setting adds another archived source, or names one false to treat it as live.
    more = registry.frozen({"frozen_sources": {"libraries": {"last_listing": "2023-12-01"}}})
    assert set(more) == {"mutual_aid", "libraries"}
    assert registry.frozen({"frozen_sources": {"mutual_aid": False}}) == {}


def test_a_frozen_source_never_raises_source_failing(fresh_db):
    settings = {**defaults(), "failure_alert_after": 2}
    ids = [add_crawl(fresh_db, "mutual_aid", f"2024-03-0{d}T05:00:00", healthy=False, reason="gone") for d in (1, 2)]
    assert health.raise_failure_event(fresh_db, "mutual_aid", ids[-1], settings, "2024-03-02T05:00:00") is False
    unfrozen = {**settings, "frozen_sources": {"mutual_aid": False}}
    assert health.raise_failure_event(fresh_db, "mutual_aid", ids[-1], unfrozen, "2024-03-02T05:00:00") is True


def test_its_figures_say_as_of_the_archived_listing(fresh_db):
    c = crawl(fresh_db, "mutual_aid", {"mutual_aid": True}, at="2020-06-29T05:00:00")
    record(fresh_db, "mutual_aid", DE_BRUCE, c)
    fresh_db.conn.commit()
    rows = [r for r in compute(fresh_db, "2024-06-01T00:00:00", defaults())
            if r["indicator"] == "mutual_aid_groups_per_100k"]
    assert all("as of 2020-06-28 (archived listing)" in r["coverage"]["note"] for r in rows)
    pubs = [r for r in compute(fresh_db, "2024-06-01T00:00:00", defaults()) if r["indicator"] == "pubs_per_100k"]
    assert not any("archived" in r["coverage"]["note"] for r in pubs)


def test_the_scheduler_does_not_crawl_it_again_once_it_has_a_healthy_crawl(fresh_db, db_path, private_db_path):
    crawl(fresh_db, "mutual_aid", {"mutual_aid": True}, at="2020-06-29T05:00:00")
    fresh_db.conn.commit()
    jobs = default_jobs(defaults(), db_path, private_db_path)
    result = jobs["mutual_aid"]("2024-06-01T05:00:00")
    assert result == "mutual_aid is frozen (archived listing): crawled once, not again on a schedule"
    assert fresh_db["crawl_runs"].count == 1
