import threading

import httpx
import pytest

from monitor.delivery import subscriptions
from monitor.delivery.unsubscribe_server import make_server


@pytest.fixture
def served(fresh_db, private_db, private_db_path):
    sub = subscriptions.subscribe(private_db, fresh_db, "worker@example.org", now="2024-01-01T00:00:00",
                                  wards=["E05008947"])
    server = make_server(private_db_path, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}", sub, private_db
    server.shutdown()
    server.server_close()


def _active(db, email):
    return db.execute("select active from subscriptions where email = ?", [email]).fetchone()[0]


def test_get_only_asks_and_post_unsubscribes(served):
    url, sub, db = served
    page = httpx.get(f"{url}/unsubscribe", params={"token": sub.token})
    assert page.status_code == 200 and "<button" in page.text
    assert _active(db, "worker@example.org") == 1            # a link scanner unsubscribes nobody
    done = httpx.post(f"{url}/unsubscribe", params={"token": sub.token},
                      content=b"List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "worker@example.org will get no more mail" in done.text
    assert _active(db, "worker@example.org") == 0


def test_unknown_token_and_other_paths_reveal_nothing(served):
    url, sub, db = served
    assert httpx.post(f"{url}/unsubscribe", params={"token": "nope"}).status_code == 404
    assert httpx.post(f"{url}/unsubscribe", params={"token": "worker@example.org"}).status_code == 404
    assert httpx.get(f"{url}/subscriptions").status_code == 404
    assert httpx.get(f"{url}/").status_code == 404
    assert _active(db, "worker@example.org") == 1
