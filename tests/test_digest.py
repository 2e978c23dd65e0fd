import re

from click.testing import CliRunner

from monitor.delivery import subscriptions
from monitor.reports.digest import render_digest, send_digest
from run import cli
from tests.delivery_seed import (
    HOSTILE,
    LB_WARD,
    LB_WARD_2,
    OTHER_WARD,
    add_crawl,
    add_event,
    add_record,
    seed_indicators,
    seed_pub_crawl,
    settings,
)
from tests.smtp_server import SMTPServer

NOW = "2024-03-11T07:00:00+00:00"


def seed_week(db):
    seed_indicators(db, [("2024-02-26T06:00:00+00:00", 0.9), ("2024-03-04T06:00:00+00:00", 0.95),
                         ("2024-03-11T06:00:00+00:00", 1.0)])
    seed_pub_crawl(db, at="2024-03-10T05:10:00+00:00")
    other = add_crawl(db, "fhrs_pubs", "2024-03-10T05:20:00+00:00")
    rid = add_record(db, "pubs", "fhrs_pubs", "2001", "The Alibon Arms", OTHER_WARD, status="closed")
    add_event(db, "closed", "fhrs_pubs", rid, "The Alibon Arms", OTHER_WARD, other, "2024-03-10T05:20:00+00:00")
    groups = add_crawl(db, "mutual_aid", "2024-03-10T04:30:00+00:00")
    rid = add_record(db, "groups", "mutual_aid", "g1", HOSTILE, LB_WARD)
    add_event(db, "new", "mutual_aid", rid, HOSTILE, LB_WARD, groups, "2024-03-10T04:30:00+00:00")
    grants = add_crawl(db, "threesixty_giving", "2024-03-10T04:00:00+00:00")
    for ref, amount in (("big", 25000.0), ("small", 500.0)):
        rid = add_record(db, "grants", "threesixty_giving", ref, f"Pantry {ref}", LB_WARD_2, amount=amount)
        add_event(db, "new", "threesixty_giving", rid, f"Pantry {ref}", LB_WARD_2, grants,
                  "2024-03-10T04:00:00+00:00")
    old = add_crawl(db, "fhrs_pubs", "2024-02-01T05:00:00+00:00")
    rid = add_record(db, "pubs", "fhrs_pubs", "3001", "Last Month's Closure", LB_WARD, status="closed")
    add_event(db, "closed", "fhrs_pubs", rid, "Last Month's Closure", LB_WARD, old, "2024-02-01T05:00:00+00:00")
    add_crawl(db, "libraries", "2024-03-10T05:30:00+00:00", healthy=False, reason="HTTP 503 from the source")


def test_render_digest_content(fresh_db, tmp_path):
    seed_week(fresh_db)
    subject, html, text, png = render_digest(fresh_db, settings(tmp_path), NOW)
    assert subject == "Weekly digest: left-behind neighbourhoods, week to 11 March 2024 — 2 closures"
    assert png.startswith(b"\x89PNG")
    assert "This week: 2 closures (1 in left-behind wards), 1 reopening, 1 new mutual aid group, " \
           "1 notable grant into left-behind wards." in text
    # The indicator table: this week, change since last week and since the first run, the gap.
    block = text[text.index("Mutual aid groups (per 100,000 people)"):]
    assert "Left behind 3.5 | Other deprived 7.7 | England 10.6" in block
    assert "Left behind as share of England: 33%" in block
    assert "Left behind: +0.18 since last week, +0.35 since the first run" in block
    assert "£21,182" in text
    # Closures in left-behind wards first; last month's closure is not this week's.
    closures = text[text.index("CLOSURES (2)"):text.index("REOPENINGS")]
    assert closures.index("The Red Lion") < closures.index("The Alibon Arms")
    assert "Last Month's Closure" not in text
    grants = text[text.index("NOTABLE GRANTS"):text.index("REPORTED IN THE NEWS")]
    assert "Pantry big (£25,000)" in grants and "Pantry small" not in grants
    # Source health: a quiet healthy source is "no news", a failed one is "no data".
    assert "Public libraries: No data yet. No healthy crawl yet (last attempt 2024-03-10: HTTP 503 from the " \
           "source): its figures are blank, not zero." in text
    assert "Pubs (FSA register): Healthy. Crawled 2024-03-10: 3 changes this week." in text
    assert "http://127.0.0.1:8001/leftbehind/pubs?id=fhrs_pubs%3A1001" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Bcc: victim@example.net" in html and "<script>" not in html
    assert "data:image/png;base64," in html


def test_quiet_week_says_checked_not_missing(fresh_db, tmp_path):
    add_crawl(fresh_db, "mutual_aid", "2024-03-10T04:30:00+00:00")
    _, _, text, _ = render_digest(fresh_db, settings(tmp_path), NOW)
    assert "Mutual aid groups: Healthy. Crawled 2024-03-10: no changes this week (checked: this is no news, " \
           "not missing data)." in text
    assert "No indicators have been computed yet." in text


def test_stale_and_failing_sources(fresh_db, tmp_path):
    add_crawl(fresh_db, "fhrs_pubs", "2024-03-01T05:00:00+00:00")                       # daily source, 10 days old
    add_crawl(fresh_db, "mutual_aid", "2024-03-03T04:30:00+00:00")
    add_crawl(fresh_db, "mutual_aid", "2024-03-10T04:30:00+00:00", healthy=False, reason="timeout")
    _, _, text, _ = render_digest(fresh_db, settings(tmp_path, frozen_sources={"mutual_aid": False}), NOW)
    assert "Pubs (FSA register): Out of date. Last healthy crawl 2024-03-01 is out of date" in text
    assert "Mutual aid groups: Failing. Latest crawl 2024-03-10 failed (timeout); figures still use the healthy " \
           "crawl of 2024-03-03 and no closures were inferred." in text
    # Frozen (the default for mutual aid: the listings stopped in 2020-21): archived, not failing.
    _, _, text, _ = render_digest(fresh_db, settings(tmp_path), NOW)
    assert "Mutual aid groups: Archived. Archived listing as of 2020-06-28: its publisher stopped keeping it " \
           "(https://github.com/Covid-Mutual-Aid/mutual-aid-wiki)." in text
    assert "Mutual aid groups: Failing" not in text


