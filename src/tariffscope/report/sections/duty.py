"""The brief section with worked duty examples on the largest HS10 imports (``api.duty``), and the layer table."""
from __future__ import annotations

from typing import TYPE_CHECKING

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt
from tariffscope.report.sections._common import Context, Section, Table, as_dict, norm_sources

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.tariffs.engine import DutyResult

EXAMPLE_VALUE = 100_000.0  # customs value of each worked example entry, USD
EXAMPLE_DATES = ("2025-01-15", "2025-04-10", "2025-06-15", "2025-10-01")


def duty_section(ctx: Context) -> Section:
    s = Section("duty", f"Worked duty examples: the top products from {ctx.partner_name}")
    from tariffscope.trade.balance import BalanceResult  # to tell one partner's result from a table

    top = api.balance(reporter="USA", partner=ctx.partner, period="2024", by="hs10", con=ctx.con)
    if not isinstance(top, BalanceResult):  # one partner gives one result; a table means a group was passed
        raise TariffscopeError(f"worked duty examples need one partner, not {ctx.partner!r}")
    lines = sorted((r for r in top.sectors if r.level == 10 and r.imports), key=lambda r: -(r.imports or 0.0))[:5]
    if not lines:
        raise TariffscopeError(f"no HS10 imports from {ctx.partner_name} loaded for 2024")
    s.sources = norm_sources(top.sources)
    s.data["top_imports"] = as_dict(lines)
    s.data["duties"] = []
    dates = list(dict.fromkeys([d for d in EXAMPLE_DATES if d <= ctx.as_of.isoformat()] + [ctx.as_of.isoformat()]))
    summary = []
    for p in lines:
        code = p.sector
        rates = []
        for d in dates:
            try:
                # one_off: five lines on five dates need no index over every line of each date's revision
                # (four of them, ~50 MB and ~0.1 s each, beside the backtest)
                r = api.duty(code, ctx.partner, d, customs_value=EXAMPLE_VALUE, con=ctx.con, one_off=True)
            except TariffscopeError as exc:
                s.notes.append(f"HTS {_heading(code)} on {d}: {exc}")
                rates.append("n/a")
                continue
            rates.append(fmt.pct(r.effective_rate, 2))
            if d == dates[-1]:
                s.data["duties"].append(r.to_dict())
                s.tables.append(duty_table(r, caption=f"HTS {_heading(code)} {r.description} (2024 imports from {ctx.partner_name} "
                                                      f"{fmt.money(p.imports)}): an entry worth {fmt.usd_exact(EXAMPLE_VALUE)} on {d}; "
                                                      f"HTS revision {r.hts_revision or 'n/a'}, MFN \"{r.mfn_text}\""))
        summary.append([_heading(code), fmt.money(p.imports)] + rates)
    s.tables.insert(0, Table(["HTS", "2024 imports"] + [f"Rate on {d}" for d in dates], summary,
                             caption=f"Effective duty rate on the five largest HS10 imports from {ctx.partner_name}", align=["l"] + ["r"] * (1 + len(dates))))
    if s.data["duties"]:
        d = s.data["duties"][0]
        s.sentences.append(f"The largest import line from {ctx.partner_name}, HTS {_heading(d['hts10'])} ({d.get('description') or 'no description'}), "
                           f"pays {fmt.usd_exact(d['total_duty'])} on an entry worth {fmt.usd_exact(d['customs_value'])} entered on {d['date']}: "
                           f"an effective rate of {fmt.pct(d['effective_rate'], 2)}.")
    return s


def duty_table(d: DutyResult, caption: str = "") -> Table:
    """The layers of one duty result: measure, Chapter 99 heading, authority, the value the rate is charged on
    (the customs value, its metal content or a conditional scope's share), rate, amount; total last."""
    rows = [[layer.measure_id + (f" ({layer.share_option} {fmt.pct(layer.share, 0)} of value)" if layer.share_option else ""),
             _heading(layer.heading), layer.authority, fmt.usd_exact(layer.base),
             fmt.pct(layer.rate, 2), fmt.usd_exact(layer.amount)]
            for layer in d.layers]
    rows.append(["Total", "", "", fmt.usd_exact(d.customs_value), fmt.pct(d.effective_rate, 2), fmt.usd_exact(d.total_duty)])
    return Table(["Layer", "Heading", "Authority", "Base (value charged)", "Rate", "Duty"], rows, caption=caption,
                 align=list("lllrrr"), total_row=True)


def _heading(code: str) -> str:
    """'8703230140' -> '8703.23.01.40'; a Chapter 99 heading keeps its dots."""
    c = "".join(ch for ch in code if ch.isdigit())
    parts = [c[:4], c[4:6], c[6:8], c[8:10]]
    return ".".join(p for p in parts if p)


