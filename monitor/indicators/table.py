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


def share_of_england(lb: float | None, eng: float | None, reliable: bool = True) -> str:
    """Return the left-behind value as a percentage of England's, or 'too few to say' when it cannot be told."""
    if lb is None or not eng:
        return "-"
    return f"{100 * lb / eng:.0f}%" if reliable else "too few to say"


def cell(row: dict | None) -> str:
    """Return a table cell: the value, 'none in window' for an empty window, a * when too few to say."""
    if row is None:
        return "n/a"
    if row["value"] is None and (row.get("note") or "").startswith("no "):
        return "none in window" if "window" in row["note"] else "none recorded"
    text = format_value(row["indicator"], row["value"], row["coverage"])
    return text + ("*" if row["value"] is not None and row.get("reliable") in (0, False) else "")


def interval_text(row: dict) -> str:
    """Return '0.08 (0.00 to 0.31)': a value with its 95% interval."""
    if row.get("value") is None or row.get("ci_low") is None:
        return format_value(row["indicator"], row.get("value"), row.get("coverage"))
    f = lambda v: format_value(row["indicator"], v)   # noqa: E731
    return f"{f(row['value'])} ({f(row['ci_low'])} to {f(row['ci_high'])})"


def _by_key(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["indicator"], r["area_group"]): r for r in rows}


def coverage_lines(rows: list[dict]) -> list[str]:
    """Return one line per source: what its figures cover, and each indicator's share of records placed in a ward."""
    by_key = _by_key(rows)
    lines, seen = [], {}
    for ind in INDICATORS:
        r = by_key.get((ind.name, "england"))
        if r:
            seen.setdefault(ind.source, []).append((ind.name, r))
    for source, named in seen.items():
        c = named[0][1]["coverage"]
        placed = "; ".join(
            f"{name}: {r['coverage'].get('records', 0):,} records, "
            + ("-" if r["coverage"].get("resolved_share") is None else f"{100 * r['coverage']['resolved_share']:.0f}%")
            + " placed" for name, r in named)
        lines.append(f"  {source}: {c.get('wards', 0):,} wards, {100 * c.get('share_of_group_population', 0):.1f}%"
                     f" of England's people ({c.get('note', '')}); {placed}")
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
        text = [cell(c) for c in cells]
        lb, eng = by_key.get((ind.name, "left_behind")), by_key.get((ind.name, "england"))
        share = share_of_england(lb and lb["value"], eng and eng["value"], bool(lb and lb.get("reliable", 1)))
        lines.append(f"{ind.name:<{NAME_WIDTH}}" + "".join(f"{t:>{COL}}" for t in text) + f"{share:>{COL}}")
    lines.append("* too few to say: under the minimum count, or the left-behind interval overlaps England's.")
    lines.append("95% intervals, left behind and England:")
    for ind in INDICATORS:
        lb, eng = by_key.get((ind.name, "left_behind")), by_key.get((ind.name, "england"))
        if lb and eng:
            why = f" [{lb['note']}]" if lb.get("note") else ""
            lines.append(f"  {ind.name}: {interval_text(lb)} vs {interval_text(eng)}{why}")
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
        mine = cell(r) if r["coverage"]["covered"] else "not covered"
        text = [cell(by_key.get((r["indicator"], g))) for g in groups]
        lines.append(f"{r['indicator']:<{NAME_WIDTH}}{mine:>{COL}}" + "".join(f"{t:>{COL}}" for t in text))
    lines.append("* too few to say: under the minimum count, or the left-behind interval overlaps England's.")
    lines.append("This ward, 95% intervals:")
    lines.extend(f"  {r['indicator']}: {interval_text(r)}" for r in ward_rows if r.get("ci_low") is not None)
    return "\n".join(lines)
