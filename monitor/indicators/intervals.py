"""95% intervals for the rates, and when a figure is too uncertain to compare.

Counts (groups, pubs, libraries, grants): exact Poisson (Garwood) interval on the count, divided by the population
like the rate: lower = G⁻¹(α/2; k), upper = G⁻¹(1 − α/2; k + 1), G the regularised gamma function (the chi-square
form halved). Money (grant £): the total of a compound Poisson process (grants arrive at random; each has its
amount) has variance Σ amount², so total ± 1.96·√Σamount², the lower end cut at 0: a normal approximation, stated
as such, reasonable once there are a few dozen grants and flagged unreliable below that anyway.
"""
from __future__ import annotations

import math

from scipy.special import gammaincinv

Z95 = 1.959963984540054
ALPHA = 0.05


def poisson_interval(k: float) -> tuple[float, float]:
    """Return the exact (Garwood) 95% interval of a Poisson mean, given an observed count k."""
    k = int(round(k))
    low = 0.0 if k <= 0 else float(gammaincinv(k, ALPHA / 2))
    high = float(gammaincinv(k + 1, 1 - ALPHA / 2))
    return low, high


def money_interval(total: float, sum_of_squares: float) -> tuple[float, float]:
    """Return a 95% interval of a total of amounts (compound Poisson, normal approximation)."""
    half = Z95 * math.sqrt(max(sum_of_squares, 0.0))
    return max(total - half, 0.0), total + half


def overlaps(a: tuple[float | None, float | None], b: tuple[float | None, float | None]) -> bool:
    """Say whether two intervals overlap (an interval with a missing end overlaps everything)."""
    if None in a or None in b:
        return True
    return a[0] <= b[1] and b[0] <= a[1]
