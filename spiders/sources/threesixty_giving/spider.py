"""360Giving grants: every publisher file listed in the 360Giving registry, under an acceptable licence.

Each file is parsed by Content-Type, then the Content-Disposition filename, then the URL extension (as
360Giving's datagetter does). A file whose registry `modified` and ETag/Last-Modified are unchanged since the
last good crawl is asked for conditionally (spiders/conditional_get.py); on 304, or the same bytes again, its stored
grants are counted as seen (a FileState item: spiders/pipelines/file_state.py).
Stats: threesixty/datasets, threesixty/licence/<verdict>, threesixty/format/<type>, threesixty/not_modified,
threesixty/same_content (200 with the bytes of the last good crawl), threesixty/grants, threesixty/known (grants of a
file read again whose bytes are those of a stored grant: not parsed, touched as unchanged).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

import orjson

from core.setting_values import Setting
from spiders.base import SourceSpider
from spiders.file_download import DownloadRefused
from spiders.items import Batch, FileState, Known, Unbuilt
from spiders.settings import LOCAL_HANDLERS_OFF
from spiders.sources.threesixty_giving import grant_fields as mapping
from spiders.sources.threesixty_giving import indicators, records
from spiders.sources.threesixty_giving.grant_fields import grant_fields
from spiders.sources.threesixty_giving.grants_json import json_grants, keyed_grant_texts
from spiders.sources.threesixty_giving.grants_table import csv_grants, xlsx_grants
from spiders.sources.threesixty_giving.items import Grant
from spiders.sources.threesixty_giving.licences import licence_verdict

BATCH = 500   # grants handed down the pipelines together
# The mapping's own version: a grant whose bytes are unchanged is skipped only if it would be built the same way.
MAPPING = hashlib.sha1(Path(mapping.__file__).read_bytes() + Path(__file__).read_bytes()).digest()

CONTENT_TYPES = {
    "application/json": "json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/csv": "csv",
}
PARSERS = {"json": json_grants, "csv": csv_grants, "xlsx": xlsx_grants}


def file_type(content_type: str, disposition: str, url: str) -> str | None:
    """Return json, csv or xlsx from the Content-Type, else the Content-Disposition filename, else the URL."""
    kind = CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())
    if kind:
        return kind
    found = re.search(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)", disposition or "", re.I)
    name = found.group(1) if found else urlsplit(url).path
    ext = name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    return ext if ext in PARSERS else None


class ThreeSixtyGivingSpider(SourceSpider):
    name = "threesixty_giving"
    default_start_url = "https://registry.threesixtygiving.org/data.json"
    item_class = Grant
    schema = records.schema
    rank = 20
    ward_section = {"heading": "Grants received", "rank": 40}
    ward_profile = ("'grant'", "coalesce(title, recipient_name, name)", "award_date",
                    "coalesce(funder_name, funder_id, '') || ' to ' || coalesce(recipient_name, '?')"
                    " || coalesce(': £' || cast(round(amount) as integer), '')")
    digest_section = {"key": "grants", "title": "Notable grants into left-behind wards",
                      "intro": "New grants of at least {amount} to recipients in left-behind wards.",
                      "headline": ("notable grant into left-behind wards", "notable grants into left-behind wards"),
                      "left_behind_only": True, "notable": "e.record_id in (select id from grants where amount >= ?)",
                      "notable_setting": "notable_grant_amount"}
    options = (Setting("notable_grant_amount", 10000, "Grants of at least this many pounds into left-behind wards "
                       "are listed in the digest."),)
    indicators = indicators.INDICATORS
    label = "Grants (360Giving)"
    noun = "grant"
    licence = ""    # each grant carries its publisher's licence
    licence_url = "https://www.threesixtygiving.org/publish-data/"
    attribution = "360Giving publishers, via the 360Giving Data Registry"
    homepage = "https://www.threesixtygiving.org/"
    credit = "360Giving publishers' data, licence per publisher"
    subscription_kinds = {"grant": ()}
    schedule = "0 4 * * 0"   # weekly, Sunday 04:00: publishers update monthly at most
    # Publishers' files are streamed to disk (spiders/file_download.py): some are hundreds of MB.
    custom_settings = {"DOWNLOAD_HANDLERS": {**LOCAL_HANDLERS_OFF, "http": "spiders.file_download.FileToDiskHandler",
                                             "https": "spiders.file_download.FileToDiskHandler"}}

    def parse(self, response):
        """Read the registry and ask for every file under an acceptable licence."""
        scope = self.default_scope
        self.seen(scope)
        try:
            datasets = json.loads(response.body)
        except (ValueError, RecursionError) as e:   # RecursionError: nested deeper than Python's json will go
            self.scope_error(scope, f"cannot parse the registry {response.url}: {e}")
            return
        for dataset in datasets if isinstance(datasets, list) else []:
            request = self.file_request(dataset)
            if request is not None:
                yield request

    def file_request(self, dataset: dict):
        stats = self.crawler.stats
        stats.inc_value("threesixty/datasets")
        verdict = licence_verdict(dataset.get("license"))
        stats.inc_value(f"threesixty/licence/{verdict}")
        distribution = (dataset.get("distribution") or [{}])[0]
        url = (distribution.get("downloadURL") or "").strip()
        if verdict != "acceptable" or not url:
            if not url:
                stats.inc_value("threesixty/no_download_url")
            return None
        # Unchanged files are asked for conditionally; the bytes must also come under the same licence and publisher.
        labels = f"{dataset.get('license')}\x1f{(dataset.get('publisher') or {}).get('name')}"
        meta = {"scope": self.default_scope, "dataset": dataset, "to_disk": True,
                "conditional": {"version": dataset.get("modified"), "labels": labels,
                                "inputs": [Grant.TABLE, self.name]}}
        return self.request(url, self.default_scope, callback=self.parse_file, errback=self.file_error, meta=meta,
                            dont_filter=True)

    def file_error(self, failure):
        """Count a file's download error against the scope; quarantine a file refused at a size or time limit."""
        self.on_error(failure)
        if failure.check(DownloadRefused):
            request = failure.request
            yield FileState(source=self.name, scope=self.default_scope, url=request.url, outcome="refused",
                            version=request.meta["dataset"].get("modified"),
                            reason=failure.getErrorMessage()[:300])

    def file_state(self, response, outcome: str, records: int = 0, reason: str = "") -> FileState:
        return FileState(source=self.name, scope=self.default_scope, url=response.url, outcome=outcome, reason=reason,
                         etag=_header(response, "ETag"), last_modified=_header(response, "Last-Modified"),
                         version=response.meta["dataset"].get("modified"),
                         content_hash=response.meta.get("file_content"), records=records,
                         read_in=(response.meta.get("conditional_state") or {}).get("crawl_id"))

    def parse_file(self, response):
        """Parse one publisher's file into grants, or count it as not modified."""
        dataset, scope, stats = response.meta["dataset"], self.default_scope, self.crawler.stats
        path = response.meta.get("body_path")
        unchanged = response.meta.get("file_unchanged")   # set by the conditional GET middleware
        if unchanged:   # 304, or the same bytes again: no parse; the store counts its grants as seen
            stats.inc_value(f"threesixty/{unchanged}")
            if path:
                Path(path).unlink(missing_ok=True)
            yield self.file_state(response, unchanged)
            return
        kind = file_type(response.headers.get("Content-Type", b"").decode("latin-1"),
                         response.headers.get("Content-Disposition", b"").decode("latin-1"), response.url)
        if kind is None:
            self.scope_error(scope, f"unrecognised file type at {response.url}")
            if path:
                Path(path).unlink(missing_ok=True)
            return
        stats.inc_value(f"threesixty/format/{kind}")
        count, batch = 0, []
        salt = input_salt(response.url, dataset, self.default_scope)
        first = not (response.meta.get("conditional_state") or {}).get("crawl_id")   # no good crawl read it
        known = response.meta.pop("known_inputs", None) or {}   # input hash -> id of stored grants of this file
        known_at_start, found = len(known), []
        build = partial(self.item_from_text, dataset=dataset, url=response.url)
        try:
            for grant, raw, text, key in self.rows(kind, Path(path) if path else response.body, salt, known):
                count += 1
                if grant is None:   # the bytes of a grant stored from this file: not parsed, its id is known
                    found.append((known.pop(key), key, text))
                else:
                    batch.append(self.unbuilt(grant, raw, salt, dataset, response.url, text, key))
                if len(batch) + len(found) == BATCH:   # one Scrapy item per BATCH grants: files run to millions
                    yield Batch([], batch, first, Known(Grant.TABLE, self.default_scope, build, found))
                    batch, found = [], []
            if batch or found:
                yield Batch([], batch, first, Known(Grant.TABLE, self.default_scope, build, found))
        except Exception as e:   # ijson, csv and openpyxl each raise their own kinds; the guards raise ValueError
            reason = f"cannot parse {response.url} as {kind}: {type(e).__name__}: {e}"
            self.scope_error(scope, reason)
            yield self.file_state(response, "refused", reason=reason[:300])
            return
        finally:
            if path:
                Path(path).unlink(missing_ok=True)
        stats.inc_value("threesixty/grants", count)
        if known_at_start:
            stats.inc_value("threesixty/known", known_at_start - len(known))   # found by their bytes, not parsed
        yield self.file_state(response, "parsed", count)

    def rows(self, kind: str, source, salt: bytes = b"", known=()):
        """Yield (grant, raw row, its bytes, input key) from a file. For JSON the raw row is the grant, and the key
        hashes its bytes (with salt); a grant whose key is known is not parsed: grant and raw row are None."""
        if kind == "json":
            texts = keyed_grant_texts(source, self.crawler.stats, input_key(salt), known)
            return ((g, g, text, k) for g, text, k in texts)
        return ((g, raw, None, None) for g, raw in PARSERS[kind](source, self.crawler.stats))

    def unbuilt(self, grant: dict, raw: dict, salt: bytes, dataset: dict, url: str, text: bytes | None = None,
                key: str | None = None) -> Unbuilt:
        """A grant to be built only if its input changed: its id, and the hash of its input: its bytes as
        published (a file re-laid-out is read again in full, and its unchanged grants found by their content) or,
        where ijson read it, its raw row as compact JSON."""
        ref = grant.get("id")
        ref = " ".join(str(ref).split()) if ref not in (None, "") else ""   # as normalised (pipelines/normalise.py)
        digest = key or hashlib.sha1(salt + orjson.dumps(raw, default=str)).hexdigest()
        return Unbuilt(Grant.TABLE, f"{self.name}:{ref}", self.default_scope, digest,
                       partial(self.item, grant, raw, dataset, url))

    def item_from_text(self, text: bytes, dataset: dict, url: str) -> Grant:
        grant = orjson.loads(text)
        return self.item(grant, grant, dataset, url)

    def item(self, grant: dict, raw: dict, dataset: dict, url: str) -> Grant:
        publisher = dataset.get("publisher") or {}
        item = Grant(source=self.name, source_url=url, publisher=publisher.get("name"),
                     licence=dataset.get("license"), raw=raw, **grant_fields(grant))
        return self.stamp(item)


def input_key(salt: bytes) -> Callable[[bytes], str]:
    """Return the input hash of a grant's bytes: sha1 of what input_salt covers, then them (a copy of the salted
    hash is updated: 0.7x the time of hashing salt + bytes, 200,000 times a file)."""
    salted = hashlib.sha1(salt)

    def key(text: bytes) -> str:
        h = salted.copy()
        h.update(text)
        return h.hexdigest()
    return key


def input_salt(url: str, dataset: dict, scope: str) -> bytes:
    """What a grant's input hash covers besides its own bytes: where it came from, under what, and the mapping."""
    publisher = (dataset.get("publisher") or {}).get("name")
    return MAPPING + orjson.dumps([url, publisher, dataset.get("license"), scope])


def _header(response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
