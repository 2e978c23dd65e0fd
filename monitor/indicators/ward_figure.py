"""One ward's own figure, by the area groups' rules: its 95% interval, and "too few to say" when it cannot be told."""
from __future__ import annotations

from monitor.indicators.compute import counted_noun, rate
from monitor.indicators.definitions import Indicator
from monitor.indicators.intervals import money_interval, overlaps, poisson_interval


def ward_figure(ind: Indicator, numerator: float | None, records: int, squares: float, population: int | None,
                england: tuple[float | None, float | None] = (None, None), min_count: int = 20) -> dict:
    """Return value, ci_low, ci_high, reliable and note of one ward's figure; numerator None means not counted.

    As for the area groups (compute.indicator_rows): fewer than min_count records, or an interval that overlaps
    England's, is "too few to say". A ward with no records has no rate and no interval: £0 (£0 to £0) would claim
    a measurement where there is only absence."""
    empty = {"value": None, "ci_low": None, "ci_high": None, "reliable": False}
    if numerator is None or not population:
        return {**empty, "note": ""}
    if not records or (ind.unit == "gbp" and not squares):   # no grant here, or none with an amount in pounds
        return {**empty, "note": f"no {ind.noun} recorded in this ward"}
    low, high = money_interval(numerator, squares) if ind.unit == "gbp" else poisson_interval(numerator)
    low, high = rate(low, population), rate(high, population)
    note = ""
    if records < min_count:
        note = f"too few to say: {counted_noun(records, ind.noun)} (fewer than {min_count})"
    elif None not in england and overlaps((low, high), england):
        note = "too few to say: its interval overlaps England's"
    return {"value": rate(numerator, population), "ci_low": low, "ci_high": high, "reliable": not note, "note": note}
