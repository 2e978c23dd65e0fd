import email
from email import policy

from monitor.delivery import subscriptions
from monitor.delivery.mailer import MaildirTransport
from monitor.reports import alerts
from tests.delivery_seed import (
    HOSTILE,
    LB_WARD,
    LB_WARD_2,
    OTHER_WARD,
    add_crawl,
    add_event,
    add_record,
    seed_pub_crawl,
    settings,
)
from tests.smtp_server import SMTPServer

NOW = "2024-03-05T06:00:00+00:00"


def _maildir_messages(path):
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted((path / "new").iterdir())]


def _parts(msg):
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def test_one_alert_per_subscriber_closures_first(fresh_db, private_db, tmp_path):
    crawl = seed_pub_crawl(fresh_db)
    subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=[LB_WARD], now=NOW)
    subscriptions.subscribe(private_db, fresh_db, "bob@example.org", wards=[LB_WARD_2], now=NOW)
    s = settings(tmp_path)
    sent = alerts.send_alerts(fresh_db, private_db, s, crawl, NOW, transport=MaildirTransport(s["maildir"]))
    assert sent == 1   # bob's ward had no events: nothing sent to him
    [msg] = _maildir_messages(tmp_path / "mail")
    assert msg["To"] == "ann@example.org"
    assert msg["Subject"] == "Closed: The Red Lion — Becontree, Barking and Dagenham (left-behind ward), and 1 more"
    text, html = _parts(msg)
    assert text.index("The Red Lion") < text.index("The Crown")
    assert "REOPENED pub: The Crown" in text
    assert "2 changes in the places you watch (Becontree (Barking and Dagenham))." in text
    assert "missing from 2 consecutive healthy crawls" in text
    assert "Food Standards Agency food hygiene register, Open Government Licence v3" in text
    assert "The Bull" not in text   # baseline event, other ward
    assert 'style="' in html        # CSS inlined
    assert "http://127.0.0.1:8001/leftbehind/pubs?id=fhrs_pubs%3A1001" in html
    assert msg["List-Unsubscribe"].startswith("<http://127.0.0.1:8001/unsubscribe?token=")


def test_baseline_events_never_alert_and_nothing_sent_when_nothing_happened(fresh_db, private_db, tmp_path):
    crawl = add_crawl(fresh_db, "fhrs_pubs", "2024-03-05T05:00:00+00:00")
    rid = add_record(fresh_db, "pubs", "fhrs_pubs", "9", "The Plough", LB_WARD)
    add_event(fresh_db, "closed", "fhrs_pubs", rid, "The Plough", LB_WARD, crawl, NOW, baseline=1)
    subscriptions.subscribe(private_db, fresh_db, "ann@example.org", left_behind=True, now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, crawl, NOW, transport=MaildirTransport(s["maildir"])) == 0
    assert private_db["outbox"].count == 0
    assert not (tmp_path / "mail" / "new").exists() or not list((tmp_path / "mail" / "new").iterdir())


def test_only_events_of_the_given_crawl(fresh_db, private_db, tmp_path):
    old = seed_pub_crawl(fresh_db, at="2024-03-04T05:00:00+00:00")
    new = add_crawl(fresh_db, "fhrs_pubs", NOW)
    subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=[LB_WARD], now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, new, NOW, transport=MaildirTransport(s["maildir"])) == 0
    assert alerts.send_alerts(fresh_db, private_db, s, old, NOW, transport=MaildirTransport(s["maildir"])) == 1
    # Running the same crawl's alerts again sends nothing more.
    assert alerts.send_alerts(fresh_db, private_db, s, old, NOW, transport=MaildirTransport(s["maildir"])) == 0
    assert len(list((tmp_path / "mail" / "new").iterdir())) == 1


