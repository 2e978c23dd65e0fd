"""Re-runnable migrations: each named step runs once per database, recorded in `_migrations`."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

Step = Callable[[sqlite_utils.Database], None]


class Migrations:
    """An ordered list of named schema steps for one database."""

    def __init__(self, name: str, legacy: str | None = None):
        self.name = name
        self.legacy = legacy   # the set its steps belonged to before it had its own: a step done there is done
        self.steps: list[tuple[str, Step]] = []

    def __call__(self, fn: Step) -> Step:
        self.steps.append((fn.__name__, fn))
        return fn

    def applied(self, db: sqlite_utils.Database) -> set[str]:
        if "_migrations" not in db.table_names():
            return set()
        sets = [self.name] + ([self.legacy] if self.legacy else [])
        return {r["name"] for r in db["_migrations"].rows_where(
            f"migration_set in ({', '.join('?' * len(sets))})", sets)}

    def apply(self, db: sqlite_utils.Database) -> list[str]:
        """Run the steps not yet applied; return their names."""
        done = self.applied(db)
        ran = []
        for name, fn in self.steps:
            if name in done:
                continue
            with db.conn:
                fn(db)
                db["_migrations"].insert(
                    {"migration_set": self.name, "name": name,
                     "applied_at": datetime.now(UTC).isoformat(timespec="seconds")},
                    pk=("migration_set", "name"))
            ran.append(name)
        return ran
