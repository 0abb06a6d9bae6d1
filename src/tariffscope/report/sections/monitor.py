"""The brief section on the latest month against a year earlier (``api.monitor``)."""
from __future__ import annotations

import datetime as dt

from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt
from tariffscope.report import svgcharts as svg
from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    SectionUnavailable,
    Table,
    _area_chart,
    as_dict,
    call,
    get,
    month_ticks,
    need,
    norm_sources,
    period_x,
    sector_label,
    x_label_month,
)


def monitor_section(ctx: Context) -> Section:
    s = Section("monitor", f"Monthly monitor: trade with {ctx.partner_name} against a year ago")
    need("monitor")
    res, month = None, None
    last_err: Exception | None = None
    for m in _months_back(ctx.as_of, 15):  # the latest month with data on or before the as-of date
        try:
            res = as_dict(call(ctx, "monitor", reporter="USA", partner=ctx.partner, month=m, by="sector",
                               from_=_shift_month(m, -23), to=m))
            month = m
            latest = next((r for r in get(res, "series", default=[]) if r.get("month") == m), None)
            if latest and latest.get("imports") is not None:
                break
        except TariffscopeError as exc:
            last_err = exc
    if res is None:
        raise last_err or SectionUnavailable("no monthly data")
    s.data = res
    s.sources = norm_sources(get(res, "sources"))
    series = get(res, "series", default=[]) or []
    latest = next((r for r in series if r.get("month") == month), {})
    label = x_label_month(period_x(month))
    rows = []
    for key, name in (("exports", "US exports"), ("imports", "US imports"), ("balance", "Balance")):
        now, ago = latest.get(key), latest.get(f"{key}_year_ago")
        chg = now - ago if fmt.is_number(now) and fmt.is_number(ago) else None
        yoy = latest.get(f"{key}_yoy") if key != "balance" else None
        rows.append([name, fmt.money(now), fmt.money(ago), fmt.money(chg), fmt.pct(yoy, signed=True) if yoy is not None else ""])
    s.tables.append(Table(["", label, "A year earlier", "Change", "Change %"], rows, caption=f"US goods trade with {ctx.partner_name}, {label}", align=list("lrrrr")))
    if fmt.is_number(latest.get("imports")):
        line = (f"In {label} US imports from {ctx.partner_name} were {fmt.money(latest.get('imports'))}, "
                f"{fmt.pct(latest.get('imports_yoy'), signed=True)} on a year earlier; the US balance was {fmt.money(latest.get('balance'))} "
                f"against {fmt.money(latest.get('balance_year_ago'))} a year before.")
        s.sentences.append(line)
        s.headline.append(line)
    detail = [r for r in get(res, "detail", default=[]) or [] if r.get("flow") == "imports"]
    if detail:
        detail.sort(key=lambda r: -(r.get("value") or 0))
        shown, rest = detail[:DETAIL_ROWS], detail[DETAIL_ROWS:]
        with_ago = any(r.get("value_year_ago") is not None for r in shown)
        cols = ["Sector", f"Imports {label}"] + (["A year earlier", "Change %"] if with_ago else [])
        rows = [[sector_label(r.get("sector")), fmt.money(r.get("value"))] +
                ([fmt.money(r.get("value_year_ago")), fmt.pct(r.get("yoy"), signed=True)] if with_ago else []) for r in shown]
        if rest:
            rows.append([f"{len(rest)} smaller rows", fmt.money(sum(r.get("value") or 0 for r in rest))] + (["", ""] if with_ago else []))
        s.tables.append(Table(cols, rows, caption=f"US imports from {ctx.partner_name} by sector, {label}", align=["l"] + ["r"] * (len(cols) - 1)))
    vp = get(res, "volume_price", default=[]) or []
    if vp:
        s.tables.append(Table(["Product", "Flow", "Year", "Value change", "Volume change", "Unit-value change", "Units"],
                              [[str(r.get("product")), str(r.get("flow")), f"{r.get('year')} vs {r.get('base_year')}", fmt.pct(r.get("value_change"), signed=True),
                                fmt.pct(r.get("volume_change"), signed=True), fmt.pct(r.get("unit_value_change"), signed=True), str(r.get("unit", ""))] for r in vp],
                              caption="Value = volume x unit value, where quantities exist", align=list("lllrrrl")))
    s.notes.extend(str(n) for n in get(res, "notes", default=[]) or [])
    pts = [r for r in series if r.get("imports") is not None or r.get("exports") is not None]
    area_chart = _area_chart(ctx, "charts_trade", "monthly_chart", res) if len(pts) >= 2 else None
    if area_chart:
        s.charts.append(Chart(area_chart, caption="Dashed: the same month a year earlier."))
    elif len(pts) >= 2:
        xs = [period_x(r["month"]) for r in pts]
        lines = []
        for key, name, color, dash in (("imports", "US imports", svg.PALETTE[1], False), ("imports_year_ago", "imports a year earlier", svg.PALETTE[1], True),
                                       ("exports", "US exports", svg.PALETTE[0], False), ("exports_year_ago", "exports a year earlier", svg.PALETTE[0], True)):
            ys = [r.get(key) for r in pts]
            if any(y is not None for y in ys):
                lines.append({"name": name, "x": xs, "y": [None if y is None else float(y) for y in ys], "color": color, "dash": dash})
        s.charts.append(Chart(svg.lines(lines, title=f"Monthly US goods trade with {ctx.partner_name}", y_fmt=lambda v: fmt.money(v, "USD", 0),
                                        x_label=x_label_month, x_ticks=month_ticks(min(xs), max(xs))),
                              caption="Dashed: the same month a year earlier."))
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


