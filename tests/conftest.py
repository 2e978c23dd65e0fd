"""Shared fixtures: fresh databases in a temporary folder."""
from __future__ import annotations

import pytest

from db.store import init_private, init_public


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "leftbehind.db"


@pytest.fixture
def private_db_path(tmp_path):
    return tmp_path / "private.db"


@pytest.fixture
def fresh_db(db_path):
    """A migrated public database with the reference geography loaded."""
    return init_public(db_path)


@pytest.fixture
def private_db(private_db_path):
    return init_private(private_db_path)
