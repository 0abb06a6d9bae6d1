"""The brief's sections: each one calls ``tariffscope.api``, and turns the result into sentences,
tables and inline SVG charts. Presentation only: no warehouse, no models.

A section whose API is missing from this build says so plainly ("not available in this build");
a section whose API raises says what went wrong. Nothing is ever filled with placeholder numbers.
"""
from __future__ import annotations

import dataclasses
import inspect
import datetime as dt
import math
from pathlib import Path
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tariffscope import api
from tariffscope.errors import TariffscopeError
from tariffscope.report import fmt
from tariffscope.report import svgcharts as svg

NOT_AVAILABLE = "not available in this build"


class SectionUnavailable(Exception):
    """Raised inside a section builder when the API it needs is not in this build."""


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    align: list[str] = field(default_factory=list)  # 'l' | 'r' (numbers, right) | 'n' (no wrap, left) per column
    total_row: bool = False  # the last row is a total (set in bold)


@dataclass
class Chart:
    svg: str
    caption: str = ""


@dataclass
class Section:
    key: str
    title: str
    status: str = "ok"  # ok | unavailable | error
    message: str = ""
    sentences: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # the raw API output used (tests compare against it)
    headline: list[str] = field(default_factory=list)  # plain sentences promoted to the top of the brief


@dataclass
class Context:
    partner: str
    partner_name: str
    as_of: dt.date
    draws: int = 50
    seed: int = 20250709
    period: str | None = None  # the balance period when the caller picks one (web Balance page)
    mpl_charts: bool = False  # the brief reuses the areas' matplotlib charts; the web app draws light SVG itself
    con: Any = None  # an open warehouse connection handed to API functions that take ``con=`` (the web app's is read-only)


# ---------------------------------------------------------------------------------------------
# helpers to read API results of any shape (dataclass, pydantic, dict) as plain dicts

def getattr_api(name: str) -> Callable[..., Any] | None:
    fn = getattr(api, name, None)
    return fn if callable(fn) else None


def need(name: str) -> Callable[..., Any]:
    fn = getattr(api, name, None)
    if fn is None or not callable(fn):
        raise SectionUnavailable(f"tariffscope.api.{name} is not part of it")
    return fn


def accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def call(ctx: "Context | None", name: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``tariffscope.api.<name>``, handing it the context's connection when it takes one."""
    fn = need(name)
    if ctx is not None and ctx.con is not None and accepts(fn, "con"):
        kwargs["con"] = ctx.con
    for hint in HINTS:  # presentation preferences a function may not take
        if hint in kwargs and not accepts(fn, hint):
            kwargs.pop(hint)
    return fn(*args, **{k: v for k, v in kwargs.items() if v is not None or k == "con"})


HINTS = ("progress", "backend")


def as_dict(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [as_dict(v) for v in obj]
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        try:
            return as_dict(obj.to_dict())
        except TypeError:
            pass
    if hasattr(obj, "model_dump"):
        return as_dict(obj.model_dump(mode="json"))
    if dataclasses.is_dataclass(obj):
        return as_dict(dataclasses.asdict(obj))
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalar
        return obj.item()
    return obj


def get(d: Any, *names: str, default: Any = None) -> Any:
    """The first present, non-None key among ``names`` (results name things slightly differently)."""
    if not isinstance(d, dict):
        return default
    for n in names:
        if n in d and d[n] is not None:
            return d[n]
    return default


def norm_sources(raw: Any) -> list[dict]:
    """Sources as dicts with at least 'source'; accepts strings, dicts, or nested lists."""
    out: list[dict] = []
    if raw is None:
        return out
    if isinstance(raw, (str, dict)):
        raw = [raw]
    for s in raw:
        s = as_dict(s)
        if isinstance(s, str):
            out.append({"source": s})
        elif isinstance(s, dict):
            d = dict(s)
            d.setdefault("source", get(d, "id", "name", "title", default="(unnamed)"))
            if not d.get("title") and d.get("what"):
                d["title"] = d["what"]
            out.append(d)
    return out


def source_line(sources: Iterable[dict]) -> str:
    parts = []
    for s in sources:
        label = s.get("title") or s.get("source")
        bits = [str(label)]
        if s.get("title") and s.get("source") and s["source"] != s["title"]:
            bits.append(f"[{s['source']}]")
        if s.get("vintage"):
            bits.append(f"vintage {s['vintage']}")
        parts.append(" ".join(bits))
    return "; ".join(dict.fromkeys(parts))


def period_x(period: str) -> float:
    """'2025-06' -> 2025.4167, '2025-06-15' -> fractional year; charts use years as x."""
    p = str(period)
    if len(p) == 4:
        return float(p)
    d = dt.date.fromisoformat(p + "-01" if len(p) == 7 else p[:10])
    start = dt.date(d.year, 1, 1)
    days = (dt.date(d.year + 1, 1, 1) - start).days
    return d.year + (d - start).days / days


def x_label_month(x: float) -> str:
    year = int(math.floor(x + 1e-9))
    month = int(round((x - year) * 12)) + 1
    if month > 12:
        year, month = year + 1, 1
    return f"{dt.date(year, month, 1):%b %Y}"


def month_ticks(x0: float, x1: float, every: int = 3) -> list[float]:
    out, y = [], int(math.floor(x0))
    while y <= x1:
        for m in range(0, 12, every):
            t = y + m / 12
            if x0 - 1e-9 <= t <= x1 + 1e-9:
                out.append(t)
        y += 1
    return out


def partner_name(code: str) -> tuple[str, str]:
    """(ISO3, name) through the API's country resolver when the build has one."""
    for name in ("resolve_country", "country"):
        fn = getattr(api, name, None)
        if callable(fn):
            c = fn(code)
            return getattr(c, "iso3", code), getattr(c, "name", code)
    try:
        from tariffscope.codes.countries import resolve_country  # codes are reference data, not the warehouse

        c = resolve_country(code)
        return c.iso3, c.name
    except ImportError:
        return code.upper(), code.upper()


# ---------------------------------------------------------------------------------------------
# section builders: (Context) -> Section

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


def sector_label(code: Any) -> str:
    """'passenger_vehicles' -> 'Passenger vehicles'; HS codes and labelled rows pass through."""
    text = str(code)
    if "_" in text and " " not in text:
        text = text.replace("_", " ")
    return text[:1].upper() + text[1:]


def _area_chart(ctx: Context, module: str, func: str, *args: Any) -> str | None:
    """An SVG from another area's matplotlib chart function, when the brief asks for them and they run."""
    if not ctx.mpl_charts:
        return None
    try:
        import importlib

        from tariffscope.report.embed import figure_svg

        return figure_svg(getattr(importlib.import_module(f"tariffscope.report.{module}"), func)(*args))
    except (ImportError, AttributeError, KeyError, TypeError, ValueError):
        return None


def _is_auto(name: str) -> bool:
    n = name.lower().replace("_", " ")
    return any(k in n for k in ("passenger vehicle", "light truck", "automobile part", "auto part"))


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


AUTHORITY_LABELS = {"mfn": "MFN (column 1)", "s232": "Section 232", "232": "Section 232", "ieepa_reciprocal": "IEEPA reciprocal",
                    "reciprocal": "IEEPA reciprocal", "ieepa_fentanyl": "IEEPA fentanyl", "fentanyl": "IEEPA fentanyl",
                    "s301": "Section 301", "301": "Section 301", "s201": "Section 201", "201": "Section 201", "s122": "Section 122", "122": "Section 122"}


def authority_label(key: str) -> str:
    return AUTHORITY_LABELS.get(str(key), str(key).replace("_", " "))


def timeline_section(ctx: Context) -> Section:
    s = Section("timeline", f"Tariffs on goods from {ctx.partner_name}: statutory and realized")
    need("etr_series")
    start = dt.date(2025, 1, 1)  # the measure catalogue's coverage starts here; 2024 was MFN only
    end = min(max(ctx.as_of, dt.date(2025, 1, 31)), dt.date(2026, 6, 30))
    res = as_dict(call(ctx, "etr_series", ctx.partner, start=start.isoformat(), end=end.isoformat(), by="authority"))
    s.data["etr_series"] = res
    weights = str(get(res, "weights", default="import weights"))
    s.sources.append({"source": weights.split(" (")[0], "title": "trade weights of the statutory rate",
                      "vintage": weights.split(" (", 1)[1].rstrip(")") if " (" in weights else None})
    s.sources.append({"source": "tariffscope measure catalogue", "title": "US tariff measures with Chapter 99 headings and legal dates",
                      "vintage": str(get(res, "catalogue_version", default=""))})
    revs = get(res, "hts_revisions", default=[]) or []
    if revs:
        s.sources.append({"source": "USITC HTS", "title": "Harmonized Tariff Schedule revisions in force", "vintage": f"{revs[0]} .. {revs[-1]}"})
    rows = get(res, "series", default=[]) or []
    xs = [period_x(r["date"]) for r in rows]
    total = [float(r["etr"]) for r in rows]
    stacked: dict[str, list[float]] = {}
    for i, r in enumerate(rows):
        for b in r.get("by") or []:
            stacked.setdefault(str(get(b, "key", "authority")), [0.0] * len(rows))[i] = float(get(b, "contribution", "etr", default=0.0))
    stacked = {k: v for k, v in stacked.items() if max(v, default=0) > 1e-6}
    series = [{"name": "Weighted statutory rate", "x": xs, "y": total, "color": "#222"}]
    realized: list[dict] = []
    if getattr_api("statutory_vs_realized"):
        try:
            realized = as_dict(call(ctx, "statutory_vs_realized", ctx.partner, start="2024-01", end=f"{min(end, dt.date(2025, 12, 31)):%Y-%m}")) or []
            s.data["statutory_vs_realized"] = realized
            s.sources.append({"source": "census_japan_monthly_totals", "title": "Census calculated duty and imports for consumption, monthly"})
        except TariffscopeError as exc:
            s.notes.append(f"Realized rate: {exc}")
    else:
        s.notes.append(f"The realized duty rate (api.statutory_vs_realized) is {NOT_AVAILABLE}.")
    real_pts = [r for r in realized if r.get("realized") is not None]
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
                              [[r["month"], fmt.pct(r.get("statutory"), 2), fmt.pct(r.get("realized"), 2),
                                fmt.pct(r.get("gap"), 2, signed=True) if r.get("gap") is not None else ""] for r in realized],
                              caption="Statutory vs realized duty rate, month by month", align=list("lrrr")))
        if real_pts:
            r = real_pts[-1]
            line = (f"In {x_label_month(period_x(r['month']))} goods from {ctx.partner_name} paid {fmt.pct(r['realized'], 1)} in duties on average "
                    f"(Census calculated duty over imports for consumption), against a trade-weighted statutory rate of {fmt.pct(r.get('statutory'), 1)}; "
                    f"in {x_label_month(period_x(real_pts[0]['month']))} the realized rate was {fmt.pct(real_pts[0]['realized'], 1)}.")
            s.sentences.append(line)
            s.headline.append(line)
    if rows:
        by_date = {r["date"]: r["etr"] for r in rows}
        picks = [d for d in ("2025-01-01", "2025-04-10", "2025-06-15", "2025-10-01", end.isoformat()) if d in by_date]
        if picks:
            s.sentences.append("The trade-weighted statutory rate on goods from " + ctx.partner_name + " was " +
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
    if not getattr_api("measures"):
        return []
    try:
        cat = call(ctx, "measures")
    except TariffscopeError as exc:
        s.notes.append(f"Measure dates: {exc}")
        return []
    out = []
    for m in getattr(cat, "measures", None) or get(as_dict(cat), "measures", default=[]) or []:
        m = as_dict(m)
        if not reaches(m, ctx.partner):
            continue
        day = str(get(m, "effective_from_legal", "effective_from", default=""))[:10]
        if day and start.isoformat() <= day <= end.isoformat():
            out.append((day, str(get(m, "title", "id")), ", ".join(get(m, "headings", default=[]) or [])))
    out.sort()
    return out[:14]


def _eu27() -> set[str]:
    try:
        from tariffscope.codes.countries import group_members  # reference data, not the warehouse

        return set(group_members("EU27"))
    except ImportError:
        return set()


def reaches(measure: dict, iso3: str) -> bool:
    """Whether a catalogue measure's origin scope includes ``iso3`` (directly, through 'all' or EU27)."""
    origins = get(measure, "origins", default={}) or {}
    inc = {str(x).upper() for x in origins.get("include", [])}
    exc = {str(x).upper() for x in origins.get("exclude", [])}
    groups = {iso3} | ({"EU27"} if iso3 in _eu27() else set())
    return not (groups & exc) and bool(groups & inc or "ALL" in inc)


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


GE_SPECS = {"JPN": "us_tariffs_2025_japan.yaml"}  # package data/ge/: data, coefficients and model options of the experiment
GE_BASE_DATE = "2025-01-01"


def ge_section(ctx: Context) -> Section:
    """The GE experiment shipped in data/ge/ for the partner, with its US tariff rates computed in this run by the engine."""
    import tempfile

    import yaml

    from tariffscope import config

    s = Section("ge", f"General equilibrium: the 2025 US tariffs on {ctx.partner_name} across 69 economies")
    need("ge_simulate")
    need("etr")
    name = GE_SPECS.get(ctx.partner)
    path = config.PACKAGE_DIR / "data" / "ge" / name if name else None
    if path is None or not path.is_file():
        raise SectionUnavailable(f"no GE experiment for {ctx.partner_name} is shipped with it")
    spec = yaml.safe_load(path.read_text())
    date = min(ctx.as_of, dt.date(2026, 6, 30)).isoformat()
    r0 = as_dict(call(ctx, "etr", ctx.partner, date=GE_BASE_DATE))
    r1 = as_dict(call(ctx, "etr", ctx.partner, date=date))
    spec["changes"] = [{"tariff": "ad_valorem", "importer": "USA", "exporters": [ctx.partner],
                        "base_rate": float(r0["etr"]), "rate": float(r1["etr"])}]
    spec["rates_source"] = (f"tariff engine in this run (tariffscope.api.etr, {r1.get('weights', '')}, catalogue {r1.get('catalogue_version', '')}): "
                            f"{GE_BASE_DATE} -> {date}")
    with tempfile.TemporaryDirectory(prefix="tariffscope-brief-ge-") as tmp:
        spec_path = Path(tmp) / path.name
        spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
        res = as_dict(call(ctx, "ge_simulate", str(spec_path)))
    s.data = res
    s.data["rates"] = {"base_date": GE_BASE_DATE, "base_rate": r0["etr"], "date": date, "rate": r1["etr"]}
    data = spec.get("data", {})
    s.sources = [{"source": "advanced_guide_2016", "title": str(data.get("label") or data.get("path")), "vintage": f"base year {data.get('year', '')}"},
                 {"source": "tariffscope.api.etr", "title": "US trade-weighted tariff on the partner, from the engine", "vintage": str(r1.get("catalogue_version", ""))}]
    countries = {c["country"]: c for c in get(res, "countries", default=[]) or []}
    if not countries:
        raise TariffscopeError("the GE experiment returned no country results")
    focus = [c for c in ("USA", ctx.partner) if c in countries]
    others = sorted((c for c in countries if c not in focus), key=lambda c: -abs(countries[c].get("real_gdp_change_pct") or 0))[:8]
    cols = [("real_gdp_change_pct", "Real GDP"), ("welfare_change_pct", "Welfare"), ("exports_change_pct", "Exports"),
            ("imports_change_pct", "Imports"), ("output_change_pct", "Output"), ("factory_price_change_pct", "Factory-gate price")]
    cols = [(k, lab) for k, lab in cols if any(k in c for c in countries.values())]
    s.tables.append(Table(["Economy"] + [lab + " %" for _, lab in cols],
                          [[c] + [fmt.num(countries[c].get(k), 3) for k, _ in cols] for c in focus + others],
                          caption=f"Percent change from the baseline: {ctx.partner_name} and the United States, then the largest other effects",
                          align=["l"] + ["r"] * len(cols)))
    usa, par = countries.get("USA", {}), countries.get(ctx.partner, {})
    s.sentences.append(
        f"Raising the US tariff on goods from {ctx.partner_name} from {fmt.pct(r0['etr'], 1)} to {fmt.pct(r1['etr'], 1)} (the engine's trade-weighted "
        f"rates on {GE_BASE_DATE} and {date}) changes {ctx.partner_name}'s real GDP by {fmt.num(par.get('real_gdp_change_pct'), 3)}% and US real GDP by "
        f"{fmt.num(usa.get('real_gdp_change_pct'), 3)}% in the structural gravity model (tariff revenue kept by the US).")
    s.notes.append(str(spec.get("description", "")))
    s.notes.extend(str(n) for n in get(res, "notes", default=[]) or [])
    diag = get(res, "diagnostics", default={}) or {}
    if diag:
        s.notes.append("Solver: " + ", ".join(f"{k.replace('_', ' ')} {v:.3g}" if isinstance(v, float) else f"{k.replace('_', ' ')} {v}"
                                              for k, v in diag.items() if not isinstance(v, (list, dict))))
    s.data["assumptions"] = [f"GE: {data.get('label', '')}; trade elasticity sigma = {spec.get('model', {}).get('sigma')}; "
                             "trade imbalances held fixed; no retaliation; the flows are the base year's, not 2024's."]
    return s


def methods_section(ctx: Context, sections: Sequence[Section]) -> Section:
    s = Section("methods", "Methods and sources")
    seen: dict[str, dict] = {}
    for sec in sections:
        for src in sec.sources:
            key = str(src.get("source"))
            seen.setdefault(key, {}).update({k: v for k, v in src.items() if v})
    status = getattr(api, "data_status", None)
    if callable(status):
        try:
            st = as_dict(status())
            s.data["data_status"] = st
            for src in norm_sources(get(st, "sources", default=[])):
                key = str(src.get("source"))
                if key in seen:
                    for k, v in src.items():
                        seen[key].setdefault(k, v)
        except TariffscopeError as exc:
            s.notes.append(f"data status: {exc}")
    rows = [[k, str(v.get("title", "")), str(v.get("publisher", "") or ""), str(v.get("vintage", "") or "")] for k, v in sorted(seen.items())]
    if rows:
        s.tables.append(Table(["Source id", "What", "Publisher", "Vintage"], rows, caption="Every data source behind a figure in this brief", align=list("llll")))
    else:
        s.sentences.append("No section of this build returned sources.")
    for sec in sections:
        for a in get(sec.data, "assumptions", default=[]) if isinstance(sec.data, dict) else []:
            s.notes.append(f"{sec.title}: {a}")
    s.notes.append("Money is in current US dollars; rates are trade-weighted with 2024 import weights unless stated; "
                   "the realized rate is Census calculated duty divided by imports for consumption.")
    s.data["sources"] = seen
    return s


BUILDERS: list[tuple[str, str, Callable[[Context], Section]]] = [
    ("balance", "Bilateral balance by sector", balance_section),
    ("monitor", "Monthly monitor", monitor_section),
    ("timeline", "Tariff timeline", timeline_section),
    ("duty", "Worked duty examples", duty_section),
    ("scenarios", "Scenario comparison", scenarios_section),
    ("ge", "General equilibrium", ge_section),
]


def run_builder(key: str, title: str, builder: Callable[[Context], Section], ctx: Context) -> Section:
    """Run one section; a missing API or a user-level error becomes a plain message, never numbers."""
    try:
        return builder(ctx)
    except SectionUnavailable as exc:
        return Section(key, title, status="unavailable", message=f"Not available in this build: {exc}.")
    except TariffscopeError as exc:
        return Section(key, title, status="error", message=f"Could not be computed in this run: {exc}")
    except Exception as exc:  # a defect in one area must not lose the rest of the brief; say what broke
        return Section(key, title, status="error", message=f"Could not be computed in this run ({type(exc).__name__}: {exc}).")
