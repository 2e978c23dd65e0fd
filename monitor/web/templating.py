"""The people's pages render with Datasette's own Jinja environment, their templates in monitor/web/templates/people/.

Datasette looks for a template in its template dirs (`--template-dir`, plugins' `templates` folders, its own)
before this folder, so a site may override `people/ward.html`; and no template here can replace one of Datasette's
own, since every name here starts with `people/`. Every `{{ ... }}` of a people's template passes through `shown`
(the environment's finalize, which leaves every other template's values as they are).
"""
from __future__ import annotations

from pathlib import Path

import jinja2
import markupsafe

from db.fields import http_url
from monitor.delivery.text import strip_unsafe
from spiders import registry

SHOWN_LIMIT = 2_000   # characters of one value on a page: a long name, a paragraph
TEMPLATES = Path(__file__).resolve().parent / "templates"
PREFIX = "people/"


def shown(value):
    """Return a value as a page shows it: without control or bidi characters (as in mail), at most SHOWN_LIMIT long.

    So a name with U+202E from a source cannot reorder the words around it, and a 20 MB title put into the
    database by hand shows as its start."""
    if isinstance(value, markupsafe.Markup) or not isinstance(value, str):
        return value   # markup the code built (the chart), or a number
    if len(value) > SHOWN_LIMIT:
        value = value[: SHOWN_LIMIT - 1] + "…"
    return strip_unsafe(value)


def source_label(name: str) -> str:
    """Return a source as people see it named ("Pubs (FSA register)"), or its name if no source has it now."""
    found = registry.source(name)
    return found.label if found else name


def finalize_for(prior):
    """Return a finalize that shows the people's templates' values through `shown`, and others through prior."""
    @jinja2.pass_context
    def finalize(context, value):
        if not (context.name or "").startswith(PREFIX):
            return prior(value) if prior else value
        if isinstance(value, jinja2.Undefined):
            value._fail_with_undefined_error()   # a name the page uses but was not given: an error, not ""
        return shown(value)
    return finalize


def prepare(env: jinja2.Environment, datasette=None) -> None:
    """Add the people's templates (after Datasette's own dirs), their finalize and filters to env: `http_url`,
    `source_label`, and `site`, which puts a path of the site under Datasette's base_url (a site served behind a
    proxy at /monitor/ links to /monitor/wards)."""
    env.loader = jinja2.ChoiceLoader([env.loader, jinja2.FileSystemLoader(TEMPLATES)])
    env.finalize = finalize_for(env.finalize)
    env.filters["http_url"] = http_url   # `{{ url | http_url }}`: a source URL only if it may be a link
    env.filters["source_label"] = source_label
    env.filters["site"] = datasette.urls.path if datasette is not None else (lambda path: path)
