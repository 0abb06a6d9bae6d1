"""The brief section on the tariff timeline: weighted statutory rate by authority, the realized rate, legal dates."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tariffscope import api
from tariffscope.codes.countries import group_members  # reference data, not the warehouse
from tariffscope.codes.sectors import SECTORS, sector_map_table, sector_of
from tariffscope.errors import InputError, TariffscopeError
from tariffscope.report import fmt, svgcharts as svg
from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    Table,
    month_ticks,
    period_x,
    sector_label,
    x_label_month,
)
from tariffscope.tariffs.vocabulary import AUTHORITIES, AUTHORITY_OF_BUCKET, authority_label  # the one table of labels

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.tariffs.measures import Measure

TIMELINE_START = dt.date(2025, 1, 1)  # the measure catalogue's coverage starts here; 2024 was MFN only
# Authorities a timeline can be filtered by: those with a column of their own in the rates (a deal is shown
# under the authority it replaces).
FILTER_AUTHORITIES: tuple[str, ...] = tuple(a for a in AUTHORITIES if a != "deal")

# the catalogue is this project's own reading of the law: say so, and where it comes from
CATALOGUE_PUBLISHER = "tariffscope (from the HTS Chapter 99 notes and the Federal Register documents it cites)"


@dataclass(frozen=True)
class TimelineView:
    """What the web page's controls choose; the brief uses the defaults (every authority and sector from
    2025-01-01 through its date). ``on``: a day whose rate is broken down in a table of its own."""

    start: dt.date | None = None
    authority: str | None = None
    sector: str | None = None
    on: dt.date | None = None

    def check(self, end: dt.date) -> None:
        """InputError for a filter the data cannot answer (a range ending before it starts, unknown names)."""
        if self.start is not None and not TIMELINE_START <= self.start <= end:
            raise InputError(f"from must be between {TIMELINE_START} and {end}, got {self.start}")
        if self.on is not None and not TIMELINE_START <= self.on <= last_covered_day():
            raise InputError(f"on must be between {TIMELINE_START} and {last_covered_day()}, got {self.on}")
        if self.authority is not None and self.authority not in FILTER_AUTHORITIES:
            raise InputError(f"authority must be one of {', '.join(FILTER_AUTHORITIES)}, got {self.authority[:40]!r}")
        if self.sector is not None and self.sector not in SECTORS:
            raise InputError(f"unknown sector {self.sector[:40]!r}; sectors: {', '.join(SECTORS)}")
        if self.authority is not None and self.sector is not None:
            raise InputError("choose an authority or a sector, not both (the rates are split one way at a time)")


def timeline_section(ctx: Context, view: TimelineView | None = None) -> Section:
    v = view or TimelineView()
    if v.authority or v.sector:
        what = authority_label(v.authority) if v.authority else f"{sector_label(v.sector or '').lower()} goods"
        s = Section("timeline", f"Tariffs on goods from {ctx.partner_name}: {what}")
    else:
        s = Section("timeline", f"Tariffs on goods from {ctx.partner_name}: statutory and realized")
    end = min(max(ctx.as_of, dt.date(2025, 1, 31)), last_covered_day())
    v.check(end)
    start = v.start or TIMELINE_START
    if v.sector or v.authority:
        _filtered(s, ctx, v, start, end)
        return s
    res = api.etr_series(ctx.partner, start=start.isoformat(), end=end.isoformat(), by="authority", con=ctx.con)
    s.data["etr_series"] = res.to_dict()
    s.sources.append({"source": res.weights_source, "title": "trade weights of the statutory rate", "vintage": res.weights_period})
    s.sources.append({"source": "tariffscope measure catalogue", "title": "US tariff measures with Chapter 99 headings and legal dates",
                      "publisher": CATALOGUE_PUBLISHER,
                      "vintage": res.catalogue_version})
    revs = res.hts_revisions
    if revs:
        s.sources.append({"source": "usitc_hts", "title": "Harmonized Tariff Schedule revisions in force",
                          "publisher": "US International Trade Commission (Harmonized Tariff Schedule)", "vintage": f"{revs[0]} .. {revs[-1]}"})
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
    if v.on is not None:
        _rate_on(s, ctx, v)
    return s


def _filtered(s: Section, ctx: Context, v: TimelineView, start: dt.date, end: dt.date) -> None:
    """The timeline of one authority's add-on (its part of the weighted rate) or of one sector's goods (their
    weighted rate), with the legal dates of the measures of that authority or reaching that sector."""
    by = "sector" if v.sector else "authority"
    key = v.sector or v.authority
    res = api.etr_series(ctx.partner, start=start.isoformat(), end=end.isoformat(), by=by, con=ctx.con)
    s.data["etr_series"] = res.to_dict()
    s.data["filter"] = {"authority": v.authority, "sector": v.sector}
    s.sources.append({"source": res.weights_source, "title": "trade weights of the statutory rate", "vintage": res.weights_period})
    s.sources.append({"source": "tariffscope measure catalogue", "title": "US tariff measures with Chapter 99 headings and legal dates",
                      "publisher": CATALOGUE_PUBLISHER,
                      "vintage": res.catalogue_version})
    rows = res.series
    # by authority: the authority's contribution to the weighted rate; by sector: the sector's own weighted rate
    pick = "etr" if v.sector else "contribution"
    ys = [next((float(b[pick]) for b in r["by"] if str(b["key"]) == key), 0.0) for r in rows]
    xs = [period_x(r["date"]) for r in rows]
    if v.sector:
        name = f"Weighted statutory rate on {sector_label(key or '').lower()} goods"
        caption = (f"The trade-weighted statutory rate on the partner's {sector_label(key or '').lower()} goods (2024 import weights "
                   "within the sector); numbered lines: the legal dates listed below.")
    else:
        name = f"{authority_label(key or '')} part of the weighted statutory rate"
        caption = (f"The {authority_label(key or '')} add-on's contribution to the trade-weighted statutory rate on all goods from "
                   "the partner (2024 import weights); numbered lines: the legal dates listed below.")
    key_dates = _key_dates(ctx, start, end, s, v)
    if xs:
        s.charts.append(Chart(svg.lines([{"name": name, "x": xs, "y": ys, "color": "#222"}],
                                        title=f"US tariffs on goods from {ctx.partner_name}: {name.lower()}",
                                        y_fmt=lambda y: fmt.pct(y, 0), x_label=x_label_month, x_ticks=month_ticks(min(xs), max(xs), 3),
                                        markers=_grouped_markers(key_dates)), caption=caption))
    if key_dates:
        s.tables.append(Table(["#", "Legal date", "Measure", "Chapter 99"], [[str(i + 1), d, t, h] for i, (d, t, h) in enumerate(key_dates)],
                              caption=f"Key legal dates for goods from {ctx.partner_name}: "
                                      f"{authority_label(key or '') if v.authority else sector_label(key or '').lower() + ' goods'}",
                              align=list("rnll")))
    if rows:
        what = (f"The trade-weighted statutory rate on {sector_label(key or '').lower()} goods from {ctx.partner_name}" if v.sector else
                f"The {authority_label(key or '')} part of the trade-weighted statutory rate on goods from {ctx.partner_name}")
        s.sentences.append(f"{what} was {fmt.pct(ys[0], 1)} on {rows[0]['date']} and {fmt.pct(ys[-1], 1)} on {rows[-1]['date']} "
                           "(2024 import weights).")
    s.notes.append("The realized duty rate (Census calculated duty) covers all goods and every authority together, so it is "
                   "shown only on the unfiltered timeline.")
    if v.on is not None:
        _rate_on(s, ctx, v)


def _rate_on(s: Section, ctx: Context, v: TimelineView) -> None:
    """The weighted statutory rate on the chosen day, split by authority (or by sector when one is chosen)."""
    assert v.on is not None  # callers check
    day = v.on.isoformat()
    by = "sector" if v.sector else "authority"
    r = api.etr(ctx.partner, date=day, by=by, con=ctx.con).to_dict()
    s.data["etr_on"] = r
    parts = [b for b in r["by"] if abs(float(b["contribution"])) > 1e-9 or (v.sector and b["key"] == v.sector)]
    if by == "authority":
        rows = [[authority_label(str(b["key"])), fmt.pct(b["contribution"], 2)] for b in parts]
        cols = ["Authority", "Contribution"]
        align = list("lr")
    else:
        parts = sorted(parts, key=lambda b: -float(b["contribution"]))
        rows = [[sector_label(str(b["key"])) + (" (chosen)" if b["key"] == v.sector else ""), fmt.pct(b["etr"], 2),
                 fmt.pct(b["weight_share"], 1), fmt.pct(b["contribution"], 2)] for b in parts]
        cols = ["Sector", "Rate", "Share of 2024 imports", "Contribution"]
        align = list("lrrr")
    rows.append(["All goods"] + [""] * (len(cols) - 2) + [fmt.pct(r["etr"], 2)])
    s.tables.insert(0, Table(cols, rows, caption=f"The trade-weighted statutory rate on goods from {ctx.partner_name} on {day}, "
                                                 f"by {by} (2024 import weights; catalogue {r['catalogue_version']})",
                             align=align, total_row=True))
    line = f"On {day} the trade-weighted statutory rate on goods from {ctx.partner_name} was {fmt.pct(r['etr'], 1)}"
    if v.authority:
        part = next((float(b["contribution"]) for b in r["by"] if b["key"] == v.authority), 0.0)
        line += f", of which {authority_label(v.authority)} {fmt.pct(part, 1)}"
    elif v.sector:
        mine = next((b for b in r["by"] if b["key"] == v.sector), None)
        if mine is not None:
            line += f"; on its {sector_label(v.sector).lower()} goods {fmt.pct(mine['etr'], 1)}"
    s.sentences.insert(0, line + ".")


def _grouped_markers(key_dates: list[tuple[str, str, str]]) -> list[tuple[float, str]]:
    """One marker per legal date, labelled with the numbers of the measures that start on it."""
    by_day: dict[str, list[str]] = {}
    for i, (day, _, _) in enumerate(key_dates):
        by_day.setdefault(day, []).append(str(i + 1))
    return [(period_x(day), ",".join(nums)) for day, nums in by_day.items()]


def _key_dates(ctx: Context, start: dt.date, end: dt.date, s: Section, view: TimelineView | None = None) -> list[tuple[str, str, str]]:
    """(date, title, headings) of catalogue measures that reach the partner's goods, within the window (and of
    the view's authority, or reaching its sector)."""
    try:
        cat = api.measures()
    except TariffscopeError as exc:
        s.notes.append(f"Measure dates: {exc}")
        return []
    out = []
    for m in cat.measures:
        if not reaches(m, ctx.partner):
            continue
        if view is not None and view.authority and AUTHORITY_OF_BUCKET[m.bucket] != view.authority:
            continue
        if view is not None and view.sector and not touches_sector(m, view.sector):
            continue
        day = (m.effective_from_legal or m.effective_from).isoformat()  # the legal date when it differs from the entry date
        if start.isoformat() <= day <= end.isoformat():
            out.append((day, m.title, ", ".join(m.headings)))
    out.sort()
    return out  # every dated event in the window: a cut list lost 2025's later deals and Section 232 actions


def touches_sector(measure: Measure, sector: str) -> bool:
    """Whether a measure's product scope includes goods of ``sector`` (``codes.sectors``): a scope of every
    product does; a prefix does when it lies in the sector or the sector's prefixes lie under it."""
    inc, _ = measure.products_on(None)
    if "" in inc:
        return True
    mine = _sector_prefixes().get(sector, [])
    if sector == "other":  # the sector of everything the map leaves out: a prefix no mapped prefix covers
        return any(sector_of(p) == "other" for p in inc)
    return any(sector_of(p) == sector or any(q.startswith(p) for q in mine) for p in inc)


@functools.cache
def _sector_prefixes() -> dict[str, list[str]]:
    """The HS prefixes of each sector (``codes.sectors``' map)."""
    t = sector_map_table().to_pydict()
    out: dict[str, list[str]] = {}
    for p, sec in zip(t["prefix"], t["sector"], strict=True):
        out.setdefault(str(sec), []).append(str(p))
    return out


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
