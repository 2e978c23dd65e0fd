"""The 360Giving source's indicators: grants in pounds and in number over a window, and COVID grants."""
from __future__ import annotations

from spiders.indicators import Indicator, in_days

GBP = "upper(coalesce(r.currency, '')) = 'GBP'"
WINDOW = in_days("r.award_date", ":window_from", ":window_end")
GBP_AMOUNT = f"CASE WHEN {GBP} THEN r.amount END"

INDICATORS: tuple[Indicator, ...] = (
    Indicator("grants_gbp_per_100k", "Grants, £", "threesixty_giving", WINDOW, measure=GBP_AMOUNT,
              excluded=f"NOT {GBP}", window="window", unit="gbp", dated_by="award_date", noun="grants"),
    Indicator("grants_count_per_100k", "Grants, number", "threesixty_giving", WINDOW, window="window",
              dated_by="award_date", noun="grants"),
    Indicator("covid_grants_gbp_per_100k", "COVID grants, £", "threesixty_giving", "r.covid = 1",
              measure=GBP_AMOUNT, excluded=f"NOT {GBP}", unit="gbp", noun="grants"),
)
