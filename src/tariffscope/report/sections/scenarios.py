"""The brief section comparing negotiation packages in partial equilibrium (``api.compare``)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import charts_scenarios, fmt, svgcharts as svg
from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    SectionUnavailable,
    Table,
    area_chart,
    norm_sources,
)

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.scenarios.run import ComparisonResult

# The built-in scenario files compared in the brief for each partner, in time order: the first is the regime
# before the partner's deal (or rate change), the last the regime after it; the headline compares the two.
# Every package's own ``partner`` field names whose imports its figures are (tests check the two agree).
PACKAGES_BY_PARTNER: dict[str, list[str]] = {
    "JPN": ["june-2025", "july-9-hike", "auto-relief", "japan-deal", "japan-deal-2025"],
    "KOR": ["korea-june-2025", "korea-deal"],
    "EU27": ["eu-june-2025", "eu-deal"],
    "GBR": ["uk-june-2025", "uk-deal"],
    "CHE": ["swiss-aug-2025", "swiss-deal"],
    "VNM": ["vietnam-june-2025", "vietnam-aug-2025"],
    "TWN": ["taiwan-aug-2025", "taiwan-may-2026", "taiwan-deal"],
    "IND": ["india-june-2025", "india-sep-2025", "india-feb-2026"],
    "CHN": ["china-june-2025", "china-nov-2025"],
    "CAN": ["canada-june-2025", "canada-aug-2025"],
    "MEX": ["mexico-june-2025", "mexico-nov-2025"],
}
PACKAGES = PACKAGES_BY_PARTNER["JPN"]  # kept for callers that compare Japan's packages


def packages_for(iso3: str) -> tuple[str, list[str]] | None:
    """(the packages' partner, their names) for a brief partner: its own packages, else those of a group it
    belongs to (Germany -> the EU's), else None."""
    if iso3 in PACKAGES_BY_PARTNER:
        return iso3, PACKAGES_BY_PARTNER[iso3]
    for group, names in PACKAGES_BY_PARTNER.items():
        if iso3 in api.group_members(group):
            return group, names
    return None


@functools.lru_cache(maxsize=64)
def _country_name(iso3: str) -> str:
    """The partner's name as it reads in a sentence ('the European Union (27)', 'South Korea')."""
    try:
        name = api.resolve_country(iso3).name
    except TariffscopeError:
        return iso3
    return f"the {name}" if name.startswith(("European Union", "United ")) else name


def partner_display(iso3: str) -> str:
    """A package partner's name as a label ('South Korea', 'European Union (27)')."""
    return _country_name(iso3).removeprefix("the ")


def package_label(p: dict) -> str:
    """'korea-deal (South Korea)': a package's name with the partner its figures are about."""
    return f"{p['name']} ({partner_display(p['partner'])})" if p.get("partner") else str(p["name"])


def scenarios_section(ctx: Context) -> Section:
    s = Section("scenarios", "What-if: negotiation packages compared")
    found = packages_for(ctx.partner)
    if found is None:
        have = ", ".join(_country_name(k).removeprefix("the ") for k in PACKAGES_BY_PARTNER)
        raise SectionUnavailable(f"no built-in negotiation package for {ctx.partner_name} (packages exist for {have}); "
                                 "write a scenario file for it and run it with `tariffscope compare`")
    group, names = found
    pname = _country_name(group)
    res = api.compare(names, draws=ctx.draws, seed=ctx.seed, backend=ctx.backend, progress=False, con=ctx.con)
    s.data = res.to_dict()
    s.sources = norm_sources(res.sources)
    if group != ctx.partner:
        s.notes.append(f"{ctx.partner_name} has no package of its own: these are the packages of {pname}, "
                       f"and every partner figure is for {pname} as a whole.")
    s.notes.append(f"Uncertainty bands come from {ctx.draws} Monte Carlo draws over the elasticities (seed {ctx.seed}); "
                   "the CLI's `tariffscope compare` runs more draws for tighter percentile estimates.")
    render_comparison(s, res)
    value = {p["name"]: {m["name"]: m["value"] for m in p["headline"]} for p in res.packages}
    partner_of = {p["name"]: _country_name(p["partner"]) for p in res.packages}
    against = res.against or res.reference
    for p in res.packages:
        v, who = value[p["name"]], partner_of[p["name"]]
        imp, jobs = v["imports_from_partner"], v["exporter_sector_jobs"]
        if fmt.is_number(imp):
            s.sentences.append(f"{p['name']}: against {against}, US imports from {who} change by {fmt.money(imp)} a year"
                               + (f" and {who}'s auto manufacturing jobs by {fmt.num(jobs)} (first-order)." if fmt.is_number(jobs) else "."))
    first, last = names[0], names[-1]
    a, b = value[first]["imports_from_partner"], value[last]["imports_from_partner"]
    if fmt.is_number(a) and fmt.is_number(b):
        line = (f"In the partial-equilibrium model, moving from the regime of {first} to that of {last} changes US imports "
                f"from {partner_of[last]} by {'+' if b - a >= 0 else ''}{fmt.money(b - a)} a year (point estimates; "
                f"{ctx.draws}-draw bands below).")
        s.sentences.insert(0, line)
        s.headline.append(line)
    for p in res.packages:
        two = p.get("two_sided")
        if two and (two["purchases"] or two["partner_tariffs"] or two["investment"]):
            r = {m["name"]: m["value"] for m in two["rows"]}
            who = partner_of[p["name"]]
            if all(fmt.is_number(r[k]) for k in ("exports_to_partner", "imports_from_partner", "balance_with_partner")):
                s.sentences.append(
                    f"{p['name']} is two-sided: against {against}, US exports to {who} change by {fmt.money(r['exports_to_partner'])} "
                    f"a year (the partner's tariffs and the additional part of its purchases), US imports by "
                    f"{fmt.money(r['imports_from_partner'])}, so the US goods balance with {who} changes by "
                    f"{fmt.money(r['balance_with_partner'])} (exports minus imports; table 'Two-sided packages').")
    s.tables.insert(0, Table(["Package", "Partner", "What it is"],
                             [[p["name"], partner_of[p["name"]], p["description"] or ""] for p in res.packages],
                             caption="The packages (built-in scenario files)", align=list("nnl")))
    chart = area_chart(ctx, charts_scenarios.comparison_figure, s.data, None, [package_label(p) for p in res.packages],
                       functools.partial(outcome_label, partners={p.get("partner") for p in res.packages}))
    if chart is not None:  # the brief: one matplotlib grid instead of the light per-outcome bars
        s.charts = [Chart(chart, caption="Bars: point estimates; whiskers: 5th-95th percentile of the Monte Carlo draws; "
                                         "n/a: the outcome needs facts not at hand for that partner.")]
    return s


def render_comparison(s: Section, res: ComparisonResult) -> None:
    """The outcome x package table (with bands when there were draws) and one light bar chart per outcome.

    Columns and bars name each package's partner ('korea-deal (Korea)'); outcomes about "the partner" name
    it too when every package shares one. n/a stays n/a in the table and the charts.
    """
    if not res.packages or not res.packages[0]["headline"]:
        raise TariffscopeError("the comparison returned no headline outcomes")
    names = [package_label(p) for p in res.packages]
    partners = {p.get("partner") for p in res.packages}
    rows = []
    for first in res.packages[0]["headline"]:  # every package reports the same outcomes, in the same order
        key, kind = first["name"], _unit_kind(first["unit"])
        label = outcome_label(first["label"], partners)
        vals: list[float | None] = []
        los: list[float | None] = []
        his: list[float | None] = []
        row = [label]
        for p in res.packages:
            m = next(m for m in p["headline"] if m["name"] == key)
            v, lo, hi = m["value"], m.get("p05"), m.get("p95")  # bands only when the comparison ran draws
            known = fmt.is_number(v)
            row.append(fmt.auto(v, kind) + (f"\n[{fmt.auto(lo, kind)}, {fmt.auto(hi, kind)}]" if known and lo is not None and hi is not None else ""))
            vals.append(float(v) if known else None)
            los.append(lo if known and fmt.is_number(lo) else None)
            his.append(hi if known and fmt.is_number(hi) else None)
        rows.append(row)
        s.charts.append(Chart(svg.hbar(names, vals, lo=los, hi=his, title=label, fmt=functools.partial(fmt.auto, kind=kind), width=560)))
    s.tables.append(Table(["Outcome"] + names, rows, caption=f"Change against {res.against or res.reference}; 5th-95th percentile band in brackets", align=["l"] + ["r"] * len(names)))
    if res.basis:  # every PE output names its horizon, reference regime, base year and data
        s.notes.append(res.basis["text"])
    two_sided_tables(s, res.packages, names, partners)


def two_sided_tables(s: Section, packages: list[dict], names: list[str], partners: set) -> None:
    """Two-sided packages (``two_sided`` in a package): US exports (by channel), imports and the balance with
    the partner and its auto sector, with bands; the trade year's levels on the official basis; the items."""
    blocks = [p.get("two_sided") for p in packages]
    first = next((b for b in blocks if b), None)
    if first is None:
        return
    rows = []
    for j, meta in enumerate(first["rows"]):
        kind = _unit_kind(meta["unit"])
        indent = "  " if meta["label"].startswith("  ") else ""  # 'of which' rows name the partner too
        row = [indent + outcome_label(meta["label"].strip(), partners)]
        for b in blocks:
            m = b["rows"][j] if b else None
            if m is None or not fmt.is_number(m["value"]):
                row.append("n/a")
                continue
            lo, hi = m.get("p05"), m.get("p95")
            row.append(fmt.auto(m["value"], kind) + (f"\n[{fmt.auto(lo, kind)}, {fmt.auto(hi, kind)}]"
                                                      if fmt.is_number(lo) and fmt.is_number(hi) else ""))
        rows.append(row)
    s.tables.append(Table(["Two-sided outcome"] + names, rows, caption="Two-sided packages: change in US exports, "
                          "imports and the goods balance with the partner (balance = exports minus imports, per draw); "
                          "5th-95th percentile band in brackets", align=["l"] + ["r"] * len(names)))
    lv_rows = []
    for name, b in zip(names, blocks, strict=True):
        lv = (b or {}).get("levels")
        if lv:
            for r in lv["rows"]:
                lv_rows.append([name, r["name"], fmt.money(r["base"]), fmt.money(r["change"]) if fmt.is_number(r["change"]) else "n/a",
                                fmt.money(r["new"]) if fmt.is_number(r["new"]) else "n/a"])
    if lv_rows:
        lv0 = next(b["levels"] for b in blocks if b and b.get("levels"))
        s.tables.append(Table(["Package", "Flow", f"{lv0['year']} level", "Change", "Level with the change"], lv_rows,
                              caption=f"Levels on the official basis: {lv0['basis']} ({lv0['vintage']})",
                              align=list("nlrrr")))
    seen: set[str] = set()
    for name, b in zip(names, blocks, strict=True):
        if not b:
            continue
        for pu in b["purchases"]:
            s.notes.append(f"{name}: purchase commitment {pu['what'] or ', '.join(pu['prefixes'])}: {fmt.money(pu['per_year'])} "
                           f"a year, additional share {pu['additionality_used']:.2f} (range {pu['additionality_range'][0]:.2f}-"
                           f"{pu['additionality_range'][1]:.2f}); source: {pu['source'] or 'n/a'}.")
        for iv in b["investment"]:
            s.notes.append(f"{name}: memo: investment of {fmt.money(iv['amount'])} ({iv['horizon']}); trade effect: "
                           f"{iv['trade_effect']}.")
        for n in b["notes"] + [f"{k}: {v}" for k, v in b["basis"].items()]:
            if n not in seen:
                seen.add(n)
                s.notes.append(n)
        em = b["export_model"]
        line = (f"Export model: elasticity {em['elasticity']:g} (Monte Carlo range {em['low']:g}-{em['high']:g}), "
                f"{em['what']}; {em['source']} ({em['data']}).")
        if line not in seen:
            seen.add(line)
            s.notes.append(line)


def outcome_label(label: str, partners: set) -> str:
    """'US imports from the partner' -> '... from Korea' when all packages share Korea; '... from each
    package's partner' when they differ (the column headers name them)."""
    if len(partners) == 1 and None not in partners:
        who = _country_name(next(iter(partners)))
        return label.replace("the partner", who).replace("Partner's", f"{who[:1].upper()}{who[1:]}'s")
    return label.replace("the partner", "each package's partner").replace("Partner's", "Each package partner's")


UNIT_KINDS = {"usd": "money", "fraction": "pctchg", "persons": "num"}  # the units of scenarios.run.HEADLINE


def _unit_kind(unit: str) -> str:
    return UNIT_KINDS[unit]  # a new unit must be given a format here, not shown as money by default
