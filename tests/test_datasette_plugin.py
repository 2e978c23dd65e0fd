"""Plain `datasette leftbehind.db`, with the project installed, serves the same site as `run.py serve`.

Both serve one folder made as the web tests make theirs (tests/web_server.py: the sample database of
tests/test_serve.py, a private database, site.toml). `run.py serve` runs there as usual; beside it runs
`python -m datasette serve leftbehind.db` with no LBM_ variables and a metadata file holding only the plugin's
configuration (the settings file and the private database, relative to the folder). The in-process tests check
that a user's own metadata wins, and the plugin configuration's `$env` form.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from datasette.app import Datasette

from core.errors import ConfigError
from db import serve as serve_mod
from monitor.web.state import get_state
from spiders import registry
from tests.web_flow import csrf_of, link_in, mails_to
from tests.web_server import web_server

BECONTREE = "E05000028"
PLUGIN = "leftbehind-monitor"
# The site's canned queries (db/datasette/queries/) and those the sources declare in their folders.
QUERIES = sorted([p.stem for p in (Path(serve_mod.__file__).parent / "datasette" / "queries").glob("*.sql")]
                 + [p.stem for p in (Path(registry.__file__).parent / "sources").glob("*/queries/*.sql")])


@pytest.fixture(scope="module")
def sites(tmp_path_factory, template_db):
    """Yield (run.py serve's site, the plain Datasette's URL) over the same folder."""
    with web_server(tmp_path_factory.mktemp("plain"), template_db) as site:
        folder = site["folder"]
        (folder / "plugins.json").write_text(json.dumps(
            {"plugins": {PLUGIN: {"config": "site.toml", "private_database": "private.db"}}}))
        port = serve_mod.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LBM_")}
        log = open(folder / "plain.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "datasette", "serve", "leftbehind.db", "--port", str(port),
                                    "--metadata", "plugins.json"], cwd=folder, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            serve_mod.wait_until_ready(process, url)
            yield site, url
        finally:
            process.terminate()
            process.wait(timeout=15)
            log.close()


@pytest.fixture
def plain(sites):
    with httpx.Client(base_url=sites[1], timeout=30) as client:
        yield client


@pytest.fixture
def served(sites):
    with httpx.Client(base_url=sites[0]["url"], timeout=30) as client:
        yield client


def words(html: str) -> str:
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


def test_the_plugin_is_found_through_the_entry_point(plain):
    ours = [p for p in plain.get("/-/plugins.json").json() if p["name"] == PLUGIN]
    assert {"register_routes", "skip_csrf", "asgi_wrapper", "prepare_connection", "handle_exception", "startup",
            "prepare_jinja2_environment", "get_metadata", "canned_queries"} == {h for p in ours for h in p["hooks"]}
    assert plain.post("/leftbehind/wards", data={"x": "1"}).status_code == 405     # the read-only hook


def test_the_same_metadata_as_run_py_serve(plain, served):
    mine, theirs = plain.get("/-/metadata.json").json(), served.get("/-/metadata.json").json()
    assert mine == theirs and PLUGIN not in mine["plugins"]      # its file paths are not shown
    assert mine["title"] == "Left-behind neighbourhoods monitor"


def test_root_is_find_your_ward_and_the_ward_page_has_its_figures(plain, served):
    home = plain.get("/")
    assert home.status_code == 200 and "Find your ward" in words(home.text)
    page = plain.get(f"/wards/{BECONTREE}")
    assert page.status_code == 200 and page.text == served.get(f"/wards/{BECONTREE}").text
    population = plain.get(f"/leftbehind/wards/{BECONTREE}.json?_shape=objects").json()["rows"][0]["population"]
    soup = BeautifulSoup(page.text, "html.parser")
    row = next(tr for tr in soup.select("tbody tr") if tr.th.get_text(strip=True) == "Open pubs and bars")
    cells = [td.get_text(" ", strip=True).split()[0] for td in row.select("td")]
    # One open pub in the sample (The Royal Oak); the groups' latest pubs_per_100k are 4.2, 7.7 and 10.5.
    assert cells == [f"{100_000 / population:.1f}", "4.2", "7.7", "10.5"]


def test_canned_queries_are_listed_and_run(plain, served):
    database = plain.get("/leftbehind.json").json()
    assert sorted(q["name"] for q in database["queries"]) == QUERIES
    assert 'href="/leftbehind/recent_closures"' in plain.get("/leftbehind").text
    assert "grants_by_funder" in QUERIES    # the 360Giving source's, from its folder
    funders = plain.get("/leftbehind/grants_by_funder.json?_shape=objects&since=").json()["rows"]
    assert funders and funders == served.get("/leftbehind/grants_by_funder.json?_shape=objects&since=").json()["rows"]
    rows = plain.get("/leftbehind/recent_closures.json?_shape=objects").json()["rows"]
    # The sample's closures in left-behind wards: The Old Crown (10 days ago); the library's is the baseline
    # and Long Gone Inn's 200 days ago.
    assert [r["name"] for r in rows] == ["The Old Crown"]
    assert rows == served.get("/leftbehind/recent_closures.json?_shape=objects").json()["rows"]


def test_a_table_shows_its_source_and_licence(plain):
    page = words(plain.get("/leftbehind/groups").text)
    assert "CC BY-NC-SA 4.0" in page and "mutualaid.wiki" in page and "Becontree Mutual Aid" in page


def test_subscribing_takes_the_csrf_token(plain, sites):
    assert plain.post("/subscribe", data={"email": "a@example.org", "ward": BECONTREE}).status_code == 403
    form = plain.get("/subscribe")
    answer = plain.post("/subscribe", data={"csrftoken": csrf_of(form.text), "email": "plain@example.org",
                                            "ward": BECONTREE})
    assert answer.status_code == 200 and "Check your email" in words(answer.text)
    [message] = mails_to(sites[0]["maildir"], "plain@example.org")      # the maildir of site.toml
    assert link_in(message, "/confirm").startswith(sites[0]["url"])       # web_url of site.toml


def test_the_docs_name_the_settings_run_py_serve_adds():
    from datasette.app import DEFAULT_SETTINGS

    docs = (Path(__file__).resolve().parent.parent / "docs" / "web.md").read_text(encoding="utf-8")
    named = dict(re.findall(r"--setting (\w+) (\w+)", docs))
    changed = {k: v for k, v in serve_mod.load_settings().items() if DEFAULT_SETTINGS[k] != v}
    assert named == {k: str(v) for k, v in changed.items()}


# ---- in process: a user's own metadata, the plugin's configuration ----

def started(db_path, metadata=None) -> Datasette:
    datasette = Datasette([str(db_path)], metadata=metadata)
    asyncio.run(datasette.invoke_startup())
    return datasette


def test_a_users_own_metadata_wins_where_it_says_something(fresh_db, db_path):
    mine = {"title": "My copy", "databases": {"leftbehind": {
        "tables": {"groups": {"license": "Mine"}}, "queries": {"recent_closures": "select 'mine' as name"}}}}
    datasette = started(db_path, mine)
    assert datasette.metadata("title") == "My copy"
    assert datasette.metadata("license", "leftbehind", "groups") == "Mine"
    assert "mutualaid.wiki" in datasette.metadata("source", "leftbehind", "groups")   # not said there: ours
    queries = asyncio.run(datasette.get_canned_queries("leftbehind", None))
    assert sorted(queries) == QUERIES and queries["recent_closures"]["sql"] == "select 'mine' as name"


def test_plugin_configuration_takes_env_and_refuses_unknown_keys(fresh_db, db_path, tmp_path, monkeypatch):
    (tmp_path / "site.toml").write_text("web_requests_per_minute = 7\n")
    monkeypatch.setenv("SITE_PRIVATE_DB", str(tmp_path / "elsewhere.db"))
    state = get_state(started(db_path, {"plugins": {PLUGIN: {
        "config": str(tmp_path / "site.toml"), "private_database": {"$env": "SITE_PRIVATE_DB"}}}}))
    assert (state.db_path, state.private_db_path) == (db_path, tmp_path / "elsewhere.db")
    assert state.settings["web_requests_per_minute"] == 7
    with pytest.raises(ConfigError, match="private_db"):
        started(db_path, {"plugins": {PLUGIN: {"private_db": "x.db"}}})


def test_behind_a_proxy_at_a_path_every_link_of_the_peoples_pages_keeps_the_prefix(sites):
    """Datasette's base_url: the site answers at / (the proxy strips /monitor/) and every link says /monitor/."""
    folder = sites[0]["folder"]
    port = serve_mod.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LBM_")}
    process = subprocess.Popen([sys.executable, "-m", "datasette", "serve", "leftbehind.db", "--port", str(port),
                                "--metadata", "plugins.json", "--setting", "base_url", "/monitor/"], cwd=folder,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        serve_mod.wait_until_ready(process, url)
        with httpx.Client(base_url=url, timeout=30) as client:
            for path in ("/", f"/wards/{BECONTREE}", "/wards?q=Becontree", "/subscribe"):
                page = client.get(path)
                assert page.status_code == 200, path
                soup = BeautifulSoup(page.text, "html.parser")
                links = [a["href"] for a in soup.select("a[href], link[href]")] + \
                        [f["action"] for f in soup.select("form[action]")]
                local = [link for link in links if link.startswith("/")]
                assert local and all(link.startswith("/monitor/") for link in local), (path, local)
            ward = BeautifulSoup(client.get(f"/wards/{BECONTREE}").text, "html.parser")
            assert ward.select_one(f"a[href='/monitor/subscribe?ward={BECONTREE}']")
            assert ward.select_one("a[href^='/monitor/leftbehind/pubs/']")      # a record, in Datasette
    finally:
        process.terminate()
        process.wait(timeout=15)
