"""Tiny, dependency-free SVG charts for the brief and the web app (offline, inline, a few KB each).

Three shapes cover every figure shown: horizontal bars (sector balances), lines with optional
stacked areas and dated markers (monitor, tariff timeline), and bars with uncertainty whiskers
(scenario comparison). Output is an ``<svg>`` string with a <title> for accessibility; the string is a
``ChartSvg``, which also carries the series exactly as drawn (``series``, ``markers``), so a chart's data
download gives the numbers on the screen rather than whatever the chart was computed from.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

PALETTE = ["#1f5fa8", "#d9822b", "#2e8b57", "#b03a48", "#6a4c93", "#8c8c2e", "#2b9bb3", "#7f7f7f", "#c46bae", "#4d4d4d"]
POS, NEG = "#1f5fa8", "#b03a48"
FONT = "font-family='system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif'"

Fmt = Callable[[float], str]


class ChartSvg(str):
    """An SVG chart (a ``str``, embedded as it is) with the series it draws, point by point.

    ``series``: one dict per drawn series, ``{"name", "kind": "bar"|"line"|"area", "x", "x_label", "y",
    "y_label"}`` plus ``"low"``/``"high"`` when whiskers are drawn (None where a bar has none); only drawn points
    are listed (a line skips its None values; an n/a bar is listed with y None, as it reads "n/a"); an area's y
    is its drawn thickness, stacked on the areas before it. ``markers``: the dated vertical lines ``{"x", "label"}``.
    """

    series: list[dict[str, Any]]
    markers: list[dict[str, Any]]

    def __new__(cls, text: str, series: Sequence[dict[str, Any]] = (), markers: Sequence[dict[str, Any]] = ()) -> ChartSvg:
        obj = super().__new__(cls, text)
        obj.series, obj.markers = list(series), list(markers)
        return obj


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.floor(lo / step) * step
    ticks, t = [], start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def _svg(width: int, height: int, title: str, body: list[str], series: Sequence[dict[str, Any]] = (),
         markers: Sequence[dict[str, Any]] = ()) -> ChartSvg:
    # min-width: a chart is never drawn below 4/5 of its size; --chart-w lets the web app's phone layout keep it at
    # full size (its smallest text, 11 px, then stays 11 px on a 390 px phone), its figure scrolling sideways
    # instead (web/static/style.css)
    return ChartSvg(
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"style='max-width:{width}px;min-width:{int(width * 0.82)}px;--chart-w:{width}px' role='img' aria-label='{escape(title)}' {FONT} font-size='12'>"
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>", series, markers)


def hbar(labels: Sequence[str], values: Sequence[float | None], *, title: str, fmt: Fmt, width: int = 680,
         lo: Sequence[float | None] | None = None, hi: Sequence[float | None] | None = None,
         colors: Sequence[str] | None = None) -> ChartSvg:
    """Horizontal bars, one per label, blue when positive and red when negative; optional whiskers.

    A value of None (n/a) gets no bar and the words "n/a": a zero-length bar would read as "no change".
    """
    n = len(values)
    known = [v is not None and math.isfinite(v) for v in values]
    row, top, left, right = 26, 34, min(240, 14 + 7 * max((len(str(s)) for s in labels), default=4)), 90
    height = top + row * n + 30
    vals = [float(v) if v is not None and k else 0.0 for v, k in zip(values, known, strict=True)]
    ext = [v for v, k in zip(vals, known, strict=True) if k] + [float(v) for v in (lo or []) if v is not None] + [float(v) for v in (hi or []) if v is not None]
    vmin, vmax = min(ext + [0.0]), max(ext + [0.0])
    ticks = _nice_ticks(vmin, vmax, 4) if vmax > vmin else [0.0]  # all zero: just the zero line
    vmin, vmax = min(vmin, ticks[0]), max(vmax, ticks[-1])
    span = (vmax - vmin) or 1.0
    plot_w = width - left - right
    def x(v: float) -> float:
        return left + (v - vmin) / span * plot_w

    body = [f"<text x='{left}' y='18' font-weight='600' font-size='13'>{escape(title)}</text>"]
    for t in ticks:
        body.append(f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top - 6}' y2='{top + row * n}' stroke='#e3e3e3'/>")
        body.append(f"<text x='{x(t):.1f}' y='{top + row * n + 16}' text-anchor='middle' fill='#555' font-size='11'>{escape(fmt(t))}</text>")
    for i, (lab, v) in enumerate(zip(labels, vals, strict=False)):
        y = top + i * row
        if not known[i]:
            body.append(f"<text x='{left - 8}' y='{y + row / 2 + 4:.1f}' text-anchor='end'>{escape(str(lab))}</text>")
            body.append(f"<text x='{x(0.0) + 6:.1f}' y='{y + row / 2 + 4:.1f}' fill='#555' font-size='11' font-style='italic'>n/a</text>")
            continue
        color = colors[i] if colors else (POS if v >= 0 else NEG)
        x0, x1 = sorted((x(0.0), x(v)))
        body.append(f"<text x='{left - 8}' y='{y + row / 2 + 4:.1f}' text-anchor='end'>{escape(str(lab))}</text>")
        body.append(f"<rect x='{x0:.1f}' y='{y + 4}' width='{max(x1 - x0, 1):.1f}' height='{row - 8}' fill='{color}' rx='2'><title>{escape(str(lab))}: {escape(fmt(v))}</title></rect>")
        lo_i = lo[i] if lo is not None else None
        hi_i = hi[i] if hi is not None else None
        if lo_i is not None and hi_i is not None:
            yl = y + row / 2
            body.append(f"<line x1='{x(float(lo_i)):.1f}' x2='{x(float(hi_i)):.1f}' y1='{yl:.1f}' y2='{yl:.1f}' stroke='#222' stroke-width='1.5'/>")
            for b in (lo_i, hi_i):
                body.append(f"<line x1='{x(float(b)):.1f}' x2='{x(float(b)):.1f}' y1='{yl - 5:.1f}' y2='{yl + 5:.1f}' stroke='#222' stroke-width='1.5'/>")
        tx = max(x(v), x(0.0), x(float(hi_i)) if hi_i is not None else -1e9) + 6
        body.append(f"<text x='{tx:.1f}' y='{y + row / 2 + 4:.1f}' fill='#333' font-size='11'>{escape(fmt(v))}</text>")
    body.append(f"<line x1='{x(0.0):.1f}' x2='{x(0.0):.1f}' y1='{top - 6}' y2='{top + row * n}' stroke='#333'/>")
    drawn = min(n, len(labels))  # the loop above draws one bar per (label, value) pair
    ys = [vals[i] if known[i] else None for i in range(drawn)]
    series: dict[str, Any] = {"name": title, "kind": "bar", "x": [str(lab) for lab in labels[:drawn]],
                              "x_label": [str(lab) for lab in labels[:drawn]], "y": ys,
                              "y_label": ["n/a" if v is None else fmt(v) for v in ys]}
    if lo is not None and hi is not None:  # the whiskers, where one is drawn (both ends known, the bar drawn)
        whisker = [known[i] and lo[i] is not None and hi[i] is not None for i in range(drawn)]
        series["low"] = [float(lo[i]) if whisker[i] else None for i in range(drawn)]  # type: ignore[arg-type]  # not None where whisker
        series["high"] = [float(hi[i]) if whisker[i] else None for i in range(drawn)]  # type: ignore[arg-type]  # not None where whisker
    return _svg(width, height, title, body, [series])


def lines(series: Sequence[dict], *, title: str, y_fmt: Fmt, x_label: Callable[[float], str],
          x_ticks: Sequence[float] | None = None, markers: Sequence[tuple[float, str]] = (),
          stacked: Sequence[dict] = (), width: int = 760, height: int = 320, y_zero: bool = True) -> ChartSvg:
    """Line series ``{name, x, y, color?, dash?}`` over numeric x, with optional stacked areas
    (same dict shape, all on the same x) drawn underneath and vertical dated markers ``(x, label)``."""
    left, right, top, bottom = 64, 16, 34, 70
    xs = [float(v) for s in list(series) + list(stacked) for v in s["x"]]
    if not xs:
        return _svg(width, 60, title, [f"<text x='10' y='30'>{escape(title)}: no data</text>"])
    xmin, xmax = min(xs), max(xs)
    if xmax == xmin:
        xmax = xmin + 1
    ys: list[float] = [0.0] if y_zero else []
    cum: list[float] = []
    if stacked:
        cum = [0.0] * len(stacked[0]["x"])
        for s in stacked:
            cum = [c + max(float(v), 0.0) for c, v in zip(cum, s["y"], strict=False)]
        ys += cum
    ys += [float(v) for s in series for v in s["y"] if v is not None]
    ticks = _nice_ticks(min(ys), max(ys), 5)
    ymin, ymax = min(min(ys), ticks[0]), max(max(ys), ticks[-1])
    pw, ph = width - left - right, height - top - bottom
    def x_pos(v: float) -> float:
        return left + (float(v) - xmin) / (xmax - xmin) * pw

    def y_pos(v: float) -> float:
        return top + ph - (float(v) - ymin) / ((ymax - ymin) or 1) * ph

    body = [f"<text x='{left}' y='18' font-weight='600' font-size='13'>{escape(title)}</text>"]
    for t in ticks:
        body.append(f"<line x1='{left}' x2='{left + pw}' y1='{y_pos(t):.1f}' y2='{y_pos(t):.1f}' stroke='#e6e6e6'/>")
        body.append(f"<text x='{left - 6}' y='{y_pos(t) + 4:.1f}' text-anchor='end' fill='#555' font-size='11'>{escape(y_fmt(t))}</text>")
    for t in (x_ticks if x_ticks is not None else _nice_ticks(xmin, xmax, 6)):
        if xmin <= t <= xmax:
            body.append(f"<text x='{x_pos(t):.1f}' y='{top + ph + 16}' text-anchor='middle' fill='#555' font-size='11'>{escape(x_label(t))}</text>")
    drawn: list[dict[str, Any]] = []
    base = [0.0] * (len(stacked[0]["x"]) if stacked else 0)
    for k, s in enumerate(stacked):
        upper = [b + max(float(v), 0.0) for b, v in zip(base, s["y"], strict=False)]
        outline = [f"{x_pos(a):.1f},{y_pos(u):.1f}" for a, u in zip(s["x"], upper, strict=False)] + [f"{x_pos(a):.1f},{y_pos(b):.1f}" for a, b in reversed(list(zip(s["x"], base, strict=False)))]
        color = s.get("color") or PALETTE[(k + 3) % len(PALETTE)]
        body.append(f"<polygon points='{' '.join(outline)}' fill='{color}' fill-opacity='0.55' stroke='none'><title>{escape(s['name'])}</title></polygon>")
        n_pts = min(len(s["x"]), len(upper))  # the outline's points: the zip above stops at the shorter list
        thick = [max(float(v), 0.0) for v in s["y"][:n_pts]]  # negative parts are not drawn (the stack only rises)
        drawn.append({"name": s["name"], "kind": "area", "x": [float(a) for a in s["x"][:n_pts]],
                      "x_label": [x_label(float(a)) for a in s["x"][:n_pts]], "y": thick, "y_label": [y_fmt(v) for v in thick]})
        base = upper
    for k, s in enumerate(series):
        color = s.get("color") or PALETTE[k % len(PALETTE)]
        pts = [(x_pos(a), y_pos(b)) for a, b in zip(s["x"], s["y"], strict=False) if b is not None]
        given = [(float(a), float(b)) for a, b in zip(s["x"], s["y"], strict=False) if b is not None]
        drawn.append({"name": s["name"], "kind": "line", "x": [a for a, _ in given], "x_label": [x_label(a) for a, _ in given],
                      "y": [b for _, b in given], "y_label": [y_fmt(b) for _, b in given]})
        dash = " stroke-dasharray='6 4'" if s.get("dash") else ""
        body.append(f"<polyline points='{' '.join(f'{a:.1f},{b:.1f}' for a, b in pts)}' fill='none' stroke='{color}' stroke-width='2.2'{dash}/>")
        if len(pts) <= 40:
            for (a, b), yv in zip(pts, [v for v in s["y"] if v is not None], strict=True):
                body.append(f"<circle cx='{a:.1f}' cy='{b:.1f}' r='2.6' fill='{color}'><title>{escape(s['name'])}: {escape(y_fmt(float(yv)))}</title></circle>")
    shown_markers = []
    for i, (mx, label) in enumerate(markers):
        if xmin <= mx <= xmax:
            shown_markers.append({"x": float(mx), "label": label})
            body.append(f"<line x1='{x_pos(mx):.1f}' x2='{x_pos(mx):.1f}' y1='{top}' y2='{top + ph}' stroke='#888' stroke-dasharray='2 3'/>")
            body.append(f"<text x='{x_pos(mx) + 3:.1f}' y='{top + 10 + (i % 3) * 11}' fill='#444' font-size='11'>{escape(label)}</text>")
    # legend
    lx: float = left
    ly = height - 22
    for k, s in enumerate(list(stacked) + list(series)):
        is_area = k < len(stacked)
        color = s.get("color") or (PALETTE[(k + 3) % len(PALETTE)] if is_area else PALETTE[(k - len(stacked)) % len(PALETTE)])
        w = 8 + 6.5 * len(s["name"]) + 26
        if lx + w > width:
            lx, ly = left, ly + 14
        dash = " stroke-dasharray='4 3'" if s.get("dash") else ""
        shape = (f"<rect x='{lx}' y='{ly - 9}' width='14' height='10' fill='{color}' fill-opacity='0.55'/>" if is_area
                 else f"<line x1='{lx}' x2='{lx + 14}' y1='{ly - 4}' y2='{ly - 4}' stroke='{color}' stroke-width='2.5'{dash}/>")
        body.append(shape + f"<text x='{lx + 18}' y='{ly}' font-size='11'>{escape(s['name'])}</text>")
        lx += w
    return _svg(width, height, title, body, drawn, shown_markers)
