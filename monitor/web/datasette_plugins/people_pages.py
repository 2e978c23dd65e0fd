"""Datasette plugin: the people's pages (ward search, ward pages, feeds, subscriptions), the site's metadata and
canned queries, and their configuration; code in monitor/web/."""
from monitor.web.plugin import (  # noqa: F401  (hooks found by name)
    asgi_wrapper,
    canned_queries,
    get_metadata,
    prepare_jinja2_environment,
    register_routes,
    skip_csrf,
    startup,
)
