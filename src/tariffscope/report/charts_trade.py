"""Charts of the trade area (matplotlib, offline): balance-by-sector waterfall and the monthly monitor.

Each chart function takes a result (``BalanceResult`` / ``MonitorResult``, or their ``to_dict()``) and
returns a matplotlib ``Figure`` (no pyplot state); ``save(fig, path)`` writes PNG or SVG by extension,
or an HTML page with the SVG inline. Sources and vintages go in the figure footer.
"""
from __future__ import annotations

import html
import io
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from tariffscope.errors import InputError

DEFICIT, SURPLUS, TOTAL = "#c0392b", "#2e86c1", "#555555"
EXPORTS, IMPORTS = "#2e86c1", "#c0392b"


def _d(result: Any) -> dict:
    return result if isinstance(result, dict) else result.to_dict()


def _scale(values: list[float]) -> tuple[float, str]:
    m = max((abs(v) for v in values if v is not None), default=0.0)
    for f, unit in ((1e12, "tn"), (1e9, "bn"), (1e6, "mn"), (1e3, "thousand")):
        if m >= f:
            return f, unit
    return 1.0, ""


def _footer(fig: Figure, d: dict, extra: list[str] | None = None) -> None:
    lines = [f"Source: {s['source']} ({s.get('title', '')}{', ' + s['vintage'] if s.get('vintage') else ''})"
             for s in d.get("sources", [])]
    lines += extra or []
    if lines:
        fig.text(0.01, 0.01, "\n".join(lines), fontsize=6.5, color="#444444", va="bottom", ha="left", wrap=True)


def balance_waterfall(result: Any, top: int = 10) -> Figure:
    """Waterfall from 0 to the total balance, one step per sector (largest first, the rest grouped)."""
    d = _d(result)
    rows = sorted(d["sectors"], key=lambda r: -abs(r["balance"]))
    shown, rest = rows[:top], rows[top:]
    steps = [(r["sector"], r["balance"]) for r in shown]
    if rest:
        steps.append((f"{len(rest)} other rows", sum(r["balance"] for r in rest)))
    cur = d["currency"]
    f, unit = _scale([d["balance"]] + [abs(s[1]) for s in steps])
    n_src = len(d.get("sources", []))
    fig = Figure(figsize=(9, 4.8 + 0.12 * n_src))
    ax = fig.add_axes((0.08, 0.30 + 0.02 * n_src, 0.9, 0.60 - 0.02 * n_src))
    level = 0.0
    for i, (_name, v) in enumerate(steps):
        ax.bar(i, v / f, bottom=level / f, color=DEFICIT if v < 0 else SURPLUS, width=0.7)
        if i:
            ax.plot([i - 1.35, i - 0.35], [level / f] * 2, color="#999999", lw=0.6)
        level += v
    n = len(steps)
    ax.plot([n - 1.35, n - 0.35], [level / f] * 2, color="#999999", lw=0.6)
    ax.bar(n, d["balance"] / f, color=TOTAL, width=0.7)
    ax.axhline(0, color="black", lw=0.8)
    ax.margins(y=0.08)
    labels = [s[0].replace("_", " ") for s in steps] + ["balance"]
    ax.set_xticks(range(n + 1), labels, rotation=35, ha="right", fontsize=7.5)
    ax.set_ylabel(f"{unit} {cur}".strip())
    who = f"{d['reporter']} with {d['partner']}"
    tag = f" ({d['perspective']})" if d.get("perspective") and d["perspective"] != "direct" else ""
    ax.set_title(f"Goods balance of {who}, {d['period']}, by {d.get('by') or 'total'}{tag}: "
                 f"{d['balance'] / f:,.1f} {unit} {cur}", fontsize=10)
    ax.grid(axis="y", color="#eeeeee")
    ax.set_axisbelow(True)
    _footer(fig, d, ["Levels: " + "; ".join(f"{k} = {v}" for k, v in d.get("levels", {}).items())])
    return fig


def monthly_chart(result: Any) -> Figure:
    """Monthly exports and imports (solid) against the same month a year earlier (dashed)."""
    d = _d(result)
    rows = d["series"]
    months = [r["month"] for r in rows]
    vals = [r[k] for r in rows for k in ("exports", "imports", "exports_year_ago", "imports_year_ago")
            if r.get(k) is not None]
    if not vals:
        raise InputError("nothing to chart: no monthly values")
    f, unit = _scale(vals)
    n_src = len(d.get("sources", []))
    fig = Figure(figsize=(9, 4.6 + 0.12 * n_src))
    ax = fig.add_axes((0.08, 0.22 + 0.025 * n_src, 0.9, 0.66 - 0.025 * n_src))
    x = list(range(len(months)))
    for key, color, name in (("exports", EXPORTS, "exports"), ("imports", IMPORTS, "imports")):
        y = [None if r.get(key) is None else r[key] / f for r in rows]
        ya = [None if r.get(f"{key}_year_ago") is None else r[f"{key}_year_ago"] / f for r in rows]
        if any(v is not None for v in y):
            ax.plot(x, [float("nan") if v is None else v for v in y], color=color, lw=1.8, marker="o", ms=3, label=name)
        if any(v is not None for v in ya):
            ax.plot(x, [float("nan") if v is None else v for v in ya], color=color, lw=1.2, ls="--",
                    label=f"{name}, a year earlier")
    step = max(1, len(months) // 12)
    ax.set_xticks(x[::step], months[::step], rotation=35, ha="right", fontsize=7.5)
    ax.set_ylabel(f"{unit} {d['currency']}".strip())
    tag = f" ({d['perspective']})" if d.get("perspective") and d["perspective"] != "direct" else ""
    ax.set_title(f"Monthly goods trade of {d['reporter']} with {d['partner']}{tag}", fontsize=10)
    ax.legend(fontsize=7.5, frameon=False)
    ax.grid(color="#eeeeee")
    _footer(fig, d)
    return fig


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG or SVG (by extension) or as HTML with the SVG inline."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".png", ".svg", ".html", ".htm"):
        raise InputError(f"chart path must end in .png, .svg or .html, not {p.name!r}")
    from tariffscope.report.outfiles import atomic_output, write_text_atomic

    if ext in (".png", ".svg"):
        with atomic_output(p) as tmp:  # never a truncated chart
            fig.savefig(tmp, format=ext[1:], dpi=150)
        return p
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]  # drop the XML prolog: inline SVG in HTML
    title = fig.axes[0].get_title() if fig.axes else "chart"
    write_text_atomic(p, f"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
                 f"<body style=\"margin:1em;font-family:sans-serif\">\n{svg}\n</body></html>\n")
    return p