def test_kinds_filter_and_reported_news_by_authority(fresh_db, private_db, tmp_path):
    crawl = add_crawl(fresh_db, "library_news", NOW)
    rid = add_record(fresh_db, "news_mentions", "library_news", "p1", "Dagenham Library", None,
                     signal="closure", post_url="https://www.publiclibrariesnews.com/x", lad_code="E09000002")
    add_event(fresh_db, "new", "library_news", rid, "Dagenham Library", None, crawl, NOW, lad="E09000002",
              evidence={"signal": "closure"})
    subscriptions.subscribe(private_db, fresh_db, "pubs-only@example.org", wards=[LB_WARD], kinds="pub", now=NOW)
    subscriptions.subscribe(private_db, fresh_db, "news@example.org", wards=[LB_WARD], kinds="news,library",
                            now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, crawl, NOW, transport=MaildirTransport(s["maildir"])) == 1
    [msg] = _maildir_messages(tmp_path / "mail")
    assert msg["To"] == "news@example.org"
    assert msg["Subject"].startswith("Reported: Dagenham Library — Barking and Dagenham")
    text, _ = _parts(msg)
    assert "reported in the news, not confirmed" in text
    assert "Public Libraries News, CC BY 3.0" in text


def test_hostile_name_is_text_not_markup_nor_header(fresh_db, private_db, tmp_path):
    crawl = add_crawl(fresh_db, "mutual_aid", NOW)
    rid = add_record(fresh_db, "groups", "mutual_aid", "g1", HOSTILE, LB_WARD)
    add_event(fresh_db, "new", "mutual_aid", rid, HOSTILE, LB_WARD, crawl, NOW)
    subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=[LB_WARD], now=NOW)
    server = SMTPServer().start()
    try:
        s = server.settings(settings(tmp_path))
        assert alerts.send_alerts(fresh_db, private_db, s, crawl, NOW) == 1
        server.handler.wait_for(1)
        [(rcpts, msg)] = server.handler.received
    finally:
        server.stop()
    assert rcpts == ["ann@example.org"]
    assert msg["Bcc"] is None
    assert "\n" not in msg["Subject"] and "Bcc: victim@example.net" in msg["Subject"]
    text, html = _parts(msg)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    runs = list(private_db.query("select stats from delivery_runs"))
    assert '"alerts/names_cleaned": 1' in runs[-1]["stats"]


def test_other_ward_subscriber_gets_nothing_from_left_behind_closure(fresh_db, private_db, tmp_path):
    crawl = seed_pub_crawl(fresh_db)
    subscriptions.subscribe(private_db, fresh_db, "carol@example.org", wards=[OTHER_WARD], now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, crawl, NOW, transport=MaildirTransport(s["maildir"])) == 0


def test_bidi_overrides_are_stripped_and_long_names_cut(fresh_db, private_db, tmp_path):
    crawl = add_crawl(fresh_db, "fhrs_pubs", NOW)
    spoof = "The Red \u202eLion\u202c\u2066 Inn\u200b"                 # reads backwards in a mail client
    huge = "The Longest Name " + "x" * 20_000
    for ref, name in (("1", spoof), ("2", huge)):
        rid = add_record(fresh_db, "pubs", "fhrs_pubs", ref, name, LB_WARD)
        add_event(fresh_db, "closed", "fhrs_pubs", rid, name, LB_WARD, crawl, NOW)
    subscriptions.subscribe(private_db, fresh_db, "ann@example.org", wards=[LB_WARD], now=NOW)
    s = settings(tmp_path)
    assert alerts.send_alerts(fresh_db, private_db, s, crawl, NOW, transport=MaildirTransport(s["maildir"])) == 1
    [msg] = _maildir_messages(tmp_path / "mail")
    text, html = _parts(msg)
    for part in (msg["Subject"], text, html):
        assert not any(c in part for c in "\u202e\u202c\u2066\u200b")
    assert "The Red Lion Inn" in text
    assert "x" * 300 not in text and "x" * 300 not in html           # cut to a name's length
    assert "The Longest Name " + "x" * 150 in text                    # but still recognisable
    assert len(msg["Subject"]) <= 200
