"""Base spider: start URL as an argument, provenance declared once, errors attributed to a crawl scope.

A scope is the unit of health: the whole source, or one local authority of it. Stats written here:
  scope/<scope>/seen    the spider reached this scope
  scope/<scope>/errors  fetch or parse errors in this scope (the store counts scope/<scope>/items)
  scope/<scope>/reason  the last error's reason
"""
from __future__ import annotations

from typing import ClassVar

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TimeoutError as TwistedTimeoutError

from spiders.fetch_policy import shown_url
from spiders.options import monitor_settings


class SourceSpider(scrapy.Spider):
    """A spider for one source. Subclasses declare name, default_start_url and the source registry's entry below."""

    default_start_url: str = ""
    # The source registry's entry (spiders/registry.py reads it; nothing else names a source's properties).
    item_class: ClassVar[type | None] = None   # the item class it yields: its TABLE is the record table
    schema: ClassVar = None              # the record table's own migrations (a db.migrations.Migrations), if any
    place_kind: str = ""                 # its records with coordinates are on the map (the places view) as this kind
    venue_kind_sql: str = "null"
    indicators: ClassVar[tuple] = ()     # the indicators its records feed (spiders/indicators.py Indicator)
    # Its section of new records in the weekly digest, in its own words: key, title, intro, headline (singular,
    # plural), left_behind_only, notable (SQL over the event e, one parameter: notable_grant_amount). {} = none.
    digest_section: ClassVar[dict] = {}
    venue_kind_nouns: ClassVar[dict[str, str]] = {}   # venue kind -> its noun in alerts and the digest
    # Its records on Datasette's ward_profile page: SQL over its table for the section, item, date and detail.
    ward_profile: ClassVar[tuple[str, str, str, str]] = ()
    # Its records on the people's ward page: the heading, and where the section comes (lower first). {} = none.
    ward_section: ClassVar[dict] = {}
    rank: int = 100                      # where its figures and news come in tables and the digest (lower first)         # SQL over its record (alias r) for a place's venue kind, on the map
    label: str = ""                      # how people see the source named: "Pubs (FSA register)"
    noun: str = "record"                 # one record, in a sentence: "pub"
    licence: str = ""                    # the data's licence; "" when each record carries its publisher's
    licence_url: str = ""
    attribution: str = ""                # whom to credit
    homepage: str = ""                   # where people read about the source
    credit: str = ""                     # one line for emails: who and which licence (default: both above)
    scope_kind: str = "source"           # "authority": health, coverage and closures per local authority
    # "absence": a record missing from consecutive healthy crawls of its scope closes (or the source says so);
    # "source": a record closes only when the source says so; "reports": news, never a closure.
    closure_rule: str = "source"
    dated_by_first_missing: bool = False  # a closure by absence is dated by the first crawl without it (lists
    # years apart), not by the crawl that concludes it (a register crawled daily)
    overlap_checked: bool = False        # a scope is healthy only if it lists most of its known records again
    subscription_kinds: ClassVar[dict[str, tuple[str, ...]]] = {}   # `subscribe --kinds` word -> venue kinds
    scopes_setting: str = ""             # the setting naming the scopes one crawl covers (crawl_runs.scope)
    schedule: str = "0 6 * * *"          # when the scheduler crawls it (cron); the `schedule` setting overrides
    # Its own item pipelines (import path -> order), added to the project's ITEM_PIPELINES for its crawls only:
    # e.g. the libraries' identity pipeline (50) runs before the shared normalise (100) and validate (200).
    pipelines: ClassVar[dict[str, int]] = {}
    # Its own settings (core.setting_values.Setting), read from the same config file as the monitor's, by name;
    # the spider reads them with self.option(name, default), the monitor from its settings dict.
    options: ClassVar[tuple] = ()
    # Its publisher stopped: {"archive_url": ..., "last_listing": DATE}. Crawled once or on demand, never reported
    # failing; the `frozen_sources` setting adds others, or names it false to treat it as live.
    archived: ClassVar[dict] = {}

    @classmethod
    def update_settings(cls, settings) -> None:
        """Add its own pipelines to the project's (Scrapy calls this before the crawl's settings are frozen)."""
        super().update_settings(settings)
        if cls.pipelines:
            settings.set("ITEM_PIPELINES", {**settings.getdict("ITEM_PIPELINES"), **cls.pipelines}, priority="spider")

    def __init__(self, start_url: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.start_url = start_url or self.default_start_url

    def option(self, name: str, default=None):
        """Return one of the monitor's settings (its own `options` among them) as this crawl was given them."""
        return monitor_settings(self.settings).get(name, default)

    @property
    def default_scope(self) -> str:
        return self.name

    async def start(self):
        for request in self.first_requests():
            yield request

    def first_requests(self):
        yield scrapy.Request(self.start_url, callback=self.parse, errback=self.on_error,
                             meta={"scope": self.default_scope}, dont_filter=True)

    def seen(self, scope: str) -> None:
        self.crawler.stats.set_value(f"scope/{scope}/seen", 1)

    def scope_error(self, scope: str, reason: str) -> None:
        """Count an error against a scope, so its crawl is judged unhealthy."""
        stats = self.crawler.stats
        stats.inc_value(f"scope/{scope}/errors")
        stats.set_value(f"scope/{scope}/reason", reason[:300])
        self.logger.warning("scope %s: %s", scope, reason)

    def on_error(self, failure):
        request = failure.request
        scope = request.meta.get("scope", self.default_scope)
        url = shown_url(request.url)
        if failure.check(HttpError):   # (a kind of IgnoreRequest, so first)
            reason = f"HTTP {failure.value.response.status} from {url}"
        elif failure.check(IgnoreRequest):   # the fetch policy's reason, or a size limit: already safe to show
            reason = failure.getErrorMessage()
        elif failure.check(TwistedTimeoutError):
            reason = f"timeout fetching {url}"
        else:
            reason = f"{failure.type.__name__} fetching {url}: {failure.getErrorMessage()[:200]}"
        self.seen(scope)
        self.scope_error(scope, reason)

    def request(self, url, scope: str, **kwargs) -> scrapy.Request | None:
        """Build a request for a URL a source gave us, or count an error against the scope if it is not a URL."""
        try:
            return scrapy.Request(url, **{"errback": self.on_error, **kwargs})
        except (ValueError, TypeError):
            self.seen(scope)
            self.scope_error(scope, f"the source gave a URL that cannot be fetched: {shown_url(str(url))}")
            return None

    def stamp(self, item, scope: str | None = None):
        """Set the provenance and scope every item carries."""
        item.scope = scope or self.default_scope
        item.licence = item.licence or self.licence
        return item
