"""Matplotlib charts of scenario comparisons (return Figures; the caller saves or embeds them)."""
from __future__ import annotations

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


def headline_bars(ax: Any, comparison: dict[str, Any], metric: str) -> None:
    """One horizontal bar per scenario for ``metric`` with its p05-p95 band as an error bar."""
    pk = comparison["scenarios"]
    names = [p["name"] for p in pk]
    rows = [next(m for m in p["headline"] if m["name"] == metric) for p in pk]
    div, unit = _scale(rows[0]["unit"])
    vals = [(r["value"] or 0.0) / div for r in rows]
    lo = [max(0.0, v - (r["p05"] / div)) if r.get("p05") is not None else 0.0 for v, r in zip(vals, rows, strict=True)]
    hi = [max(0.0, (r["p95"] / div) - v) if r.get("p95") is not None else 0.0 for v, r in zip(vals, rows, strict=True)]
    y = range(len(names))
    ax.barh(list(y), vals, xerr=[lo, hi], color=["#4c72b0" if v >= 0 else "#c44e52" for v in vals], capsize=3)
    ax.set_yticks(list(y), names)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_title(rows[0]["label"], fontsize=9)
    ax.set_xlabel(unit, fontsize=8)
    ax.invert_yaxis()
    ax.tick_params(labelsize=8)


def comparison_figure(comparison: dict[str, Any], metrics: list[str] | None = None):
    """A grid of headline bar charts for a ``ComparisonResult.to_dict()``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    metrics = metrics or ["imports_from_partner", "balance_with_partner", "tariff_revenue", "importer_price_index",
                          "exporter_sector_jobs", "deadweight_loss"]
    n = len(metrics)
    cols = 2
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(10, 2.4 * rows), squeeze=False)
    for ax, m in zip(axes.flat, metrics, strict=False):
        headline_bars(ax, comparison, m)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    against = comparison.get("against", "")
    draws = comparison.get("draws", 0)
    fig.suptitle(f"Change against {against}" + (f" (bars: 5th-95th percentile of {draws} draws)" if draws else ""),
                 fontsize=10)
    fig.tight_layout()
    return fig
