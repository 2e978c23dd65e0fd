"""Settings: one table of defaults with help text, overridden by a TOML file, then by the environment.

The monitor's own settings are here; each source declares its own beside its spider (`options`, e.g. the FSA
authorities to crawl), and the source registry (spiders/registry.py) hands them in through `provide`. Both are read
from the same file, by name. Secrets (the SMTP password) are read only from the environment, never from the file.
"""
from __future__ import annotations

import difflib
import os
import sys
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.setting_values import Setting, check, from_text, shown

SETTINGS: tuple[Setting, ...] = (
    Setting("user_agent", "leftbehind-monitor/0.1 (+{contact_url})",
            "User-Agent sent to every source; {contact_url} is filled in."),
    Setting("contact_url", "https://github.com/leftbehind-monitor/leftbehind-monitor",
            "Where a source's operator can find out who is crawling."),
    Setting("postcodes_url", "https://api.postcodes.io", "Base URL of postcodes.io.", env="LBM_POSTCODES_URL"),
    Setting("http_timeout", 20.0, "Seconds before an HTTP request to postcodes.io gives up.", low=0.1),
    Setting("http_retries", 4, "Retries on 429 and 5xx, with exponential backoff."),
    Setting("http_backoff", 0.5, "First backoff in seconds; doubled on each retry."),
    Setting("postcodes_concurrency", 4, "postcodes.io bulk lookups in flight at once (1 = one after another).", low=1),
    Setting("postcodes_rate_per_second", 10.0,
            "Most requests per second to postcodes.io, retries included, evenly spaced (0 = no limit). Each bulk "
            "request carries 100 postcodes; a Retry-After (429, 503) pauses all requests.",
            env="LBM_POSTCODES_RATE"),
    Setting("health_min_share", 0.8,
            "A crawl scope is healthy only if its item count is at least this share of the median of its last "
            "healthy crawls.", high=1),
    Setting("health_window", 5, "How many recent healthy crawls the median is taken over.", low=1),
    Setting("closure_missing_crawls", 2,
            "A venue is closed after missing from this many consecutive healthy crawls of its scope.", low=1),
    Setting("operator_email", "",
            "Who runs this monitor: gets failing sources and failed jobs by mail, through the outbox (empty = nobody)."),
    Setting("operator_alert_hours", 6,
            "At most one mail to the operator in this many hours; what happens meanwhile waits for the next one."),
    Setting("frozen_sources", {},
            "Sources whose publisher stopped, beyond those their spider declares archived (the mutual aid listings): "
            "name = { archive_url = ..., last_listing = DATE }, or name = false to crawl an archived source as a "
            "live one. A frozen source is crawled once or on demand, never reported failing or stale; its figures "
            "say 'as of DATE (archived listing)'.", kind="archives"),
    Setting("backfill_days", 90,
            "A closure, reopening or announcement is old news when its source's date (else the last date it was "
            "listed as it was) is more than this many days before the crawl: counted at its date, never alerted or "
            "headlined."),
    Setting("changed_hands_weeks", 12,
            "A new registration at the address of a venue closed within this many weeks turns that closure into a "
            "change of hands (and a correction is sent)."),
    Setting("stale_after_days", 8,
            "`status` asks for a person when a source's last healthy crawl is older than this many days (a source "
            "in frozen_sources never is).", low=1),
    Setting("failure_alert_after", 3, "Tell the operator after this many consecutive failed crawls of a source.",
            low=1),
    Setting("allow_private_addresses", False,
            "Crawls refuse private, loopback and link-local addresses: true allows them all, a list of "
            "'host:port' allows just those (a local mirror).", kind=(bool, list)),
    Setting("crawl_memory_mb", 4096,
            "Address-space ceiling of a crawl child process in MiB (0 = none): a crafted file cannot exhaust memory."),
    Setting("serve_memory_mb", 2048,
            "Address-space ceiling of the Datasette process in MiB (0 = none): a query cannot exhaust memory."),
    Setting("crawl_timeout", 3600, "Seconds a crawl child process may run before it is stopped.", low=1),
    Setting("download_timeout", 300,
            "Seconds one download may take in all, from connecting to its last byte: a file sent slowly is stopped "
            "at this, however steadily its bytes come.", low=1),
    Setting("download_max_mb", 1024,
            "Largest file a crawl streams to disk (a 360Giving publisher's file), in MiB counted after decoding "
            "(gzip, deflate, br, zstd), as it is decoded: a compression bomb stops here.", low=1),
    Setting("response_max_mb", 100,
            "Largest response body a crawl holds in memory, in MiB, before and after decoding: keep it well under "
            "crawl_memory_mb.", low=1),
    Setting("grants_window_days", 365,
            "Windowed indicators (grants, pub and club closures) cover this many days before now."),
    Setting("min_reliable_count", 20,
            "A rate from fewer records than this is marked 'too few to say' (not reliable), whatever its value."),
    Setting("datasette_url", "http://127.0.0.1:8001", "Base URL of the Datasette that links in emails point to."),
    Setting("mail_from", "Left-behind monitor <monitor@localhost>", "From address of alerts and digests."),
    Setting("smtp_host", "", "SMTP server; empty means write mail to the Maildir instead.", env="LBM_SMTP_HOST"),
    Setting("smtp_port", 587, "SMTP port.", env="LBM_SMTP_PORT", low=1, high=65535),
    Setting("smtp_security", "starttls", "'starttls', 'ssl' or 'none'.", env="LBM_SMTP_SECURITY",
            choices=("starttls", "ssl", "none")),
    Setting("smtp_user", "", "SMTP user name; the password comes only from LBM_SMTP_PASSWORD.", env="LBM_SMTP_USER"),
    Setting("maildir", "./mail", "Maildir folder used when no SMTP server is configured.", env="LBM_MAILDIR"),
    Setting("unsubscribe_url", "http://127.0.0.1:8001/unsubscribe",
            "Base of the unsubscribe link (answered by `run.py serve`); ?token= is appended."),
    Setting("web_url", "http://127.0.0.1:8001", "Public base URL of `run.py serve`: links in feeds and emails."),
    Setting("web_requests_per_minute", 20, "Requests per client per window to searches and the subscribe pages.",
            low=1),
    Setting("web_rate_window_seconds", 60, "The window of web_requests_per_minute, in seconds.", low=1),
    Setting("web_confirmations_per_day", 3, "Confirmation emails to one address per 24 hours; more are dropped."),
    Setting("web_max_body_bytes", 8192, "Largest form body accepted; more gets 413.", low=1),
    Setting("schedule_timezone", "Europe/London", "Time zone of the cron schedules.", kind="timezone"),
    Setting("schedule", {
        "digest": "0 7 * * 1",
    }, "Cron expression per job (minute hour day month day-of-week); a source not named here runs on the "
       "schedule its spider declares (e.g. fhrs_pubs \"0 5 * * *\")."),
    Setting("start_urls", {}, "Start URL per source, overriding the live default (the demo points these at the "
                             "replay server)."),
    Setting("enabled_sources", [], "Sources that `crawl --all` and the scheduler run; empty: every spider in "
                                   "SPIDER_MODULES (`scrapy list`)."),
    Setting("smtp_timeout", 30.0, "Seconds an SMTP conversation may stall before the message is retried later.",
            low=0.1),
    Setting("mail_retry_seconds", 60, "First retry delay for a message the transport refused; doubled on each "
                                      "attempt, capped at six hours."),
    Setting("mail_max_attempts", 12, "Attempts before a message is marked failed and left in the outbox.",
            low=1),
    Setting("misfire_grace_seconds", 21600, "A scheduled job missed by more than this (machine off) waits for its "
                                            "next time; within it, missed runs are coalesced into one."),
)

