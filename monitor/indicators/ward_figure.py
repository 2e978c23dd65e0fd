"""One ward's own figure, by the area groups' rules: its 95% interval, and "too few to say" when it cannot be told."""
from __future__ import annotations

from monitor.indicators.compute import INDICATORS, Measurement, counted_noun, rate
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


def ward_rows(m: Measurement, ward_code: str, min_count: int = 20,
              england: dict[str, tuple[float | None, float | None]] | None = None) -> list[dict]:
    """Return one row per indicator for a single ward (value None where its source did not cover it).

    england: each indicator's England interval, for the same "too few to say" rule as the area groups."""
    ward = m.wards[ward_code]
    out = []
    for ind in INDICATORS:
        cov, tally = m.coverage[ind.source], m.tallies[ind.name]
        # A window nobody has anything in is no data, as for the groups, not a ward's £0.
        empty = bool(ind.window) and cov.has_data and sum(tally.records.values()) == 0
        counted = cov.covers(ward_code) and not empty
        numerator = tally.numerator.get(ward_code, 0) if counted else None
        figure = ward_figure(ind, numerator, tally.records.get(ward_code, 0), tally.squares.get(ward_code) or 0.0,
                             ward.population, (england or {}).get(ind.name, (None, None)), min_count)
        if empty:
            figure["note"] = f"no {ind.noun} recorded in the window"
        elif not counted:
            figure["note"] = ""
        out.append({"indicator": ind.name, "area_group": f"ward:{ward_code}", "numerator": numerator,
                    "population": ward.population if counted else None, **figure,
                    "coverage": {"covered": cov.covers(ward_code), "note": cov.note()}, "computed_at": m.computed_at})
    return out
