"""What the delivery side needs to know about each source: its licence line, its table, its subscription kind."""
from __future__ import annotations

SOURCE_LICENCES = {
    "mutual_aid": "mutualaid.wiki / covidmutualaid.org data, CC BY-NC-SA 4.0",
    "threesixty_giving": "360Giving publishers' data, licence per publisher",
    "fhrs_pubs": "Food Standards Agency food hygiene register, Open Government Licence v3",
    "libraries": "LibrariesHacked / DCMS / Arts Council England, OGL",
    "library_news": "Public Libraries News, CC BY 3.0",
}

SOURCE_LABELS = {
    "mutual_aid": "Mutual aid groups",
    "threesixty_giving": "Grants (360Giving)",
    "fhrs_pubs": "Pubs (FSA register)",
    "libraries": "Public libraries",
    "library_news": "Public Libraries News",
}

SOURCE_TABLES = {
    "mutual_aid": "groups",
    "threesixty_giving": "grants",
    "fhrs_pubs": "pubs",
    "libraries": "libraries",
    "library_news": "news_mentions",
}

# `subscribe --kinds pub,library,news,grant,group` names sources by what a person would call them; the register's
# venues are split by kind (db/venue_kinds.py), "pub" being pubs and bars as the pub indicators count them.
KIND_SOURCES = {
    "pub": "fhrs_pubs",
    "social_club": "fhrs_pubs",
    "sports_club": "fhrs_pubs",
    "nightclub": "fhrs_pubs",
    "hotel_bar": "fhrs_pubs",
    "restaurant": "fhrs_pubs",
    "other_venue": "fhrs_pubs",
    "library": "libraries",
    "news": "library_news",
    "grant": "threesixty_giving",
    "group": "mutual_aid",
}
SOURCE_NOUNS = {
    "fhrs_pubs": "pub",
    "libraries": "library",
    "library_news": "library news",
    "threesixty_giving": "grant",
    "mutual_aid": "mutual aid group",
}
KIND_VENUE_KINDS = {
    "pub": ("pub", "bar"),
    "social_club": ("members_club",),
    "sports_club": ("sports_club",),
    "nightclub": ("nightclub",),
    "hotel_bar": ("hotel",),
    "restaurant": ("restaurant",),
    "other_venue": ("other",),
}
