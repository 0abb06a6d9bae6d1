"""The brief section comparing negotiation packages in partial equilibrium (``api.compare``)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import charts_scenarios, fmt, svgcharts as svg
from tariffscope.report.sections._common import Chart, Context, Section, Table, area_chart, norm_sources

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.scenarios.run import ComparisonResult

PACKAGES = ["june-2025", "july-9-hike", "auto-relief", "japan-deal"]  # built-in scenario files compared in the brief


def scenarios_section(ctx: Context) -> Section:
    s = Section("scenarios", "What-if: negotiation packages compared")
    res = api.compare(PACKAGES, draws=ctx.draws, seed=ctx.seed, progress=False, con=ctx.con)
    s.data = res.to_dict()
    s.sources = norm_sources(res.sources)
    s.notes.append(f"Uncertainty bands come from {ctx.draws} Monte Carlo draws over the elasticities (seed {ctx.seed}); "
                   "the CLI's `tariffscope compare` runs more draws for tighter percentile estimates.")
    render_comparison(s, res)
    value = {p["name"]: {m["name"]: m["value"] for m in p["headline"]} for p in res.packages}
    against = res.against or res.reference
    for p in res.packages:
        v = value[p["name"]]
        imp, jobs = v["imports_from_partner"], v["exporter_sector_jobs"]
        if fmt.is_number(imp):
            s.sentences.append(f"{p['name']}: against {against}, US imports from {ctx.partner_name} change by {fmt.money(imp)} a year"
                               + (f" and {ctx.partner_name}'s auto manufacturing jobs by {fmt.num(jobs)} (first-order)." if fmt.is_number(jobs) else "."))
    a, b = value["june-2025"]["imports_from_partner"], value["japan-deal"]["imports_from_partner"]
    if fmt.is_number(a) and fmt.is_number(b):
        line = (f"In the partial-equilibrium model, the regime of the US-Japan deal changes US imports from {ctx.partner_name} by "
                f"{'+' if b - a >= 0 else ''}{fmt.money(b - a)} a year compared with the tariffs of June 2025 (point estimates; "
                f"{ctx.draws}-draw bands below).")
        s.sentences.insert(0, line)
        s.headline.append(line)
    s.tables.insert(0, Table(["Package", "What it is"], [[p["name"], p["description"] or ""] for p in res.packages],
                             caption="The packages (built-in scenario files)", align=list("nl")))
    chart = area_chart(ctx, charts_scenarios.comparison_figure, s.data)
    if chart is not None:  # the brief: one matplotlib grid instead of the light per-outcome bars
        s.charts = [Chart(chart, caption="Bars: point estimates; whiskers: 5th-95th percentile of the Monte Carlo draws.")]
    return s


def render_comparison(s: Section, res: ComparisonResult) -> None:
    """The outcome x package table (with bands when there were draws) and one light bar chart per outcome."""
    if not res.packages or not res.packages[0]["headline"]:
        raise TariffscopeError("the comparison returned no headline outcomes")
    names = [p["name"] for p in res.packages]
    rows = []
    for first in res.packages[0]["headline"]:  # every package reports the same outcomes, in the same order
        key, label, kind = first["name"], first["label"], _unit_kind(first["unit"])
        vals, los, his = [], [], []
        row = [label]
        for p in res.packages:
            m = next(m for m in p["headline"] if m["name"] == key)
            v, lo, hi = m["value"], m.get("p05"), m.get("p95")  # bands only when the comparison ran draws
            row.append(fmt.auto(v, kind) + (f"\n[{fmt.auto(lo, kind)}, {fmt.auto(hi, kind)}]" if lo is not None and hi is not None else ""))
            vals.append(float(v) if fmt.is_number(v) else 0.0)
            los.append(lo if fmt.is_number(lo) else None)
            his.append(hi if fmt.is_number(hi) else None)
        rows.append(row)
        s.charts.append(Chart(svg.hbar(names, vals, lo=los, hi=his, title=label, fmt=functools.partial(fmt.auto, kind=kind), width=560)))
    s.tables.append(Table(["Outcome"] + names, rows, caption=f"Change against {res.against or res.reference}; 5th-95th percentile band in brackets", align=["l"] + ["r"] * len(names)))
    if res.basis:  # every PE output names its horizon, reference regime, base year and data
        s.notes.append(res.basis["text"])


UNIT_KINDS = {"usd": "money", "fraction": "pctchg", "persons": "num"}  # the units of scenarios.run.HEADLINE


def _unit_kind(unit: str) -> str:
    return UNIT_KINDS[unit]  # a new unit must be given a format here, not shown as money by default
