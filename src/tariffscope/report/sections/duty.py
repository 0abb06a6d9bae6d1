"""The brief section with worked duty examples on the largest HS10 imports (``api.duty``), and the layer table."""
from __future__ import annotations

from typing import Any

from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt
from tariffscope.report.sections._common import (
    Context,
    Section,
    Table,
    as_dict,
    call,
    get,
    need,
    norm_sources,
)

EXAMPLE_VALUE = 100_000.0  # customs value of each worked example entry, USD
EXAMPLE_DATES = ("2025-01-15", "2025-04-10", "2025-06-15", "2025-10-01")


def duty_section(ctx: Context) -> Section:
    s = Section("duty", f"Worked duty examples: the top products from {ctx.partner_name}")
    need("duty")
    need("balance")
    top = as_dict(call(ctx, "balance", reporter="USA", partner=ctx.partner, period="2024", by="hs10"))
    lines = sorted((r for r in get(top, "sectors", default=[]) if r.get("level") == 10 and r.get("imports")), key=lambda r: -r["imports"])[:5]
    if not lines:
        raise TariffscopeError(f"no HS10 imports from {ctx.partner_name} loaded for 2024")
    s.sources = norm_sources(get(top, "sources"))
    s.data["top_imports"] = lines
    s.data["duties"] = []
    dates = list(dict.fromkeys([d for d in EXAMPLE_DATES if d <= ctx.as_of.isoformat()] + [ctx.as_of.isoformat()]))
    summary = []
    for p in lines:
        code = str(p["sector"])
        rates = []
        for d in dates:
            try:
                r = as_dict(call(ctx, "duty", code, ctx.partner, d, customs_value=EXAMPLE_VALUE))
            except TariffscopeError as exc:
                s.notes.append(f"HTS {_heading(code)} on {d}: {exc}")
                rates.append("n/a")
                continue
            rates.append(fmt.pct(r.get("effective_rate"), 2))
            if d == dates[-1]:
                s.data["duties"].append(r)
                s.tables.append(duty_table(r, caption=f"HTS {_heading(code)} {r.get('description') or ''} (2024 imports from {ctx.partner_name} "
                                                      f"{fmt.money(p['imports'])}): an entry worth {fmt.usd_exact(EXAMPLE_VALUE)} on {d}; "
                                                      f"HTS revision {r.get('hts_revision') or 'n/a'}, MFN \"{r.get('mfn_text') or ''}\""))
        summary.append([_heading(code), fmt.money(p["imports"])] + rates)
    s.tables.insert(0, Table(["HTS", "2024 imports"] + [f"Rate on {d}" for d in dates], summary,
                             caption=f"Effective duty rate on the five largest HS10 imports from {ctx.partner_name}", align=["l"] + ["r"] * (1 + len(dates))))
    if s.data["duties"]:
        d = s.data["duties"][0]
        s.sentences.append(f"The largest import line, HTS {_heading(d['hts10'])} ({d.get('description') or 'no description'}), "
                           f"pays {fmt.usd_exact(d['total_duty'])} on an entry worth {fmt.usd_exact(d['customs_value'])} entered on {d['date']}: "
                           f"an effective rate of {fmt.pct(d['effective_rate'], 2)}.")
    return s


def duty_table(d: dict, caption: str = "") -> Table:
    """The layers of one duty result: measure, Chapter 99 heading, authority, rate, amount; total last."""
    rows = [[str(get(l, "measure_id", "id")), _heading(get(l, "heading")), str(get(l, "authority", default="")),
             fmt.pct(get(l, "rate"), 2), fmt.usd_exact(get(l, "amount"))] for l in get(d, "layers", default=[])]
    rows.append(["Total", "", "", fmt.pct(get(d, "effective_rate"), 2), fmt.usd_exact(get(d, "total_duty"))])
    return Table(["Layer", "Heading", "Authority", "Rate", "Duty"], rows, caption=caption, align=list("lllrr"), total_row=True)


def _heading(code: Any) -> str:
    c = "".join(ch for ch in str(code or "") if ch.isdigit())
    parts = [c[:4], c[4:6], c[6:8], c[8:10]]
    return ".".join(p for p in parts if p)