SECRET_ENV = {"smtp_password": "LBM_SMTP_PASSWORD"}
_provider: Callable[[], Iterable[tuple[str, Setting]]] | None = None


def provide(settings: Callable[[], Iterable[tuple[str, Setting]]]) -> None:
    """Tell the settings where the sources' own come from: (source name, Setting) pairs (the registry calls this)."""
    global _provider
    _provider = settings


def source_settings() -> list[tuple[str, Setting]]:
    """Return each source's own settings, as (source name, Setting), in source order."""
    if _provider is None:
        raise ConfigError("the sources' settings are unknown: import the source registry (spiders.registry) first")
    pairs = list(_provider())
    names = [s.name for s in SETTINGS] + [s.name for _, s in pairs]
    if clash := sorted({n for n in names if names.count(n) > 1}):
        raise ConfigError(f"setting {clash[0]!r} is declared twice (by the monitor or by two sources)")
    return pairs


def all_settings() -> tuple[Setting, ...]:
    """Return every setting: the monitor's, then each source's own."""
    return SETTINGS + tuple(s for _, s in source_settings())


def defaults() -> dict[str, Any]:
    """Return every setting's default, by name."""
    return {s.name: s.default for s in all_settings()}


def load(path: str | os.PathLike | None = None, environ: dict | None = None,
         warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Return the settings: defaults, then the TOML file, then the environment, each value checked."""
    environ = os.environ if environ is None else environ
    warn = warn or (lambda message: print(f"Warning: {message}", file=sys.stderr))
    table = all_settings()
    values = {s.name: s.default for s in table}
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file not found: {p}")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"config file {p} is not valid TOML: {e}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"config file {p} cannot be read: {getattr(e, 'strerror', None) or e}") from None
        for name, env in SECRET_ENV.items():
            if name in data:
                raise ConfigError(f"unknown setting {name} in {p}: it is read only from the environment ({env})")
        for name in sorted(set(data) - set(values)):
            near = difflib.get_close_matches(name, values, n=1)
            warn(f"unknown setting {name!r} in {p} is ignored" + (f" (did you mean {near[0]}?)" if near else ""))
        for s in table:
            if s.name in data:
                values[s.name] = check(s, data[s.name], f"{s.name} = {shown(_toml_value(data[s.name]))} in {p}")
    for s in table:
        if s.env and environ.get(s.env):
            raw = environ[s.env]
            values[s.name] = check(s, from_text(s, raw), f"{s.env}={shown(raw)} (setting {s.name})")
    for name, env in SECRET_ENV.items():
        values[name] = environ.get(env, "")
    values["user_agent"] = values["user_agent"].format(contact_url=values["contact_url"])
    return values


def markdown_table() -> str:
    """Return the settings as Markdown: the monitor's table, then each source's own (docs/configuration.md)."""
    lines = _table(SETTINGS)
    lines.append("| (secret) `smtp_password` | | `LBM_SMTP_PASSWORD` | SMTP password, only from the environment. |")
    by_source: dict[str, list[Setting]] = {}
    for source, setting in source_settings():
        by_source.setdefault(source, []).append(setting)
    for source, settings in by_source.items():
        lines += ["", f"Settings of the `{source}` source (declared beside its spider):", "", *_table(settings)]
    return "\n".join(lines)


def _table(settings) -> list[str]:
    lines = ["| setting | default | environment | what it does |", "|---|---|---|---|"]
    for s in settings:
        default = s.default
        if isinstance(default, dict):
            default = ", ".join(f"{k}: {v}" for k, v in default.items()) or "{}"
        lines.append(f"| `{s.name}` | `{default}` | {('`' + s.env + '`') if s.env else ''} | {s.help} |")
    return lines


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def example_toml() -> str:
    """Return a config file that sets every setting to its default, each with its help: the shipped example."""
    lines = ["# Settings of the left-behind neighbourhoods monitor, every one at its default.",
             "# Copy this file, change what you need, and pass it with --config (or LBM_CONFIG).",
             "# The SMTP password is never read from here: set LBM_SMTP_PASSWORD in the environment.", ""]
    tables = []
    owner = {s.name: source for source, s in source_settings()}
    for s in all_settings():
        if isinstance(s.default, dict):
            tables.append(s)
            continue
        about = (f"# The {owner[s.name]} source: " if s.name in owner else "# ") + s.help \
            + (f" (environment: {s.env})" if s.env else "")
        lines += [about, f"{s.name} = {_toml_value(s.default)}", ""]
    for s in tables:
        lines += [f"# {s.help}", f"[{s.name}]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in s.default.items()]
        lines.append("")
    return "\n".join(lines)

