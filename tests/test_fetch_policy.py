"""Crawls fetch only http(s) from public addresses: no local files, no internal services, no other schemes."""
from __future__ import annotations

import json

import pytest

from core.config import load
from db.store import connect
from monitor.changes.crawl import run_crawl
from spiders.fetch_policy import allowed, refusal, shown_url
from spiders.replay import postcodes_io
from spiders.replay.server import ReplayServer, Response
from spiders.sources.threesixty_giving.replay import build_routes, recorded
from tests.crawling import replay_env

NOW = "2024-06-01T00:00:00+00:00"


def public(host, port):          # a resolver seam: every name is a public address
    return [(2, 1, 6, "", ("93.184.216.34", 0))]


def private(host, port):         # a name that resolves inside the operator's network
    return [(2, 1, 6, "", ("10.1.2.3", 0))]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "FILE:///home/op/private.db", "data:text/csv,Identifier%0A1",
                                 "ftp://example.org/x.csv", "s3://bucket/key", "gopher://example.org/"])
def test_other_schemes_are_refused_without_naming_the_path(url):
    reason = refusal(url, allow_private=True, resolve=public)
    assert reason and "only http and https are fetched" in reason
    assert "/etc" not in reason and "/home" not in reason and "Identifier" not in reason


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "http://localhost./x", "http://10.0.0.1/",
                                 "http://192.168.1.1/", "http://172.16.5.4/", "http://169.254.169.254/latest/",
                                 "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
                                 "http://100.64.0.1/"])
def test_private_loopback_and_link_local_addresses_are_refused(url):
    resolve = (lambda h, p: [(2, 1, 6, "", ("127.0.0.1", 0))]) if "localhost" in url else public
    assert "private, loopback or link-local" in refusal(url, allow_private=False, resolve=resolve)


def unresolvable(host, port):    # a resolver seam: no name resolves
    raise OSError(-2, "Name or service not known")


@pytest.mark.parametrize("url", [
    "http://[::127.0.0.1]/", "http://[::7f00:1]/",            # IPv4-compatible
    "http://[64:ff9b::7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b::10.0.0.1]/",   # NAT64
    "http://[64:ff9b:1::8.8.8.8]/",                            # a local-use NAT64 prefix (RFC 8215)
    "http://[2002:7f00:1::]/", "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 127.0.0.1 and of the metadata address
    "http://[::ffff:7f00:1]/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:10.0.0.1]/",   # IPv4-mapped
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",          # Teredo whose client is 127.0.0.1 (obfuscated)
])
def test_ipv6_forms_embedding_a_refused_ipv4_address_are_refused_by_themselves(url):
    assert "private, loopback or link-local" in refusal(url, allow_private=False, resolve=public)


@pytest.mark.parametrize("url", ["http://[2002:5db8:d822::1]/", "http://[64:ff9b::5db8:d822]/",
                                 "http://[2606:4700::1111]/"])
def test_ipv6_forms_embedding_a_public_address_pass(url):
    assert refusal(url, allow_private=False, resolve=public) is None


@pytest.mark.parametrize("url, why", [
    ("http://localhost./x", "private, loopback"), ("http://LOCALHOST../x", "private, loopback"),
    ("http://api.localhost/x", "private, loopback"),
    ("http://127%2e0%2e0%2e1/x", "percent-encoded"), ("http://localhost%2e/x", "percent-encoded"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74/x", "percent-encoded"),
    ("http://no-such-host.invalid/x", "does not resolve"), ("http://127\u30020\u30020\u30021/x", "does not resolve"),
])
def test_loopback_encoded_and_unresolvable_names_are_refused_without_asking_the_downloader(url, why):
    # The seam says every name is public: the refusal comes from the name itself, or from its not resolving.
    resolve = unresolvable if "does not resolve" in why else public
    assert why in refusal(url, allow_private=False, resolve=resolve)


def test_a_name_that_resolves_to_a_private_address_is_refused_and_public_ones_pass():
    assert "private" in refusal("https://intranet.example.org/data.json", False, resolve=private)
    assert refusal("https://registry.threesixtygiving.org/data.json", False, resolve=public) is None
    assert refusal("http://93.184.216.34/", False, resolve=public) is None


def test_allow_list_lets_exactly_the_named_host_and_port_through():
    allow = allowed(["127.0.0.1:8001"], None)
    assert refusal("http://127.0.0.1:8001/x", allow, resolve=public) is None
    assert refusal("http://127.0.0.1:8002/x", allow, resolve=public) is not None
    assert allowed(False, True) is True and allowed(None, None) == frozenset()


def test_shown_url_keeps_http_urls_and_hides_local_paths():
    assert shown_url("https://example.org/a.csv") == "https://example.org/a.csv"
    assert shown_url("file:///srv/secret.csv") == "a file: URL"
    assert shown_url("/etc/passwd") == "a URL without a scheme"


# --- through the real crawl: a registry that points at local files and internal services ---------------------

@pytest.fixture
def hostile_registry(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("Identifier,Title,Amount Awarded,Award Date,Currency\nSECRET-1,Local file,100,2024-01-01,GBP\n")
    internal = ReplayServer(routes=[("GET", "/admin", lambda req: Response(
        200, b"Identifier,Title\nINTERNAL-1,x\n", {"Content-Type": "text/csv"}))])
    registry, files = recorded()
    entry = registry[0]
    hostile = []
    for n, url in enumerate([secret.as_uri(), "data:text/csv,Identifier%2CTitle%0AD-1%2Cx", "ftp://127.0.0.1/x.csv",
                             f"{internal.url}/admin", "etc/passwd", "/to-internal", "/to-file"]):
        d = json.loads(json.dumps(entry))
        d["identifier"] = f"hostile-{n}"
        d["distribution"][0]["downloadURL"] = url
        hostile.append(d)
    redirects = [("GET", "/to-internal", lambda req: Response(302, b"", {"Location": f"{internal.url}/admin"})),
                 ("GET", "/to-file", lambda req: Response(302, b"", {"Location": secret.as_uri()}))]
    server = ReplayServer(routes=build_routes(hostile, []) + redirects + postcodes_io.routes())
    with internal, server:
        yield server, internal, secret


def test_a_registry_of_local_files_and_internal_addresses_stores_nothing(hostile_registry, tmp_path):
    server, internal, secret = hostile_registry
    host_port = server.url.split("//", 1)[1]
    # The registry's server, nothing else, may be private.
    env = replay_env(server, RETRY_TIMES=0, LBM_ALLOW_PRIVATE_ADDRESSES=[host_port])
    db_path = tmp_path / "db.sqlite"
    result = run_crawl("threesixty_giving", db_path, load(None), NOW, start_url=server.url + "/data.json",
                       extra_env=env, timeout=120)
    db = connect(db_path)
    assert result.status == "failed"
    assert db["grants"].count == 0
    assert not db["quarantine"].exists() or db["quarantine"].count == 0
    assert internal.log == []                                   # the internal service was never asked
    stats = json.loads(db["crawl_runs"].get(result.crawl_id)["stats"])
    assert stats["fetch_policy/refused/address"] == 2                  # one listed, one reached by a redirect
    assert stats["fetch_policy/refused/scheme"] >= 3                   # Scrapy itself may drop the file: redirect
    assert stats["downloader/response_status_count/302"] == 2
    public_text = json.dumps([dict(r) for r in db.query("select reason, stats from crawl_runs")] +
                             [dict(r) for r in db.query("select reason from scope_runs")])
    assert str(secret) not in public_text and "/etc/passwd" not in public_text and "SECRET-1" not in public_text
