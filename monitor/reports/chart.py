"""The digest's chart: each area group's rate as a share of England's, and the left-behind share over time (PNG)."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: render straight to PNG bytes
import matplotlib.pyplot as plt  # noqa: E402

LB_COLOUR, OD_COLOUR, REF_COLOUR = "#9a3412", "#64748b", "#13223a"


def gap_chart(shares: dict[str, dict], history: dict[str, list[tuple[str, float]]]) -> bytes:
    """Return a PNG: bars of left-behind and other-deprived rates as % of England; a trend panel when history exists."""
    fig = draw_gap_chart(shares, history)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def bar_label(share: dict) -> str:
    """Return the left-behind bar's label: its % of England, or 'too few to say' when the rate is not reliable."""
    return f"{share['left_behind']:.0f}%" if share.get("reliable", True) else "too few to say"


def draw_gap_chart(shares: dict[str, dict], history: dict[str, list[tuple[str, float]]]):
    """Return the chart's matplotlib figure (the caller closes it)."""
    names = [n for n, s in shares.items() if s.get("left_behind") is not None]
    trend = {n: pts for n, pts in history.items() if len(pts) > 1}
    panels = 2 if trend else 1
    height = 1.2 + 0.55 * max(len(names), 1) + (2.6 if trend else 0)
    fig, axes = plt.subplots(panels, 1, figsize=(7.2, height), dpi=110,
                             gridspec_kw={"height_ratios": [max(len(names), 1), 4][:panels]})
    axes = list(axes) if panels == 2 else [axes]
    _bars(axes[0], names, shares)
    if trend:
        _trend(axes[1], trend)
    fig.tight_layout()
    return fig


def _bars(ax, names: list[str], shares: dict) -> None:
    if not names:
        ax.text(0.5, 0.5, "No indicators computed yet", ha="center", va="center")
        ax.axis("off")
        return
    ys = range(len(names))
    lb = [shares[n]["left_behind"] or 0 for n in names]
    od = [shares[n].get("other_deprived") or 0 for n in names]
    bars = ax.barh([y - 0.2 for y in ys], lb, height=0.38, color=LB_COLOUR, label="Left-behind wards")
    ax.barh([y + 0.2 for y in ys], od, height=0.38, color=OD_COLOUR, label="Other deprived wards")
    for y, value, bar, name in zip(ys, lb, bars, names):
        if not shares[name].get("reliable", True):   # a ratio from too few records: hatched and pale, not read off
            bar.set_alpha(0.35)
            bar.set_hatch("///")
        ax.text(value + 2, y - 0.2, bar_label(shares[name]), va="center", fontsize=8, color=LB_COLOUR)
    ax.axvline(100, color=REF_COLOUR, linewidth=1.2, linestyle="--")
    ax.text(100, -0.9, " England = 100%", fontsize=8, color=REF_COLOUR, va="center")
    ax.set_yticks(list(ys), names, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max([110, *lb, *od]) * 1.12)
    ax.set_xlabel("Rate per 100,000 people, as % of England's rate", fontsize=8)
    ax.set_title("Where the left-behind wards stand", fontsize=11, loc="left")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.spines[["top", "right"]].set_visible(False)


def _trend(ax, trend: dict[str, list[tuple[str, float]]]) -> None:
    for name, points in trend.items():
        ax.plot([p[0][:10] for p in points], [p[1] for p in points], marker="o", markersize=3, label=name)
    ax.axhline(100, color=REF_COLOUR, linewidth=1, linestyle="--")
    ax.set_ylabel("Left behind, % of England", fontsize=8)
    ax.set_title("The gap over time", fontsize=11, loc="left")
    ax.tick_params(axis="x", labelsize=7, rotation=30)
    ax.tick_params(axis="y", labelsize=8)
    top = max(p[1] for pts in trend.values() for p in pts)
    ax.set_ylim(0, max(110, top * 1.1))
    ax.legend(fontsize=7, frameon=False, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.32))
    ax.spines[["top", "right"]].set_visible(False)
