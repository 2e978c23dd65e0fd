"""The monitor's settings as a crawl sees them: given by the runner (LBM_SETTINGS), or loaded from LBM_CONFIG."""
from __future__ import annotations

from core.config import load
from spiders import registry  # noqa: F401  (the settings learn the sources' own from it)


def monitor_settings(scrapy_settings) -> dict:
    """Return the monitor's settings: given by the runner, or loaded from LBM_CONFIG (the defaults without it)."""
    return scrapy_settings.get("LBM_SETTINGS") or load(scrapy_settings.get("LBM_CONFIG"))
