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
NAT64 = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")   # RFC 8215: a local translator, never public


def embedded_ipv4(ip) -> list:
    """Return the IPv4 addresses an IPv6 address carries: IPv4-mapped, IPv4-compatible (::a.b.c.d), NAT64
    (64:ff9b::/96), 6to4 (2002::/16) and Teredo's server and client; an IPv4 address is its own."""
    if ip.version == 4:
        return [ip]
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 or ip in NAT64:    # ::a.b.c.d, and what a NAT64 gateway would connect to
        found.append(low)
    return [a for a in found if a is not None]


def _refused_ip(ip) -> bool:
    if not ip.is_global or ip.is_multicast or ip in LOCAL_NAT64:
        return True
    return any(not v4.is_global or v4.is_multicast for v4 in embedded_ipv4(ip))


def address_refusal(host: str, resolve=socket.getaddrinfo) -> str | None:
    """Return why a host is not to be fetched (a non-public address, or a name that does not resolve), or None.

    A name is refused by itself, before any request, when it is a loopback name (`localhost`, `localhost.`,
    `x.localhost`), percent-encoded (`127%2e0%2e0%2e1`: some resolvers decode it) or does not resolve here (the
    downloader's resolver could answer otherwise); an IPv6 address when it embeds a refused IPv4 address."""
    name = host.strip("[]")
    try:
        addresses = {ipaddress.ip_address(name)}
    except ValueError:
        if "%" in name:
            return "a percent-encoded host name"
        if name.lower().rstrip(".") == "localhost" or name.lower().rstrip(".").endswith(".localhost"):
            return "a private, loopback or link-local address"
        try:
            addresses = {ipaddress.ip_address(info[4][0].split("%")[0]) for info in resolve(host, None)}
        except (OSError, UnicodeError, ValueError):
            return "a name that does not resolve"
        if not addresses:
            return "a name that does not resolve"
    if any(_refused_ip(ip) for ip in addresses):
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
            kind = "scheme" if "only http" in reason else "address" if "address" in reason \
                else "name" if "name" in reason else "url"
            self.stats.inc_value(f"fetch_policy/refused/{kind}")
            raise IgnoreRequest(reason)
        return None
