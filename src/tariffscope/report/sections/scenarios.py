"""The brief section comparing negotiation packages in partial equilibrium (``api.compare``)."""
from __future__ import annotations

from typing import Any

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
)


def scenarios_section(ctx: Context) -> Section:
    s = Section("scenarios", "What-if: negotiation packages compared")
    need("compare")
    names = ["june-2025", "july-9-hike", "auto-relief", "japan-deal"]
    res = as_dict(call(ctx, "compare", names, draws=ctx.draws, seed=ctx.seed, progress=False))
    s.data = res
    s.sources = norm_sources(get(res, "sources"))
    s.notes.append(f"Uncertainty bands come from {ctx.draws} Monte Carlo draws over the elasticities (seed {ctx.seed}); "
                   "the CLI's `tariffscope compare` runs more draws for tighter percentile estimates.")
    render_comparison(s, res)
    packages = get(res, "scenarios", default=[]) or []
    value = {p["name"]: {m["name"]: m.get("value") for m in p.get("headline", [])} for p in packages}
    against = get(res, "against", default="the reference")
    for p in packages:
        v = value[p["name"]]
        imp, jobs = v.get("imports_from_partner"), v.get("exporter_sector_jobs")
        if fmt.is_number(imp):
            s.sentences.append(f"{p['name']}: against {against}, US imports from {ctx.partner_name} change by {fmt.money(imp)} a year"
                               + (f" and {ctx.partner_name}'s auto manufacturing jobs by {fmt.num(jobs)} (first-order)." if fmt.is_number(jobs) else "."))
    if {"june-2025", "japan-deal"} <= set(value):
        a, b = value["june-2025"].get("imports_from_partner"), value["japan-deal"].get("imports_from_partner")
        if fmt.is_number(a) and fmt.is_number(b):
            line = (f"In the partial-equilibrium model, the regime of the US-Japan deal changes US imports from {ctx.partner_name} by "
                    f"{'+' if b - a >= 0 else ''}{fmt.money(b - a)} a year compared with the tariffs of June 2025 (point estimates; "
                    f"{ctx.draws}-draw bands below).")
            s.sentences.insert(0, line)
            s.headline.append(line)
    s.tables.insert(0, Table(["Package", "What it is"], [[p["name"], str(p.get("description") or "")] for p in packages],
                             caption="The packages (built-in scenario files)", align=list("nl")))
    area_chart = _area_chart(ctx, "charts_scenarios", "comparison_figure", res)
    if area_chart:
        s.charts = [Chart(area_chart, caption="Bars: point estimates; whiskers: 5th-95th percentile of the Monte Carlo draws.")]
    return s


def render_comparison(s: Section, res: dict) -> None:
    packages = get(res, "scenarios", "packages", "results", default=[]) or []
    metrics: dict[str, dict] = {}
    for p in packages:
        for m in get(p, "headline", "metrics", "outcomes", default=[]) or []:
            metrics.setdefault(str(get(m, "name", "metric", "key")), {"unit": get(m, "unit", default="usd"), "label": get(m, "label", "name", "metric")})
    if not packages or not metrics:
        raise TariffscopeError("the comparison returned no headline outcomes")
    names = [str(get(p, "name", "scenario")) for p in packages]
    rows = []
    for key, meta in metrics.items():
        kind = _unit_kind(meta["unit"])
        vals, los, his = [], [], []
        row = [str(meta["label"])]
        for p in packages:
            m = next((m for m in get(p, "headline", "metrics", "outcomes", default=[]) if str(get(m, "name", "metric", "key")) == key), {})
            v, lo, hi = get(m, "value", "mean", "median"), get(m, "p05", "lo", "low", "p5"), get(m, "p95", "hi", "high")
            row.append(fmt.auto(v, kind) + (f"\n[{fmt.auto(lo, kind)}, {fmt.auto(hi, kind)}]" if lo is not None and hi is not None else ""))
            vals.append(float(v) if fmt.is_number(v) else 0.0)
            los.append(lo if fmt.is_number(lo) else None)
            his.append(hi if fmt.is_number(hi) else None)
        rows.append(row)
        s.charts.append(Chart(svg.hbar(names, vals, lo=los, hi=his, title=str(meta["label"]), fmt=lambda v, k=kind: fmt.auto(v, k), width=560)))
    s.tables.append(Table(["Outcome"] + names, rows, caption="Change against the baseline; 5th-95th percentile band in brackets", align=["l"] + ["r"] * len(names)))


def _unit_kind(unit: Any) -> str:
    u = str(unit or "").lower()
    if u in ("share", "fraction", "rate", "pct", "percent", "%"):
        return "pctchg"
    if u in ("jobs", "units", "count", "number", "persons"):
        return "num"
    return "money"


