"""The indicators, each defined once in its source's folder (its label, unit, whether more is worse, its SQL).

compute.py tallies them for the area groups, the digest and the CLI table label and format them, and the ward
pages (monitor/web, Datasette's ward_profile query) count a single ward's numerator from the same SQL.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from spiders import registry
from spiders.indicators import Indicator, in_days, within  # noqa: F401  (re-exported)


class _Registered(Sequence):
    """Every source's indicators (each declares its own in its folder), read from the registry when used."""

    def __getitem__(self, i):
        return registry.indicators()[i]

    def __len__(self) -> int:
        return len(registry.indicators())


class _ByName(Mapping):
    """The indicators by name, read from the registry when used."""

    def __getitem__(self, name: str) -> Indicator:
        return {i.name: i for i in registry.indicators()}[name]

    def __iter__(self):
        return iter([i.name for i in registry.indicators()])

    def __len__(self) -> int:
        return len(registry.indicators())


INDICATORS: Sequence[Indicator] = _Registered()
BY_NAME: Mapping[str, Indicator] = _ByName()


def _ward_where(ind: Indicator, table: str, ward: str, window_from: str, window_to: str) -> str:
    """Return the FROM and WHERE of the records that count towards the indicator in one ward."""
    after = f"date({window_to}, '+1 day')"
    condition = (ind.where(table).replace(":crawl_id", f"(select max(crawl_id) from scope_runs where source = "
                                                    f"'{ind.source}' and healthy = 1)")
                 .replace(":window_from", window_from).replace(":since", window_from)
                 .replace(":window_end", after).replace(":window_to", window_to))
    return f"from [{table}] r where r.source = '{ind.source}' and r.ward_code = {ward} and {condition}"


def ward_numerator_sql(ind: Indicator, table: str, ward: str, window_from: str, window_to: str) -> str:
    """Return a scalar SQL subquery: the indicator's numerator in one ward, from the definition above.

    ward, window_from and window_to are SQL expressions (parameters or columns): the ward's code and the window
    stored with the indicator's row (for a "since" indicator its window_from is the since date). The latest
    healthy crawl stands for :crawl_id, as in compute.py.
    """
    total = "count(*)" if ind.measure == "1" else f"total({ind.measure})"
    return f"(select {total} {_ward_where(ind, table, ward, window_from, window_to)})"


def ward_tally_sql(ind: Indicator, table: str, ward: str, window_from: str, window_to: str) -> str:
    """Return SQL giving one ward's numerator, record count and Σ measure² (for a money interval), as tally.py."""
    # Records that carry a measure (a grant in pounds): one in another currency adds nothing to the total.
    total = "count(*)" if ind.measure == "1" else f"total({ind.measure})"
    return (f"select {total}, count({ind.measure}), total(({ind.measure}) * ({ind.measure})) "
            f"{_ward_where(ind, table, ward, window_from, window_to)}")


def ward_numerators_case(tables: dict[str, str]) -> str:
    """Return the CASE over figures f (indicator, wf, wt) that gives the ward's numerator: ward_profile.sql's."""
    whens = "\n".join(f"        when '{ind.name}' then {ward_numerator_sql(ind, tables[ind.source], ':ward', 'f.wf', 'f.wt')}"
                       for ind in INDICATORS)
    return f"case f.indicator\n{whens}\n        end"
