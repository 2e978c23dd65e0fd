"""The register's indicators: open pubs and bars and their closures; members' clubs apart."""
from __future__ import annotations

from spiders.indicators import CLOSED_IN_WINDOW, Indicator

PUBS_AND_BARS = "r.venue_kind IN ('pub', 'bar')"       # spiders/sources/fhrs_pubs/venue_kinds.py PUBS_AND_BARS
MEMBERS_CLUBS = "r.venue_kind = 'members_club'"

# Pubs and bars, as ONS counts them; members' clubs (working men's, social, British Legion...) apart.
INDICATORS: tuple[Indicator, ...] = (
    Indicator("pubs_per_100k", "Open pubs and bars", "fhrs_pubs", f"r.status = 'open' AND {PUBS_AND_BARS}",
              noun="pubs and bars"),
    Indicator("pub_closures_per_100k", "Pub and bar closures", "fhrs_pubs",
              f"r.status = 'closed' AND {PUBS_AND_BARS} AND {CLOSED_IN_WINDOW}", window="window",
              dated_by="closed_at", noun="pub and bar closures", more_is_worse=True),
    Indicator("social_clubs_per_100k", "Open social clubs", "fhrs_pubs", f"r.status = 'open' AND {MEMBERS_CLUBS}",
              noun="social clubs"),
    Indicator("social_club_closures_per_100k", "Social club closures", "fhrs_pubs",
              f"r.status = 'closed' AND {MEMBERS_CLUBS} AND {CLOSED_IN_WINDOW}", window="window",
              dated_by="closed_at", noun="social club closures", more_is_worse=True),
)
