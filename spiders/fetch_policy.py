"""What a crawl may fetch: http(s) only, and only public addresses unless the operator allows private ones.

Sources hand us URLs we did not choose (a 360Giving registry's `downloadURL`, the FSA's `FileName`): without
this, `file:///etc/passwd` would be read and stored in the public database, and `http://127.0.0.1:…/` or a cloud
metadata address fetched from inside the operator's network. The downloader middleware runs before every
request, redirects included (Scrapy schedules a redirect as a new request), so a public URL that redirects to a
private one or to another scheme is refused too. Refusal reasons name the URL only when it is an http(s) one:
a local path never reaches a public table.

Setting: Scrapy `LBM_ALLOW_PRIVATE_ADDRESSES` or the monitor setting `allow_private_addresses`: true allows every
private address (the demo's replay server runs on 127.0.0.1); a list of "host:port" allows just those (the tests
allow the replay server and nothing else on the machine). Stats: fetch_policy/refused/<why>.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

SCHEMES = ("http", "https")


def address_refusal(host: str, resolve=socket.getaddrinfo) -> str | None:
    """Return why a host is not to be fetched (a non-public address), or None when every address is public."""
    try:
        addresses = {ipaddress.ip_address(host.strip("[]"))}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in resolve(host, None)}
        except (OSError, UnicodeError):
            return None   # unresolvable: the download itself fails with a DNS error, reported as such
    for ip in addresses:
        mapped = getattr(ip, "ipv4_mapped", None)
        ip = mapped or ip
        if not ip.is_global or ip.is_multicast:
            return "a private, loopback or link-local address"
    return None


def shown_url(url: str) -> str:
    """Return a URL as it may be shown in a public table: http(s) URLs as they are, anything else by scheme only."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme in SCHEMES:
        return url[:300]
    return f"a {scheme[:20]}: URL" if scheme.isascii() and scheme.isalnum() else "a URL without a scheme"


def refusal(url: str, allow_private, resolve=socket.getaddrinfo) -> str | None:
    """Return the reason a URL may not be fetched, safe to store publicly; None when it may be.

    allow_private: True (any private address), False, or a collection of "host:port" that may be private.
    """
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
    except ValueError:
        return "refused a malformed URL"
    if scheme not in SCHEMES:
        shown = scheme[:20] if scheme.isascii() and scheme.isalnum() else "unknown"
        return f"refused a {shown}: URL (only http and https are fetched)"
    if not host:
        return "refused a URL without a host"
    try:
        netloc = f"{host}:{parts.port or (443 if scheme == 'https' else 80)}"
    except ValueError:
        return "refused a URL with a malformed port"
    if allow_private is not True and netloc not in (allow_private or ()):
        why = address_refusal(host, resolve)
        if why:
            return f"refused {url[:200]}: {why}"
    return None


def allowed(*values):
    """Combine allow settings: True wins; lists of "host:port" are joined; anything else allows nothing."""
    if any(v is True or (isinstance(v, str) and v.lower() in ("1", "true")) for v in values):
        return True
    return frozenset(str(x).lower() for v in values if isinstance(v, (list, tuple)) for x in v)


class FetchPolicyMiddleware:
    """Downloader middleware: refuse every request the policy refuses, before any handler sees it."""

    def __init__(self, allow_private, stats):
        self.allow_private, self.stats = allow_private, stats
        self._hosts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(allowed(settings.get("LBM_ALLOW_PRIVATE_ADDRESSES"),
                           (settings.get("LBM_SETTINGS") or {}).get("allow_private_addresses")), crawler.stats)

    def _resolve_cached(self, host, port):
        if host not in self._hosts:
            self._hosts[host] = socket.getaddrinfo(host, port)
        return self._hosts[host]

    def process_request(self, request, spider=None):
        reason = refusal(request.url, self.allow_private, self._resolve_cached)
        if reason:
            kind = "scheme" if "only http" in reason else "address" if "address" in reason else "url"
            self.stats.inc_value(f"fetch_policy/refused/{kind}")
            raise IgnoreRequest(reason)
        return None
