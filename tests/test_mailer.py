import email
from email import policy

import pytest

from core.config import load
from monitor.delivery import outbox
from monitor.delivery.mailer import MaildirTransport, SMTPTransport, clean_header, compose, transport_from_settings
from tests.smtp_server import SMTPServer

NOW = outbox.to_datetime("2024-03-05T06:00:00+00:00")


def _compose(**over):
    args = dict(mail_from="Monitor <monitor@example.org>", to="ann@example.org", subject="Closed: The Red Lion",
                text="plain body", html="<p>html body <img src='cid:chart'></p>", now=NOW,
                unsubscribe_url="http://127.0.0.1:8001/unsubscribe?token=abc", images={"chart": b"\x89PNG fake"})
    args.update(over)
    return compose(**args)


def test_compose_builds_text_html_and_inline_png():
    message_id, data = _compose()
    msg = email.message_from_bytes(data, policy=policy.default)
    assert msg["Message-ID"] == message_id and message_id.endswith("@example.org>")
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().strip() == "plain body"
    assert "html body" in msg.get_body(("html",)).get_content()
    [png] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert png["Content-ID"] == "<chart>" and png.get_content() == b"\x89PNG fake"
    assert msg["List-Unsubscribe"] == "<http://127.0.0.1:8001/unsubscribe?token=abc>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Date"] == "Tue, 05 Mar 2024 06:00:00 +0000"
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize("raw,expected", [
    ("The Red Lion", "The Red Lion"),
    ("Evil\r\nBcc: victim@example.net", "Evil Bcc: victim@example.net"),
    ("Tab\there\x00null", "Tab here null"),
    ("x" * 300, "x" * 199 + "…"),
])
def test_clean_header_keeps_one_line(raw, expected):
    assert clean_header(raw) == expected


def test_injected_subject_adds_no_header():
    _, data = _compose(subject="Hi\r\nBcc: victim@example.net\r\nX-Evil: 1")
    msg = email.message_from_bytes(data, policy=policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["Subject"] == "Hi Bcc: victim@example.net X-Evil: 1"


def test_maildir_delivery_is_idempotent_per_message_id(tmp_path):
    message_id, data = _compose()
    transport = MaildirTransport(tmp_path / "mail")
    assert transport.delivered(message_id) is False
    with transport.session() as session:
        assert session.send("m@example.org", "ann@example.org", data, message_id) == "written to Maildir"
        assert session.send("m@example.org", "ann@example.org", data, message_id) == "already in Maildir"
    assert transport.delivered(message_id) is True
    [f] = (tmp_path / "mail" / "new").iterdir()
    assert f.read_bytes() == data
    assert not list((tmp_path / "mail" / "tmp").iterdir())
    # A mail client moving it to cur/ with flags still counts as delivered.
    f.rename(tmp_path / "mail" / "cur" / (f.name + ":2,S"))
    assert transport.delivered(message_id) is True


def test_smtp_keeps_leading_dots_and_envelope(tmp_path):
    message_id, data = _compose(text="line one\n.dot line\n..two dots\n")
    server = SMTPServer().start()
    try:
        transport = SMTPTransport("127.0.0.1", server.port, security="none", timeout=5)
        assert transport.delivered(message_id) is None
        handed = []
        with transport.session() as session:
            reply = session.send("monitor@example.org", "ann@example.org", data, message_id,
                                 lambda: handed.append(True))
        server.handler.wait_for(1)
    finally:
        server.stop()
    assert reply.startswith("250") and handed == [True]
    [(rcpts, msg)] = server.handler.received
    assert rcpts == ["ann@example.org"]
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "line one\n.dot line\n..two dots\n"


def test_transport_from_settings_and_password_only_from_environment(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('smtp_host = "mail.example.org"\nsmtp_user = "monitor"\n')
    settings = load(config, environ={"LBM_SMTP_PASSWORD": "s3cret"})
    transport = transport_from_settings(settings)
    assert isinstance(transport, SMTPTransport)
    assert (transport.host, transport.port, transport.security, transport.password) == \
        ("mail.example.org", 587, "starttls", "s3cret")
    config.write_text('smtp_password = "in the file"\n')
    with pytest.raises(Exception, match="unknown setting"):
        load(config, environ={})
    assert isinstance(transport_from_settings(load(None, environ={"LBM_MAILDIR": str(tmp_path)})),
                      MaildirTransport)
