"""The README and docs/ say only what is there: every link and every repository path they name exists."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)[^)]*\)|src=\"([^\"]+)\"")
# A path in backticks that starts at a top-level folder of the project: `spiders/fetch_policy.py`.
TOP = ("run.py", "pyproject.toml", "spiders/", "monitor/", "db/", "core/", "templates/", "tests/", "bench/", "docs/",
       ".ci/")
PATH = re.compile("`((?:" + "|".join(re.escape(t) for t in TOP) + r")[\w./<>*-]*)`")


def _named(doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    links = [a or b for a, b in LINK.findall(text) if not (a or b).startswith(("http:", "https:", "mailto:"))]
    return [str((doc.parent / link).resolve().relative_to(ROOT)) for link in links] + [
        p.rstrip(".") for p in PATH.findall(text) if "<" not in p and "*" not in p]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_path_a_doc_names_exists(doc):
    missing = [p for p in _named(doc) if not (ROOT / p).exists()]
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


def test_the_readme_is_short_and_leads_to_the_docs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    for doc in ("architecture", "indicators", "web", "safety", "performance", "configuration", "adding-a-source"):
        assert f"(docs/{doc}.md)" in text, doc