def test_send_digest_over_smtp_once_per_week(fresh_db, private_db, tmp_path):
    seed_week(fresh_db)
    ann = subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=[LB_WARD], now=NOW)
    subscriptions.subscribe(private_db, fresh_db, "bob@example.org", left_behind=True, now=NOW)
    server = SMTPServer().start()
    try:
        s = server.settings(settings(tmp_path))
        assert send_digest(fresh_db, private_db, s, NOW) == 2
        assert send_digest(fresh_db, private_db, s, "2024-03-11T09:00:00+00:00") == 0   # same week: nothing more
        server.handler.wait_for(2)
    finally:
        server.stop()
    by_rcpt = {rcpts[0]: msg for rcpts, msg in server.handler.received}
    assert set(by_rcpt) == {"ann@example.org", "bob@example.org"}
    msg = by_rcpt["ann@example.org"]
    assert msg["Subject"].startswith("Weekly digest: left-behind neighbourhoods")
    assert msg["List-Unsubscribe"] == f"<http://127.0.0.1:8001/unsubscribe?token={ann.token}>"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "THE FIGURES" in text and f"unsubscribe?token={ann.token}" in text
    [cid] = re.findall(r'src="cid:([^"]+)"', html)
    [png] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert png["Content-ID"] == f"<{cid}>" and png.get_content().startswith(b"\x89PNG")
    assert f"unsubscribe?token={ann.token}" in html and "You get this because ann@example.org" in html


def test_digests_go_into_the_outbox_a_batch_at_a_time_each_once(fresh_db, private_db, tmp_path, monkeypatch):
    from monitor.delivery import outbox
    from monitor.reports import digest

    seed_week(fresh_db)
    people = [f"p{i}@example.org" for i in range(5)]
    for email in people:
        subscriptions.subscribe(private_db, fresh_db, email, left_behind=True, now=NOW)
    batches: list[int] = []
    enqueue = outbox.enqueue
    monkeypatch.setattr(digest, "QUEUE_BATCH", 2)
    monkeypatch.setattr(outbox, "enqueue", lambda db, messages, now: batches.append(len(messages)) or enqueue(
        db, messages, now))
    s = settings(tmp_path)
    assert send_digest(fresh_db, private_db, s, NOW) == 5
    assert batches == [2, 2, 1]                          # 5 digests: never more than 2 held before they are written
    assert send_digest(fresh_db, private_db, s, NOW) == 0   # the same week again: each person has theirs already
    rows = private_db.execute("select recipient, status from outbox where kind = 'digest' order by recipient")
    assert rows.fetchall() == [(email, "sent") for email in sorted(people)]


def test_preview_command_sends_nothing(db_path, private_db_path, fresh_db, tmp_path):
    seed_week(fresh_db)
    out = tmp_path / "digest.html"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--private-db", str(private_db_path), "digest",
                                      "--preview", str(out), "--now", NOW])
    assert result.exit_code == 0, result.output
    assert "Weekly digest" in result.output
    assert "data:image/png;base64," in out.read_text() and out.with_suffix(".txt").exists()
    from db.store import init_private
    assert init_private(private_db_path)["outbox"].count == 0


def test_a_change_explained_by_placement_is_labelled_not_reported_as_news():
    from monitor.reports.digest_figures import change_with_placement
    before = {"value": 4.9, "coverage": {"resolved_share": 0.999}}
    after = {"value": 4.0, "coverage": {"resolved_share": 0.82}}     # fewer records placed, same libraries
    text = change_with_placement("libraries_per_100k", after, before)
    assert text == "−0.90, explained by records placed in a ward (100% → 82%), not a change on the ground"
    real = {"value": 4.0, "coverage": {"resolved_share": 0.999}}      # the same share placed: a real fall
    assert change_with_placement("libraries_per_100k", real, before) == "−0.90"


def test_chart_says_too_few_to_say_instead_of_drawing_the_ratio(fresh_db):
    import matplotlib.pyplot as plt

    from monitor.reports.chart import draw_gap_chart
    from monitor.reports.digest_figures import chart_series, share_history
    seed_week(fresh_db)
    # This week's COVID grants in left-behind wards rest on too few grants to compare with England.
    fresh_db.execute("update indicators set reliable = 0, note = 'too few to say: 5 grants (fewer than 20)' "
                     "where indicator = 'covid_grants_gbp_per_100k' and area_group = 'left_behind' "
                     "and computed_at = '2024-03-11T06:00:00+00:00'")
    shares = chart_series(fresh_db, NOW)
    assert shares["COVID grants, £"]["reliable"] is False and shares["Mutual aid groups"]["reliable"] is True
    history = share_history(fresh_db, NOW)
    assert [t[:10] for t, _ in history["COVID grants, £"]] == ["2024-02-26", "2024-03-04"]   # this week left out
    assert len(history["Mutual aid groups"]) == 3
    fig = draw_gap_chart(shares, history)
    try:
        labels = [t.get_text() for t in fig.axes[0].texts]
    finally:
        plt.close(fig)
    # 3.5 / 10.6 = 33%; 20.1 / 31.0 = 65%; COVID 21,182 / 60,312 would read 35%.
    assert "33%" in labels and "65%" in labels and "too few to say" in labels
    assert "35%" not in labels
