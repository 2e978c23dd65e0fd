"""What kind of venue an FHRS "Pub/bar/nightclub" registration is, from its name (and address), by ordered rules.

The register's one business type takes in working men's, social, golf, cricket, rugby and bowling clubs,
masonic halls, hotel bars and restaurants, so counting it all as pubs inflates pub counts up to twofold.
Rules are general word cues, tried in order; the first that matches decides, and its name is kept with the
kind so a reader can see why. Measured against a hand-labelled sample (tests/fixtures/venue_kinds/).
"""
from __future__ import annotations

import re

KINDS = ("pub", "bar", "nightclub", "members_club", "sports_club", "hotel", "restaurant", "other")
# What the pub indicators count: ONS "pubs and bars" (public houses and bars, SIC 56.30/1) draws no line between them.
PUBS_AND_BARS = ("pub", "bar")
NOUNS = {"pub": "pub", "bar": "bar", "nightclub": "nightclub", "members_club": "social club",
         "sports_club": "sports club", "hotel": "hotel bar", "restaurant": "restaurant", "other": "other venue"}


def _words(*cues: str) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(cues) + r")\b")


# (rule name, kind, pattern over the normalised name). Order matters: explicit pub words beat sports words
# ("Cricketers Arms"), members' club words beat sports words ("Snooker and Social Club").
NAME_RULES: tuple[tuple[str, str, re.Pattern], ...] = (
    ("hotel_brand", "hotel", _words("travelodge", "premier inn", "holiday inn", "hilton", "marriott", "radisson",
                                    "novotel", "ibis", "crowne plaza", "doubletree", "mercure", "hotel and spa",
                                    "spa hotel", "country house hotel")),
    ("nightclub_word", "nightclub", _words("nightclub", "night club", "niteclub", "discotheque", "disco")),
    ("pub_word", "pub", _words("public house", "ph", "pub", "inn", "arms", "tavern", "ale ?house", "wetherspoons?",
                               "spoons")),
    # A "Hotel" in this register is nearly always a pub with the old name (the Castle Hotel); real hotels
    # register as "Hotel/bed & breakfast/guest house".
    ("hotel_name_on_pub", "pub", _words("hotel")),
    ("members_club_word", "members_club", _words(
        "social club", "social and sports", "sports and social", "sport and social", "working ?mens?", "working",
        "w ?m ?c", "w m club", "labour club", "conservative", "cons club", "conny club", "unionist", "liberal club",
        "british legion", "r ?b ?l", "legion", "masonic", "freemasons?", "raob", "buffaloes", "ex ?servicemen",
        "services? club", "service social", "naval association", "royal naval", "rafa", "comrades",
        "supporters", "institute", "catholic club", "mens club", "memorial club", "recreation club",
        "members club", "ex ?servicemens")),
    ("sports_club_word", "sports_club", _words(
        "golf", "cricket", "rugby", "r ?u ?f ?c", "r ?f ?c", "a ?r ?l ?f ?c", "football club", "f ?c", "a ?f ?c",
        "bowling", "bowls", "tennis", "rowing", "boat club", "boathouse club", "sailing", "yacht", "canoe",
        "cycling", "squash", "hockey", "snooker", "billiards?", "pool", "divers", "sub ?aqua", "angling",
        "anglers", "sports ground", "sports club", "athletic", "harriers", "swimming", "lacrosse", "croquet")),
    ("restaurant_word", "restaurant", _words(
        "restaurant", r"resto\w*", "carvery", "trattoria", "pizzeria", "pizza", "tapas", "taperia", "bistro",
        "brasserie", "steakhouse", "curry", "tandoori", "beefeater", "harvester", "brewers fayre", "wagamama",
        "nandos", "zizzi", "turtle bay", "las iguanas", "frankie and bennys", "bella italia")),
    ("bar_word", "bar", _words("bar", "bars", "lounge", "cocktails?", "wines?", "whiske?y", "gin", "rum", "tequila",
                               "prosecco", "champagne", "tap", "taproom", "tap room", "brewery", "brew co",
                               "social")),
    ("other_word", "other", _words("community centre", "centre", "church", "parish", "chapel", "theatre",
                                   "cinema", "dance", "studio", "youth", "scouts?", "banqueting", "gym", "fitness",
                                   "army", "reserve centre", "squadron", "regiment", "barracks", "students union",
                                   "village hall", "town hall", "function suite")),
)
_SPORT_IN_ADDRESS = NAME_RULES[5][2]
_BAR_NAME = _words("bar", "bars", "lounge")
_HOTEL_ADDRESS = _words("hotel")
_CLUB = _words("club", "clubhouse")
_CLUB_FIRST = re.compile(r"^(?:the )?club\b")


def normalise_name(text: str | None) -> str:
    """Lower-case, '&' as 'and', apostrophes and dots dropped ("R.A.O.B." -> "raob"), other punctuation as spaces."""
    text = (text or "").lower().replace("&", " and ")
    text = re.sub(r"['’`.]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def classify_venue(name: str | None, address: str | None = None) -> tuple[str, str]:
    """Return (kind, rule) for a Pub/bar/nightclub registration."""
    n, a = normalise_name(name), normalise_name(address)
    # A bar inside a hotel ("Wave Cafe Bar", "Britannia Hotel, Portland Street") is the hotel's bar.
    if _BAR_NAME.search(n) and _HOTEL_ADDRESS.search(a) and not _HOTEL_ADDRESS.search(n):
        return "hotel", "bar_in_hotel_address"
    for rule, kind, pattern in NAME_RULES:
        if pattern.search(n):
            return kind, rule
    if _CLUB.search(n):
        if _CLUB_FIRST.search(n):
            return "nightclub", "club_first_word"        # "Club H", "Club 99": a club night's name
        if _SPORT_IN_ADDRESS.search(a):
            return "sports_club", "club_sport_in_address"  # "The Spencer Club", "Lawn Tennis Club, Fieldview"
        return "members_club", "club_word"
    # No cue: most of what this business type holds is pubs.
    return "pub", "default_pub"
