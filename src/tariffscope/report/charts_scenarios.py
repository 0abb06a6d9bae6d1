"""Matplotlib charts of scenario comparisons (return Figures; the caller saves or embeds them)."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = ["comparison_figure", "headline_bars"]


def _scale(unit: str) -> tuple[float, str]:
    if unit == "usd":
        return 1e9, "bn USD"
    if unit == "fraction":
        return 0.01, "%"
    if unit == "persons":
        return 1e3, "thousand persons"
    return 1.0, unit


def _known(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def headline_bars(ax: Any, comparison: dict[str, Any], metric: str, labels: list[str] | None = None,
                  title: Callable[[str], str] | None = None) -> None:
    """One horizontal bar per scenario for ``metric`` with its p05-p95 band as an error bar.

    ``labels`` name the bars (default: the package names); ``title`` turns the outcome's label into the
    panel's title (the brief names the partner instead of "the partner"); a package whose value is n/a gets no bar and
    the words "n/a", never a bar of zero length that reads as "no change".
    """
    pk = comparison["scenarios"]
    names = labels or [p["name"] for p in pk]
    rows = [next(m for m in p["headline"] if m["name"] == metric) for p in pk]
    div, unit = _scale(rows[0]["unit"])
    known = [_known(r["value"]) for r in rows]
    vals = [float(r["value"]) / div if k else 0.0 for r, k in zip(rows, known, strict=True)]
    lo = [max(0.0, v - (r["p05"] / div)) if k and _known(r.get("p05")) else 0.0 for v, r, k in zip(vals, rows, known, strict=True)]
    hi = [max(0.0, (r["p95"] / div) - v) if k and _known(r.get("p95")) else 0.0 for v, r, k in zip(vals, rows, known, strict=True)]
    y = list(range(len(names)))
    ky = [i for i in y if known[i]]
    ax.barh(ky, [vals[i] for i in ky], xerr=[[lo[i] for i in ky], [hi[i] for i in ky]],
            color=["#4c72b0" if vals[i] >= 0 else "#c44e52" for i in ky], capsize=3)
    for i in y:
        if not known[i]:
            ax.text(0, i, " n/a", va="center", ha="left", fontsize=8, color="#555")
    ax.set_yticks(y, names)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_title(title(rows[0]["label"]) if title else rows[0]["label"], fontsize=9)
    ax.set_xlabel(unit, fontsize=8)
    ax.invert_yaxis()
    ax.tick_params(labelsize=8)


def comparison_figure(comparison: dict[str, Any], metrics: list[str] | None = None, labels: list[str] | None = None,
                      title: Callable[[str], str] | None = None):
    """A grid of headline bar charts for a ``ComparisonResult.to_dict()``; metrics that are n/a for every
    package are left out (a panel of nothing but "n/a" says less than the table beside it)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    metrics = metrics or ["imports_from_partner", "balance_with_partner", "tariff_revenue", "importer_price_index",
                          "exporter_sector_jobs", "deadweight_loss"]
    metrics = [m for m in metrics if any(_known(next(x for x in p["headline"] if x["name"] == m)["value"])
                                         for p in comparison["scenarios"])]
    n = len(metrics)
    cols = 2
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.4 * rows), squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=False):
        headline_bars(ax, comparison, m, labels, title)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    against = comparison.get("against", "")
    draws = comparison.get("draws", 0)
    fig.suptitle(f"Change against {against}" + (f" (bars: 5th-95th percentile of {draws} draws)" if draws else ""),
                 fontsize=10)
    fig.tight_layout()
    return fig
