"""The ward's timeline as a server-rendered SVG: events per year, stacked by kind. No JavaScript needed."""
from __future__ import annotations

from html import escape

COLOURS = {"closed": "#9a3412", "announced": "#c2410c", "reopened": "#166534", "reported": "#1e40af", "new": "#64748b", "changed": "#a16207"}


def timeline_svg(points: list[tuple[str, str, int]], width: int = 640, height: int = 220) -> str:
    """Return an accessible SVG (role=img, title, desc) of events per year; a sentence when there are none."""
    if not points:
        return "<p>No events recorded for this ward yet.</p>"
    years = sorted({y for y, _, _ in points})
    per_year = {y: {} for y in years}
    for year, kind, n in points:
        per_year[year][kind] = n
    top = max(sum(k.values()) for k in per_year.values())
    left, bottom, plot_h = 40, 30, height - 50
    bar_w = (width - left - 10) / len(years)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="tl-title tl-desc" style="max-width:100%;height:auto">',
             '<title id="tl-title">Events in this ward per year</title>',
             f'<desc id="tl-desc">{escape(describe(per_year))}</desc>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#333"/>',
             f'<text x="{left - 6}" y="{height - bottom - plot_h + 4}" text-anchor="end" font-size="12">{top}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="12">0</text>']
    for i, year in enumerate(years):
        x, y = left + i * bar_w + 2, height - bottom
        for kind, n in sorted(per_year[year].items()):
            h = plot_h * n / top
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 4, 1):.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS.get(kind, "#444")}"><title>{year}: {n} {escape(kind)}</title></rect>')
        if len(years) <= 16 or i % 2 == 0:
            parts.append(f'<text x="{x + bar_w / 2 - 2:.1f}" y="{height - 10}" text-anchor="middle" '
                         f'font-size="12">{year}</text>')
    parts.append("</svg>")
    return "".join(parts)


def describe(per_year: dict[str, dict[str, int]]) -> str:
    """Say in words what the bars show, for screen readers and for anyone without images."""
    return "; ".join(f"{year}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
                     for year, kinds in per_year.items())
