"""The simulated weeks' dates: week 1 is Monday 1 January 2024."""
from __future__ import annotations

from datetime import date, timedelta

FIRST = date(2024, 1, 1)


def week_date(week: int) -> str:
    """Return the Monday of a simulated week, YYYY-MM-DD."""
    return (FIRST + timedelta(weeks=week - 1)).isoformat()
