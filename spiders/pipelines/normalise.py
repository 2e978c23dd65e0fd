"""Normalise: trim text, parse numbers, dates and coordinates; record what cannot be parsed as a problem."""
from __future__ import annotations

import re
from datetime import date, datetime

from geo.postcodes import normalise_postcode
from spiders.items import Record, items_of

_AMOUNT = re.compile(r"^[£$€]?\s*-?[\d,]*\.?\d+\s*$")


def clean_text(value):
    """Trim a string and fold inner runs of white space; empty becomes None."""
    if not isinstance(value, str):
        return value
    value = " ".join(value.split())   # str.split() splits on exactly what re's \s matches; 4x faster
    return value or None


def parse_number(value) -> float | None:
    """Parse '£1,000.50', '12', 3.5 to a float; None for empty; ValueError when it is not a number."""
    if value is None or isinstance(value, (int, float)) and not isinstance(value, bool):
        return None if value is None else float(value)
    text = str(value).strip()
    if text in ("", r"\N", "NA", "N/A", "null"):
        return None
    if not _AMOUNT.match(text):
        raise ValueError(f"not a number: {text[:40]!r}")
    return float(re.sub(r"[£$€,\s]", "", text))


def parse_date(value) -> str | None:
    """Return YYYY-MM-DD from a date, an ISO date-time (with offset or Z), or DD/MM/YYYY; ValueError otherwise."""
    if value is None:
        return None
    text = value.strip() if type(value) is str else str(value).strip()
    if not text:
        return None
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":   # YYYY-MM-DD, maybe a time after it: most dates
        try:
            date.fromisoformat(text[:10])   # the date part alone, as below when the whole does not parse
            return text[:10]
        except ValueError:
            pass
    if len(text) == 4 and text.isdigit():
        return text
    for candidate in (text.replace("Z", "+00:00"), text[:10]):
        try:
            return datetime.fromisoformat(candidate).date().isoformat()
        except ValueError:
            pass
    try:
        return datetime.strptime(text, "%d/%m/%Y").date().isoformat()
    except ValueError:
        raise ValueError(f"not a date: {text[:40]!r}") from None


def normalise_item(item: Record, stats=None) -> Record:
    """Clean every text field, parse number and date fields in place, collecting problems."""
    values = vars(item)
    for name, value in values.items():
        if type(value) is str:   # clean_text, inlined: it runs for every text field of every record
            values[name] = " ".join(value.split()) or None
    for name in item.NUMBER_FIELDS:
        try:
            setattr(item, name, parse_number(getattr(item, name)))
        except ValueError as e:
            if name in ("latitude", "longitude"):   # a bad coordinate is a missing one, not a bad record
                setattr(item, name, None)
                _inc(stats, "normalise/coordinate/invalid")
            else:
                item.problems.append(f"{name} {e}")
    if item.latitude == 0 and item.longitude == 0:
        item.latitude = item.longitude = None
        _inc(stats, "normalise/coordinate/null_island")
    for name in item.DATE_FIELDS:
        try:
            setattr(item, name, parse_date(getattr(item, name)))
        except ValueError as e:
            item.problems.append(f"{name} {e}")
    if item.postcode:
        good = normalise_postcode(item.postcode)
        if good:
            item.postcode = good
        else:
            _inc(stats, "normalise/postcode/invalid")   # kept as given: the resolver says it is invalid
    return item


def _inc(stats, key):
    if stats is not None:
        stats.inc_value(key)


class NormalisePipeline:
    """Scrapy pipeline 100: normalise each item."""

    def __init__(self, stats):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item, spider=None):
        for record in items_of(item):
            normalise_item(record, self.stats)
        return item
