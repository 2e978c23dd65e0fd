"""The news_mentions table's own schema steps: none beyond those every record table gets."""
from __future__ import annotations

from db.migrations import Migrations

schema = Migrations("news_mentions", legacy="public")
