"""The fast JSON reader gives exactly what ijson gives, grant for grant, whatever the shape or the chunking."""
from __future__ import annotations

import copy
import hashlib
import json

import ijson
import pytest

import spiders.sources.threesixty_giving.grants_json as grants_json
from spiders.sources.threesixty_giving.grants_json import json_grant_texts, json_grants, keyed_grant_texts

TRICKY = [
    {"id": "360G-a", "title": "Braces in text: },{ and }, {", "amountAwarded": 1500.5},
    {"id": "360G-b", "beneficiaryLocation": [{"geoCode": "E05000001"}, {"geoCode": "E05000002"}],
     "recipientOrganization": [{"id": "GB-CHC-1", "location": [{"name": "x"},  {"name": "y"}]}]},
    {"id": "360G-c", "description": "escaped quote \" then },{\"id\": \"fake\"} and a backslash \\",
     "amountAwarded": 12},
    {},
    {"id": "360G-d", "title": "unicode: caf\u00e9 \u2013 \U0001F600", "nested": {"a": {"b": [{}, {}]}}},
]


class Stats:
    def __init__(self):
        self.values = {}

    def inc_value(self, key, n=1):
        self.values[key] = self.values.get(key, 0) + n


def by_ijson(data: bytes) -> list:
    data = data.removeprefix(b"\xef\xbb\xbf")   # ijson itself stops at a byte-order mark
    prefix = "item" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" else "grants.item"
    return [g for g in ijson.items(data, prefix, use_float=True) if isinstance(g, dict)]


def layouts(grants: list[dict]) -> dict[str, bytes]:
    package = {"grants": grants}
    return {
        "compact": json.dumps(package, separators=(",", ":")).encode(),
        "indented": json.dumps(package, indent=2, ensure_ascii=False).encode(),
        "spaced": ('{ "grants" :\n[\n' + "\n ,\r\n\t".join(json.dumps(g) for g in grants) + "\n]\n}\n").encode(),
        "bare array": json.dumps(grants).encode(),
        "bom": b"\xef\xbb\xbf" + json.dumps(package).encode(),
    }


@pytest.mark.parametrize("chunk", [7, 64, 1 << 22])
@pytest.mark.parametrize("layout", ["compact", "indented", "spaced", "bare array", "bom"])
def test_fast_reader_matches_ijson(monkeypatch, layout, chunk):
    monkeypatch.setattr(grants_json, "CHUNK", chunk)   # a 7-byte chunk puts a cut across every chunk boundary
    data = layouts(TRICKY * 3)[layout]
    stats = Stats()
    got = list(json_grant_texts(data, stats))
    assert [g for g, _ in got] == by_ijson(data) == TRICKY * 3
    assert stats.values == {}   # read by the fast reader throughout
    # Each grant's bytes are its own text, and parse to it.
    assert all(json.loads(text) == grant for grant, text in got)
    assert got[0][1].startswith(b"{") and b'"360G-a"' in got[0][1] and got[0][1].endswith(b"}")


def test_empty_and_single(monkeypatch):
    assert list(json_grants(b'{"grants": []}')) == []
    assert list(json_grants(b'[ ]')) == []
    assert list(json_grants(b'{"grants": [{"id": "x"}]}\n')) == [{"id": "x"}]


@pytest.mark.parametrize("data, note", [
    (b'{"grants": [{"id": "a"}, {"id": "b", "title": "lone \\ud800 surrogate"}, {"id": "c"}]}',
     "text orjson refuses (ijson reads it)"),
    (b'{"grants": [{"id": "a"}, {"id": "b"}], "extra": [{"x": 1}, {"y": 2}]}', "keys after the grants"),
    (b'{"meta": {"v": 1}, "grants": [{"id": "a"}, {"id": "b"}]}', "keys before the grants"),
    (b'{"grants": [{"id": "a"}, 7, {"id": "b"}, "text"]}', "elements that are not objects"),
])
def test_other_shapes_fall_back_to_ijson_without_losing_or_repeating_a_grant(data, note):
    stats = Stats()
    got = list(json_grants(data, stats))
    assert got == by_ijson(data), note
    assert [g["id"] for g in got] == [g["id"] for g in by_ijson(data)] and len(got) >= 2
    assert stats.values.get("threesixty/json/ijson") == 1


