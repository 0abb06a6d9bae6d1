"""The brief section on the bilateral goods balance by sector (``api.balance``)."""
from __future__ import annotations

from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt
from tariffscope.report import svgcharts as svg
from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    Table,
    _area_chart,
    as_dict,
    call,
    get,
    need,
    norm_sources,
    sector_label,
)


def balance_section(ctx: Context) -> Section:
    s = Section("balance", f"The US goods balance with {ctx.partner_name}, by sector")
    need("balance")
    res, period = None, None
    for year in ([ctx.period] if ctx.period else dict.fromkeys([ctx.as_of.year - 1, 2024])):
        try:
            res = as_dict(call(ctx, "balance", reporter="USA", partner=ctx.partner, period=str(year), by="sector"))
            period = str(year)
            break
        except TariffscopeError as exc:
            err = exc
    if res is None:
        raise err  # noqa: F821 - the last error says why
    s.data = res
    cur = get(res, "currency", default="USD")
    exp, imp, bal = get(res, "exports"), get(res, "imports"), get(res, "balance")
    s.sources = norm_sources(get(res, "sources"))
    sectors = sorted(get(res, "sectors", default=[]) or [], key=lambda r: float(get(r, "balance", default=0) or 0))
    verb = "deficit" if (bal or 0) < 0 else "surplus"
    s.sentences.append(
        f"In {period} the United States exported {fmt.money(exp, cur)} of goods to {ctx.partner_name} and imported "
        f"{fmt.money(imp, cur)}: a {verb} of {fmt.money(abs(bal or 0), cur)}."
    )
    s.headline.append(s.sentences[0])
    autos = [r for r in sectors if _is_auto(get(r, "sector", default=""))]
    if autos and bal:
        auto_bal = sum(float(get(r, "balance", default=0)) for r in autos)
        share = auto_bal / bal
        unsplit = any(r.get("exports") is None for r in autos)
        line = (f"Passenger vehicles, light trucks and automobile parts together account for {fmt.money(abs(auto_bal), cur)} "
                f"of it, {fmt.pct(share)} of the {verb}" + (" (their imports against the exports that could be identified: US exports are "
                "published by HS chapter only, so auto exports sit in the chapter rows)." if unsplit else "."))
        s.sentences.append(line)
        s.headline.append(line)
    if sectors:
        rows, marks = [], []
        for r in sectors:
            label = sector_label(get(r, "sector", default=""))
            if r.get("note"):
                marks.append(f"{label}: {r['note']}")
                label += " *"
            rows.append([label, fmt.money(r.get("exports"), cur) if r.get("exports") is not None else "—", fmt.money(r.get("imports"), cur),
                         fmt.money(r.get("balance"), cur), fmt.pct(r.get("share_of_balance"))])
        rows.append(["All goods", fmt.money(exp, cur), fmt.money(imp, cur), fmt.money(bal, cur), fmt.pct(1.0 if bal else None)])
        s.tables.append(Table(["Sector", "US exports", "US imports", "Balance", "Share of balance"], rows,
                              caption=f"US goods trade with {ctx.partner_name}, {period}", align=list("lrrrr"), total_row=True))
        s.notes.extend(f"* {m}" for m in marks)
        shown = [r for r in sectors if abs(float(r.get("balance") or 0)) > 0]
        area_chart = _area_chart(ctx, "charts_trade", "balance_waterfall", res)
        if area_chart:
            s.charts.append(Chart(area_chart, caption="Negative = US deficit (imports exceed exports)."))
        else:
            s.charts.append(Chart(svg.hbar([sector_label(get(r, "sector", default="")) for r in shown], [float(r.get("balance") or 0) for r in shown],
                                           title=f"US balance with {ctx.partner_name} by sector, {period}", fmt=lambda v: fmt.money(v, cur, 0)),
                                  caption="Negative = US deficit (imports exceed exports)."))
    levels = get(res, "levels", default={})
    if isinstance(levels, dict):
        s.notes.extend(f"{k}: {v}" for k, v in levels.items())
    s.notes.extend(str(n) for n in get(res, "notes", default=[]) or [])
    return s


def _is_auto(name: str) -> bool:
    n = name.lower().replace("_", " ")
    return any(k in n for k in ("passenger vehicle", "light truck", "automobile part", "auto part"))


