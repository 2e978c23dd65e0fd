"""A pytest plugin: the test session fails if it leaves new generated files (git-ignored ones) in the repository.

Tests write into temporary folders; a test that writes a database, a screenshot or a demo folder into the
checkout would pass locally and litter every clone. Python's own __pycache__ and pytest's cache are not counted.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Caches and installed dependencies (axe-core's node_modules, installed by `npm ci` like .venv by pip) are not output.
NOT_COUNTED = ("__pycache__", ".pytest_cache", ".venv", ".ruff_cache", ".import_linter_cache", "node_modules")


def ignored_files() -> set[str] | None:
    """Return the git-ignored files of the checkout, or None outside a git checkout."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    paths = {line[3:] for line in out.stdout.splitlines() if line.startswith("!! ")}
    return {p for p in paths if not any(part in NOT_COUNTED for part in Path(p).parts)}


def pytest_sessionstart(session):
    session.config.stash[_BEFORE] = ignored_files()


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(_BEFORE, None)
    after = ignored_files()
    if before is None or after is None:
        return
    new = sorted(after - before)
    if new:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"FAILED: tests wrote into the repository: {', '.join(new[:10])}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set | None]()
