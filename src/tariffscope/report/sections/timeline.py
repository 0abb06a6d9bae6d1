"""The brief section on the tariff timeline: weighted statutory rate by authority, the realized rate, legal dates."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from tariffscope import api
from tariffscope.codes.countries import group_members  # reference data, not the warehouse
from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt, svgcharts as svg
from tariffscope.report.sections._common import Chart, Context, Section, Table, month_ticks, period_x, x_label_month
from tariffscope.tariffs.vocabulary import authority_label  # the one table of labels

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.tariffs.measures import Measure

def timeline_section(ctx: Context) -> Section:
    s = Section("timeline", f"Tariffs on goods from {ctx.partner_name}: statutory and realized")
    start = dt.date(2025, 1, 1)  # the measure catalogue's coverage starts here; 2024 was MFN only
    end = min(max(ctx.as_of, dt.date(2025, 1, 31)), last_covered_day())
    res = api.etr_series(ctx.partner, start=start.isoformat(), end=end.isoformat(), by="authority", con=ctx.con)
    s.data["etr_series"] = res.to_dict()
    s.sources.append({"source": res.weights_source, "title": "trade weights of the statutory rate", "vintage": res.weights_period})
    s.sources.append({"source": "tariffscope measure catalogue", "title": "US tariff measures with Chapter 99 headings and legal dates",
                      "vintage": res.catalogue_version})
    revs = res.hts_revisions
    if revs:
        s.sources.append({"source": "USITC HTS", "title": "Harmonized Tariff Schedule revisions in force", "vintage": f"{revs[0]} .. {revs[-1]}"})
    rows = res.series
    xs = [period_x(r["date"]) for r in rows]
    total = [float(r["etr"]) for r in rows]
    stacked: dict[str, list[float]] = {}
    for i, r in enumerate(rows):
        for b in r["by"]:
            stacked.setdefault(str(b["key"]), [0.0] * len(rows))[i] = float(b["contribution"])
    stacked = {k: v for k, v in stacked.items() if max(v, default=0) > 1e-6}
    series: list[dict[str, Any]] = [{"name": "Weighted statutory rate", "x": xs, "y": total, "color": "#222"}]
    realized: list[dict] = []
    try:
        realized = api.statutory_vs_realized(ctx.partner, start="2024-01", end=f"{min(end, realized_through(ctx.con)):%Y-%m}", con=ctx.con)
        s.data["statutory_vs_realized"] = realized
        s.sources.append({"source": "census_japan_monthly_totals", "title": "Census calculated duty and imports for consumption, monthly"})
    except TariffscopeError as exc:  # e.g. no monthly calculated duty loaded for this partner: the statutory rate still shows
        s.notes.append(f"Realized rate: {exc}")
    real_pts = [r for r in realized if r["realized"] is not None]
    if real_pts:
        series.append({"name": "Realized duty rate (calculated duty / imports)", "x": [period_x(r["month"]) + 1 / 24 for r in real_pts],
                       "y": [float(r["realized"]) for r in real_pts], "color": svg.PALETTE[3]})
    key_dates = _key_dates(ctx, start, end, s)
    all_x = [x for line in series for x in line["x"]]
    if xs:
        s.charts.append(Chart(svg.lines(series, title=f"US tariffs on goods from {ctx.partner_name}: weighted statutory and realized rates",
                                        y_fmt=lambda v: fmt.pct(v, 0), x_label=x_label_month, x_ticks=month_ticks(min(all_x), max(all_x), 3),
                                        markers=_grouped_markers(key_dates),
                                        stacked=[{"name": authority_label(k), "x": xs, "y": v} for k, v in stacked.items()]),
                              caption="Shaded areas: each authority's contribution to the weighted statutory rate (2024 import weights); "
                                      "dark line: their total; red: the realized rate each month; numbered lines: the legal dates listed below."))
    if key_dates:
        s.tables.append(Table(["#", "Legal date", "Measure", "Chapter 99"], [[str(i + 1), d, t, h] for i, (d, t, h) in enumerate(key_dates)],
                              caption=f"Key legal dates for goods from {ctx.partner_name}", align=list("rnll")))
    if realized:
        s.tables.append(Table(["Month", "Statutory (that month's mix)", "Realized", "Gap (points)"],
                              [[r["month"], fmt.pct(r["statutory"], 2), fmt.pct(r["realized"], 2),
                                fmt.pct(r["gap"], 2, signed=True) if r["gap"] is not None else ""] for r in realized],
                              caption="Statutory vs realized duty rate, month by month", align=list("lrrr")))
        if real_pts:
            r = real_pts[-1]
            line = (f"In {x_label_month(period_x(r['month']))} goods from {ctx.partner_name} paid {fmt.pct(r['realized'], 1)} in duties on average "
                    f"(Census calculated duty over imports for consumption), against {fmt.pct(r['statutory'], 1)} that the statutory rates "
                    f"would give on that month's mix of goods; "
                    f"in {x_label_month(period_x(real_pts[0]['month']))} the realized rate was {fmt.pct(real_pts[0]['realized'], 1)}.")
            s.sentences.append(line)
            s.headline.append(line)
    if rows:
        by_date = {r["date"]: r["etr"] for r in rows}
        picks = [d for d in ("2025-01-01", "2025-04-10", "2025-06-15", "2025-10-01", end.isoformat()) if d in by_date]
        if picks:
            # 2024 import weights, unlike the realized comparison's monthly mix: say so, or two rates for one month disagree unexplained
            s.sentences.append("At 2024 import weights, the trade-weighted statutory rate on goods from " + ctx.partner_name + " was " +
                               ", ".join(f"{fmt.pct(by_date[d], 1)} on {d}" for d in dict.fromkeys(picks)) + ".")
    return s


def _grouped_markers(key_dates: list[tuple[str, str, str]]) -> list[tuple[float, str]]:
    """One marker per legal date, labelled with the numbers of the measures that start on it."""
    by_day: dict[str, list[str]] = {}
    for i, (day, _, _) in enumerate(key_dates):
        by_day.setdefault(day, []).append(str(i + 1))
    return [(period_x(day), ",".join(nums)) for day, nums in by_day.items()]


def _key_dates(ctx: Context, start: dt.date, end: dt.date, s: Section) -> list[tuple[str, str, str]]:
    """(date, title, headings) of catalogue measures that reach the partner's goods, within the window."""
    try:
        cat = api.measures()
    except TariffscopeError as exc:
        s.notes.append(f"Measure dates: {exc}")
        return []
    out = []
    for m in cat.measures:
        if not reaches(m, ctx.partner):
            continue
        day = (m.effective_from_legal or m.effective_from).isoformat()  # the legal date when it differs from the entry date
        if start.isoformat() <= day <= end.isoformat():
            out.append((day, m.title, ", ".join(m.headings)))
    out.sort()
    return out  # every dated event in the window: a cut list lost 2025's later deals and Section 232 actions


def realized_through(con: Any) -> dt.date:
    """The last day of the latest full calendar year of the realized duty series (Census monthly totals) in
    the warehouse: the default date a brief or page describes, from the data rather than a literal."""
    from tariffscope.tariffs.coverage import data_coverage

    month = data_coverage(con).latest_month("census_japan_monthly_totals")
    year = int(month[:4])
    return dt.date(year if month.endswith("-12") else year - 1, 12, 31)


def last_covered_day() -> dt.date:
    """The last day the measure catalogue speaks for (its coverage ends the day after)."""
    return api.measures().coverage[1] - dt.timedelta(days=1)


def reaches(measure: Measure, iso3: str) -> bool:
    """Whether a catalogue measure's origin scope includes ``iso3`` (directly, through 'all' or EU27)."""
    inc = {x.upper() for x in measure.origins.include}
    exc = {x.upper() for x in measure.origins.exclude}
    groups = {iso3} | ({"EU27"} if iso3 in group_members("EU27") else set())
    return not (groups & exc) and bool(groups & inc or "ALL" in inc)
