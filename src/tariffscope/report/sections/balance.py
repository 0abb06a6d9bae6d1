"""The brief section on the bilateral goods balance by sector (``api.balance``)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import charts_trade, fmt, svgcharts as svg
from tariffscope.report.sections._common import Chart, Context, Section, Table, area_chart, norm_sources, sector_label

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.trade.balance import BalanceResult


def balance_section(ctx: Context) -> Section:
    from tariffscope.trade.balance import BalanceResult  # at run time too: to tell one result from a table

    s = Section("balance", f"The US goods balance with {ctx.partner_name}, by sector")
    res: BalanceResult | None = None
    period = ""
    err: TariffscopeError | None = None
    for year in ([ctx.period] if ctx.period else dict.fromkeys([ctx.as_of.year - 1, 2024])):
        try:
            got = api.balance(reporter="USA", partner=ctx.partner, period=str(year), by="sector", con=ctx.con)
            if not isinstance(got, BalanceResult):  # one partner gives one result; a table means a group was passed
                raise TariffscopeError(f"the balance section needs one partner, not {ctx.partner!r}")
            res, period = got, str(year)
            break
        except TariffscopeError as exc:
            err = exc
    if res is None:
        assert err is not None  # the loop ran at least once
        raise err  # the last error says why
    s.data = res.to_dict()
    cur = res.currency
    exp, imp, bal = res.exports, res.imports, res.balance
    s.sources = norm_sources(res.sources)
    sectors = sorted(res.sectors, key=lambda r: r.balance)
    head = res.headline
    if head is not None:  # the first sentence is the official figure; the sector table below keeps its sources
        hverb = "deficit" if head.balance < 0 else "surplus"
        s.sentences.append(
            f"In {period} the United States exported {fmt.money(head.exports, cur)} of goods to {ctx.partner_name} and "
            f"imported {fmt.money(head.imports, cur)}: a {hverb} of {fmt.money(abs(head.balance), cur)} "
            f"({head.basis}; {head.vintage})."
        )
    else:
        s.sentences.append(
            f"In {period} the United States exported {fmt.money(exp, cur)} of goods to {ctx.partner_name} and imported "
            f"{fmt.money(imp, cur)} ({res.levels.get('imports', 'imports')}): a {'deficit' if bal < 0 else 'surplus'} "
            f"of {fmt.money(abs(bal), cur)}."
        )
    s.headline.append(s.sentences[0])
    verb = "deficit" if bal < 0 else "surplus"
    autos = [r for r in sectors if _is_auto(r.sector)]
    if autos and bal:
        auto_bal = sum(r.balance for r in autos)
        share = auto_bal / bal
        unsplit = any(r.exports is None for r in autos)
        # "of it" named no partner once the sentence stood alone in the headline: the partner is said again
        line = (f"Passenger vehicles, light trucks and automobile parts together account for {fmt.money(abs(auto_bal), cur)} "
                f"of the US {verb} with {ctx.partner_name}, {fmt.pct(share)} of the {verb}" + (f" of the sector table ({fmt.money(abs(bal), cur)}, detailed sources)"
                                                   if head is not None and res.reconciliation else "") + (" (their imports against the exports that could be identified: US exports are "
                "published by HS chapter only, so auto exports sit in the chapter rows)." if unsplit else "."))
        s.sentences.append(line)
        s.headline.append(line)
    if sectors:
        rows, marks = [], []
        for r in sectors:
            label = sector_label(r.sector)
            if r.note:
                marks.append(f"{label}: {r.note}")
                label += " *"
            rows.append([label, fmt.money(r.exports, cur) if r.exports is not None else "—", fmt.money(r.imports, cur),
                         fmt.money(r.balance, cur), fmt.pct(r.share_of_balance)])
        rows.append(["All goods", fmt.money(exp, cur), fmt.money(imp, cur), fmt.money(bal, cur), fmt.pct(1.0 if bal else None)])
        s.tables.append(Table(["Sector", "US exports", "US imports", "Balance", "Share of balance"], rows,
                              caption=f"US goods trade with {ctx.partner_name}, {period}", align=list("lrrrr"), total_row=True))
        s.notes.extend(f"* {m}" for m in marks)
        shown = [r for r in sectors if abs(r.balance) > 0]
        caption = "Negative = US deficit (imports exceed exports)."
        chart = area_chart(ctx, charts_trade.balance_waterfall, res)
        if chart is None:  # the web app: light SVG
            chart = svg.hbar([sector_label(r.sector) for r in shown], [r.balance for r in shown],
                             title=f"US balance with {ctx.partner_name} by sector, {period}", fmt=lambda v: fmt.money(v, cur, 0))
        s.charts.append(Chart(chart, caption=caption))
    if head is not None and res.reconciliation:
        s.notes.append(f"The sector table uses the detailed sources (total {fmt.money(bal, cur)}); to the headline "
                       f"({fmt.money(head.balance, cur)}):")
        s.notes.extend(f"{fmt.money(r.effect, cur)}: {r.text}" for r in res.reconciliation)
    s.notes.extend(f"{k}: {v}" for k, v in res.levels.items())
    s.notes.extend(res.notes)
    return s


def _is_auto(name: str) -> bool:
    n = name.lower().replace("_", " ")
    return any(k in n for k in ("passenger vehicle", "light truck", "automobile part", "auto part"))
