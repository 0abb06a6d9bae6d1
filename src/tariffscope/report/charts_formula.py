"""Chart of the reciprocal formula against the published rates, every partner (matplotlib, offline).

``formula_vs_published(result)`` takes a ``FormulaResult`` (or its ``to_dict()``) and returns a matplotlib
``Figure``; ``charts_trade.save`` writes it as PNG, SVG or HTML.
"""
from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

# one colour per explanation, so that the points off the diagonal say why at a glance
COLOURS = {
    "match": "#1f77b4", "floor": "#9ecae1", "eu_single_rate": "#2ca02c", "other_rules": "#d62728",
    "not_listed": "#ff7f0e", "rounding": "#9467bd", "near": "#8c564b", "data": "#e377c2",
}
LABEL_TOP = 18  # label the partners with the largest imports


def formula_vs_published(result: Any) -> Figure:
    """Scatter: formula rate (x) against the published rate (y), the diagonal where they agree."""
    d = result if isinstance(result, dict) else result.to_dict()
    rows = [r for r in d["rows"] if r["published_rate"] is not None]
    fig = Figure(figsize=(9, 7.2))
    fig.subplots_adjust(bottom=0.17, top=0.92, left=0.09, right=0.98)
    ax = fig.add_subplot(1, 1, 1)
    top = max([r["formula_rate"] for r in rows] + [r["published_rate"] for r in rows] + [0.5]) * 100 + 3
    ax.plot([0, top], [0, top], color="#bbbbbb", lw=1, zorder=0)
    for code, colour in COLOURS.items():
        pts = [r for r in rows if r["explanation"] == code]
        if pts:
            ax.scatter([r["formula_rate"] * 100 for r in pts], [r["published_rate"] * 100 for r in pts], s=22,
                       color=colour, alpha=0.8, label=f"{code.replace('_', ' ')} ({len(pts)})", edgecolors="none")
    for r in sorted(rows, key=lambda r: -r["imports"])[:LABEL_TOP]:
        ax.annotate(r["partner"], (r["formula_rate"] * 100, r["published_rate"] * 100), fontsize=6.5,
                    xytext=(3, 2), textcoords="offset points")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"formula rate, % (elasticity {d['elasticity']:g} x pass-through {d['pass_through']:g}, "
                  f"{d['basis']} imports, {d['vintage']})")
    ax.set_ylabel("published rate, % (EO 14257 Annex I; 10% baseline)")
    ax.set_title(f"Reciprocal tariff formula vs published rates, {d['year']} trade ({len(rows)} partners)", fontsize=10)
    ax.grid(color="#eeeeee")
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    src = "; ".join(f"{s['source']} ({s.get('vintage') or ''})" for s in d.get("sources", []))
    fig.text(0.01, 0.01, "\n".join([f"Sources: {src}"] + d.get("notes", [])[:2]), fontsize=6, color="#444444",
             va="bottom", ha="left", wrap=True)
    return fig
