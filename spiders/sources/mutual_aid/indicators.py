"""The mutual aid source's indicator: open groups per 100,000 people."""
from __future__ import annotations

from spiders.indicators import Indicator

INDICATORS: tuple[Indicator, ...] = (
    Indicator("mutual_aid_groups_per_100k", "Mutual aid groups", "mutual_aid",
              "r.status = 'open'", listed_in_latest=True, noun="groups"),
)
