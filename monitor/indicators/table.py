"""The indicator table as people know it from the report: one row per indicator, one column per area group."""
from __future__ import annotations

from monitor.indicators.area_groups import AREA_GROUPS, GROUP_LABELS, Ward
from monitor.indicators.compute import BY_NAME, INDICATORS

NAME_WIDTH = max(len(i.name) for i in INDICATORS)
COL = 16


def format_value(indicator: str, value: float | None, coverage: dict | None = None) -> str:
    """Return a value for people: pounds without pence, small rates with two decimals, 'no data' for NULL."""
    if value is None:
        return "no data" if (coverage or {}).get("note", "").startswith("no data") else "n/a"
    if BY_NAME[indicator].unit == "gbp":
        return f"£{value:,.0f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 1 else f"{value:.2f}"


def share_of_england(lb: float | None, eng: float | None) -> str:
    """Return the left-behind value as a percentage of England's."""
    if lb is None or not eng:
        return "-"
    return f"{100 * lb / eng:.0f}%"


def _by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["indicator"], r["area_group"]): r for r in rows}


def coverage_lines(rows: list[dict]) -> list[str]:
    """Return one line per source saying what its figures cover."""
    by_key = _by_key(rows)
    lines, best = [], {}
    for ind in INDICATORS:   # per source, the indicator that counted the most records speaks for it
        r = by_key.get((ind.name, "england"))
        if r and (ind.source not in best or r["coverage"].get("records", 0) > best[ind.source]["coverage"]["records"]):
            best[ind.source] = r
    for source, r in best.items():
        c = r["coverage"]
        resolved = "-" if c.get("resolved_share") is None else f"{100 * c['resolved_share']:.0f}%"
        lines.append(f"  {source}: {c.get('wards', 0):,} wards, {100 * c.get('share_of_group_population', 0):.1f}%"
                     f" of England's people; {c.get('records', 0):,} records, {resolved} resolved to a ward"
                     f" ({c.get('note', '')})")
    return lines


def window_lines(rows: list[dict]) -> list[str]:
    """Return which dates the windowed indicators cover."""
    spans: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.get("window_from") and r["area_group"] == "england":
            spans.setdefault((r["window_from"], r["window_to"]), []).append(r["indicator"])
    return [f"{a} to {b}: {', '.join(names)}" for (a, b), names in sorted(spans.items())]


def format_table(rows: list[dict]) -> str:
    """Return the indicator table of one computation, with a coverage note per source."""
    if not rows:
        return "No indicators computed yet."
    by_key = _by_key(rows)
    head = f"{'per 100,000 people':<{NAME_WIDTH}}" + "".join(f"{GROUP_LABELS[g]:>{COL}}" for g in AREA_GROUPS)
    lines = [f"Indicators computed {rows[0]['computed_at']}", head + f"{'LB / England':>{COL}}"]
    for ind in INDICATORS:
        cells = [by_key.get((ind.name, g)) for g in AREA_GROUPS]
        if not any(cells):
            continue
        text = [format_value(ind.name, c and c["value"], c and c["coverage"]) for c in cells]
        lb, eng = by_key.get((ind.name, "left_behind")), by_key.get((ind.name, "england"))
        share = share_of_england(lb and lb["value"], eng and eng["value"])
        lines.append(f"{ind.name:<{NAME_WIDTH}}" + "".join(f"{t:>{COL}}" for t in text) + f"{share:>{COL}}")
    lines.extend(window_lines(rows))
    lines.append("Coverage:")
    lines.extend(coverage_lines(rows))
    return "\n".join(lines)


def format_ward(ward: Ward, ward_rows: list[dict], group_rows: list[dict]) -> str:
    """Return one ward's figures beside those of its area groups."""
    groups = [g for g in AREA_GROUPS if g in ward.groups]
    by_key = _by_key(group_rows)
    member = ", ".join(GROUP_LABELS[g].lower() for g in groups)
    lines = [f"Ward {ward.code} {ward.name} ({ward.lad_code}), {ward.population:,} people; in: {member}",
             f"{'indicator':<{NAME_WIDTH}}{'This ward':>{COL}}" + "".join(f"{GROUP_LABELS[g]:>{COL}}" for g in groups)]
    for r in ward_rows:
        mine = format_value(r["indicator"], r["value"]) if r["coverage"]["covered"] else "not covered"
        others = [by_key.get((r["indicator"], g)) for g in groups]
        text = [format_value(r["indicator"], o and o["value"], o and o["coverage"]) for o in others]
        lines.append(f"{r['indicator']:<{NAME_WIDTH}}{mine:>{COL}}" + "".join(f"{t:>{COL}}" for t in text))
    return "\n".join(lines)
