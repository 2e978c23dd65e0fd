"""Datasette plugin: the people's pages (ward search, ward pages, feeds, subscriptions); code in monitor/web/."""
from monitor.web.plugin import asgi_wrapper, register_routes, skip_csrf  # noqa: F401  (hooks found by name)