def test_a_broken_grant_is_reported_by_ijson_after_the_good_ones(monkeypatch):
    monkeypatch.setattr(grants_json, "MAX_TRIES", 4)
    good = [{"id": f"g{i}", "beneficiaryLocation": [{"a": 1}, {"b": 2}]} for i in range(5)]
    text = json.dumps({"grants": good})
    broken = text.replace('{"id": "g2"', '{"id": "g2" "oops": 1', 1).encode()   # a missing comma
    got = []
    with pytest.raises(ijson.JSONError):
        for grant in json_grants(broken):
            got.append(grant)
    assert [g["id"] for g in got] == ["g0", "g1"]


def test_a_number_ijson_cannot_hold_is_read():
    data = b'{"grants": [{"id": "a", "amountAwarded": 18446744073709551616}, {"id": "b"}]}'
    with pytest.raises(ijson.JSONError):
        by_ijson(data)
    assert list(json_grants(data)) == [{"id": "a", "amountAwarded": 18446744073709551616.0}, {"id": "b"}]


def test_a_truncated_file_goes_to_ijson_which_reports_it():
    data = json.dumps({"grants": TRICKY}).encode()[:-40]
    stats = Stats()
    with pytest.raises(ijson.IncompleteJSONError):
        list(json_grants(data, stats))
    assert stats.values == {"threesixty/json/ijson": 1}


def test_work_within_one_grant_is_bounded_then_ijson_reads_on(monkeypatch):
    # A grant with many nested cuts would be parsed again at each one: past MAX_REPARSED bytes, ijson takes over.
    monkeypatch.setattr(grants_json, "MAX_REPARSED", 2000)
    deep = {"id": "deep", "locations": [{"n": i} for i in range(200)]}   # 199 cuts inside it
    data = json.dumps({"grants": [{"id": "a"}, deep, {"id": "b"}]}).encode()
    stats = Stats()
    assert list(json_grants(data, stats)) == [{"id": "a"}, deep, {"id": "b"}]
    assert stats.values == {"threesixty/json/ijson": 1}
    monkeypatch.setattr(grants_json, "MAX_REPARSED", 1 << 26)
    stats = Stats()
    assert list(json_grants(data, stats)) == [{"id": "a"}, deep, {"id": "b"}] and stats.values == {}


@pytest.mark.parametrize("chunk", [7, 1 << 22])
def test_grants_whose_bytes_are_known_are_given_unparsed_and_the_others_parsed(monkeypatch, chunk):
    monkeypatch.setattr(grants_json, "CHUNK", chunk)
    grants = [copy.deepcopy(g) for g in TRICKY * 3]
    data = layouts(grants)["spaced"]
    key = lambda text: hashlib.sha1(b"salt" + text).hexdigest()   # noqa: E731
    first = list(keyed_grant_texts(data, None, key))
    assert [g for g, _, _ in first] == grants and all(k == key(t) for _, t, k in first)
    grants[6]["title"] = "changed"   # the second copy of 360G-b
    parses = []
    real_parse = grants_json._parse
    monkeypatch.setattr(grants_json, "_parse", lambda text: parses.append(real_parse(text)) or parses[-1])
    second = list(keyed_grant_texts(layouts(grants)["spaced"], None, key, {k for _, _, k in first}))
    # Every grant is given, in order, with its own bytes; only the changed one was parsed whole (a cut inside a
    # grant, known or not, is still tried and fails).
    assert [json.loads(t) for _, t, _ in second] == grants
    assert [g for g, _, _ in second if g is not None] == [grants[6]]
    assert [p for p in parses if p is not None] == [grants[6]]
    # Without the known keys every grant is parsed again.
    assert [g for g, _, _ in keyed_grant_texts(layouts(grants)["spaced"], None, key)] == grants
