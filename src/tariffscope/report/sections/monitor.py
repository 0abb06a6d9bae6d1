"""The brief section on the latest month against a year earlier (``api.monitor``)."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import charts_trade, fmt, svgcharts as svg
from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    SectionUnavailable,
    Table,
    area_chart,
    month_ticks,
    norm_sources,
    period_x,
    sector_label,
    x_label_month,
)

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.trade.monitor import MonitorResult


def monitor_section(ctx: Context) -> Section:
    s = Section("monitor", f"Monthly monitor: trade with {ctx.partner_name} against a year ago")
    res: MonitorResult | None = None
    last_err: Exception | None = None
    for m in _months_back(ctx.as_of, 15):  # the latest month with data on or before the as-of date
        try:
            res = api.monitor(reporter="USA", partner=ctx.partner, month=m, by="sector", from_=_shift_month(m, -23), to=m, con=ctx.con)
            if res.latest.imports is not None:
                break
        except TariffscopeError as exc:
            last_err = exc
    if res is None:
        raise last_err or SectionUnavailable("no monthly data")
    s.data = res.to_dict()
    s.sources = norm_sources(res.sources)
    latest = res.latest
    label = x_label_month(period_x(res.month))
    rows = []
    for name, now, ago, yoy in (("US exports", latest.exports, latest.exports_year_ago, latest.exports_yoy),
                                ("US imports", latest.imports, latest.imports_year_ago, latest.imports_yoy),
                                ("Balance", latest.balance, latest.balance_year_ago, None)):
        chg = now - ago if fmt.is_number(now) and fmt.is_number(ago) else None
        rows.append([name, fmt.money(now), fmt.money(ago), fmt.money(chg), fmt.pct(yoy, signed=True) if yoy is not None else ""])
    s.tables.append(Table(["", label, "A year earlier", "Change", "Change %"], rows, caption=f"US goods trade with {ctx.partner_name}, {label}", align=list("lrrrr")))
    if fmt.is_number(latest.imports):
        line = (f"In {label} US imports from {ctx.partner_name} were {fmt.money(latest.imports)}, "
                f"{fmt.pct(latest.imports_yoy, signed=True)} on a year earlier; the US balance was {fmt.money(latest.balance)} "
                f"against {fmt.money(latest.balance_year_ago)} a year before.")
        s.sentences.append(line)
        s.headline.append(line)
    detail = sorted((r for r in res.detail if r.flow == "imports"), key=lambda r: -r.value)
    if detail:
        shown, rest = detail[:DETAIL_ROWS], detail[DETAIL_ROWS:]
        with_ago = any(r.year_ago is not None for r in shown)
        cols = ["Sector", f"Imports {label}"] + (["A year earlier", "Change %"] if with_ago else [])
        rows = [[sector_label(r.sector), fmt.money(r.value)] +
                ([fmt.money(r.year_ago), fmt.pct(r.pct_change, signed=True)] if with_ago else []) for r in shown]
        if rest:
            rows.append([f"{len(rest)} smaller rows", fmt.money(sum(r.value for r in rest))] + (["", ""] if with_ago else []))
        s.tables.append(Table(cols, rows, caption=f"US imports from {ctx.partner_name} by sector, {label}", align=["l"] + ["r"] * (len(cols) - 1)))
    if res.volume_price:
        s.tables.append(Table(["Product", "Flow", "Year", "Value change", "Volume change", "Unit-value change", "Units"],
                              [[r.product, r.flow, f"{r.year} vs {r.base_year}", fmt.pct(r.value_change, signed=True),
                                fmt.pct(r.volume_change, signed=True), fmt.pct(r.unit_value_change, signed=True), r.unit] for r in res.volume_price],
                              caption="Value = volume x unit value, where quantities exist", align=list("lllrrrl")))
    s.notes.extend(res.notes)
    pts = [r for r in res.series if r.imports is not None or r.exports is not None]
    if len(pts) >= 2:
        caption = "Dashed: the same month a year earlier."
        chart = area_chart(ctx, charts_trade.monthly_chart, res)
        if chart is None:  # the web app: light SVG
            xs = [period_x(r.month) for r in pts]
            lines = []
            for name, ys, color, dash in (("US imports", [r.imports for r in pts], svg.PALETTE[1], False),
                                          ("imports a year earlier", [r.imports_year_ago for r in pts], svg.PALETTE[1], True),
                                          ("US exports", [r.exports for r in pts], svg.PALETTE[0], False),
                                          ("exports a year earlier", [r.exports_year_ago for r in pts], svg.PALETTE[0], True)):
                if any(y is not None for y in ys):
                    lines.append({"name": name, "x": xs, "y": [None if y is None else float(y) for y in ys], "color": color, "dash": dash})
            chart = svg.lines(lines, title=f"Monthly US goods trade with {ctx.partner_name}", y_fmt=lambda v: fmt.money(v, "USD", 0),
                              x_label=x_label_month, x_ticks=month_ticks(min(xs), max(xs)))
        s.charts.append(Chart(chart, caption=caption))
    return s


DETAIL_ROWS = 12


def _months_back(d: dt.date, n: int) -> list[str]:
    y, m = d.year, d.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out


def _shift_month(month: str, k: int) -> str:
    y, m = int(month[:4]), int(month[5:7])
    t = y * 12 + (m - 1) + k
    return f"{t // 12:04d}-{t % 12 + 1:02d}"


