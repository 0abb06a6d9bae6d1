"""What the web pages add to the API's results for analysts: downloads of every table and of the series every
chart draws (CSV/JSON at the page's own URL plus ``format=``), measure titles beside Chapter 99 headings, product
search results with their HTS path, and the sections of the formula and GE pages.

Presentation only: everything here reshapes results of ``tariffscope.api`` that the routes computed.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi.responses import JSONResponse, Response

from tariffscope import api
from tariffscope.errors import InputError, TariffscopeError
from tariffscope.report import fmt, sections as S, svgcharts as svg
from tariffscope.tariffs.vocabulary import authority_label

FORMATS = ("csv", "json")


class ChartDataMissing(TariffscopeError):
    """A chart download asked of a chart that does not carry its plotted series (a defect, not bad input)."""
_TITLE_RE = re.compile(r"aria-label='([^']*)'")


# ---------------------------------------------------------------- downloads
def page_sections(context: Mapping[str, Any]) -> list[S.Section]:
    """The sections a page shows, in page order: ``sections`` (overview), ``section``, and a lone ``table``
    (the duty page's layers) as a section of its own with the result as its data."""
    out: list[S.Section] = [s for s in context.get("sections") or [] if isinstance(s, S.Section)]
    if isinstance(context.get("section"), S.Section):
        out.append(context["section"])
    if isinstance(context.get("table"), S.Table):
        result = context.get("result") or {}
        out.append(S.Section(str(context.get("page") or "table"), "Duty layers", tables=[context["table"]], data=dict(result)))
    return [s for s in out if s.status == "ok"]


def _with_query(path: str, query: Mapping[str, str], **extra: str) -> str:
    params = {k: v for k, v in query.items() if k not in ("format", "table", "chart")}
    params.update(extra)
    return path + ("?" + urlencode(params) if params else "")


def download_links(path: str, query: Mapping[str, str], sections: Sequence[S.Section]) -> dict[int, dict[str, str]]:
    """``id(table or chart) -> {"csv": url, "json": url}``: every table and chart on the page, numbered in page order."""
    links: dict[int, dict[str, str]] = {}
    t = c = 0
    for s in sections:
        for table in s.tables:
            links[id(table)] = {f: _with_query(path, query, format=f, table=str(t)) for f in FORMATS}
            t += 1
        for chart in s.charts:
            links[id(chart)] = {f: _with_query(path, query, format=f, chart=str(c)) for f in FORMATS}
            c += 1
    return links


def table_dict(table: S.Table) -> dict[str, Any]:
    return {"caption": table.caption, "columns": list(table.columns), "rows": [list(r) for r in table.rows]}


def chart_title(chart: S.Chart) -> str:
    m = _TITLE_RE.search(chart.svg)
    return html.unescape(m.group(1)) if m else chart.caption  # the attribute is escaped; the download gives the text


def year_date(x: float) -> str:
    """The day a fractional-year x stands for (the inverse of ``report.sections.period_x``): the web's line
    charts plot time as fractional years, so their downloads name each point's date as well."""
    year = int(math.floor(x + 1e-9))
    days = (dt.date(year + 1, 1, 1) - dt.date(year, 1, 1)).days
    return (dt.date(year, 1, 1) + dt.timedelta(days=round((x - year) * days))).isoformat()


def chart_series(chart: S.Chart) -> dict[str, Any]:
    """The series a chart draws (``svgcharts.ChartSvg``), as the download gives them: ``series`` (each with its
    points, line points with their ``date``) and ``markers`` (dated lines); ChartDataMissing for a chart drawn
    otherwise."""
    drawn = getattr(chart.svg, "series", None)
    if drawn is None:
        raise ChartDataMissing("this chart does not carry its plotted series (it was not drawn by report.svgcharts)")
    series = []
    for s in drawn:
        out = {k: (list(v) if isinstance(v, list) else v) for k, v in s.items()}
        if s["kind"] in ("line", "area"):
            out["date"] = [year_date(x) for x in s["x"]]
        series.append(out)
    markers = [{**m, "date": year_date(m["x"])} for m in getattr(chart.svg, "markers", [])]
    return {"series": series, "markers": markers}


def series_rows(plotted: Mapping[str, Any], blank: Any = "") -> list[list[Any]]:
    """A chart's plotted series as one CSV: a header, then one row per drawn point (series, kind, x, the x as
    the axis shows it, the date for a time axis, y, y as the chart labels it, and low/high where whiskers are
    drawn), then the markers (kind "marker"); ``blank`` stands where a row has no value (n/a, no whisker)."""
    series, markers = plotted["series"], plotted["markers"]
    timed = any("date" in s for s in series)
    banded = any("low" in s for s in series)
    header = ["series", "kind", "x", "x_label", *(["date"] if timed else []), "y", "y_label", *(["low", "high"] if banded else [])]
    rows: list[list[Any]] = [header]
    for s in series:
        for i, x in enumerate(s["x"]):
            row = [s["name"], s["kind"], x, s["x_label"][i], *([s["date"][i]] if timed else []),
                   blank if s["y"][i] is None else s["y"][i], s["y_label"][i]]
            if banded:
                row += [blank if s.get("low") is None or s["low"][i] is None else s["low"][i],
                        blank if s.get("high") is None or s["high"][i] is None else s["high"][i]]
            rows.append(row)
    for m in markers:
        rows.append([m["label"], "marker", m["x"], m["label"], *([m["date"]] if timed else []), blank, blank, *([blank, blank] if banded else [])])
    return rows


def _csv(rows: list[list[Any]], filename: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _index(query: Mapping[str, str], key: str, count: int, what: str) -> int | None:
    text = query.get(key)
    if text is None:
        return None
    if not text.isdigit() or int(text) >= count:
        raise InputError(f"{key} must be the number of one of the page's {count} {what} (0-{max(count - 1, 0)}), got {text[:10]!r}")
    return int(text)


def download(page: str, query: Mapping[str, str], sections: Sequence[S.Section], link: str) -> Response:
    """The page's tables and chart data as CSV or JSON (``format``), one table or chart (``table=N`` /
    ``chart=N``, numbered in page order) or, in JSON, everything on the page."""
    form = query.get("format", "")
    if form not in FORMATS:
        raise InputError(f"format must be csv or json, got {form[:10]!r}")
    tables = [(s, t) for s in sections for t in s.tables]
    charts = [(s, c) for s in sections for c in s.charts]
    ti = _index(query, "table", len(tables), "tables")
    ci = _index(query, "chart", len(charts), "charts")
    if ti is not None:
        s, t = tables[ti]
        if form == "json":
            return JSONResponse({"page": page, "link": link, "section": s.title, **table_dict(t)})
        return _csv([list(t.columns), *[list(r) for r in t.rows]], f"{page}-table-{ti}.csv")
    if ci is not None:
        s, c = charts[ci]
        plotted = chart_series(c)
        if form == "json":
            rows = series_rows(plotted, blank=None)
            return JSONResponse({"page": page, "link": link, "section": s.title, "chart": chart_title(c), "caption": c.caption,
                                 **plotted, "columns": rows[0], "rows": rows[1:]})
        return _csv(series_rows(plotted), f"{page}-chart-{ci}.csv")
    if form == "csv":
        if not tables:
            raise InputError("this page shows no table to download")
        s, t = tables[0]
        return _csv([list(t.columns), *[list(r) for r in t.rows]], f"{page}-table-0.csv")
    return JSONResponse({"page": page, "link": link, "sections": [
        {"key": s.key, "title": s.title, "tables": [table_dict(t) for t in s.tables],
         "charts": [{"title": chart_title(c), "caption": c.caption, **chart_series(c)} for c in s.charts], "data": S.as_dict(s.data)}
        for s in sections]})


# ---------------------------------------------------------------- measure titles
@functools.cache
def measure_titles() -> dict[str, str]:
    """Catalogue measure id -> its title (the catalogue ships with the package and does not change while serving)."""
    return {m.id: m.title for m in api.measures().measures}


def measure_title(measure_id: str, authority: str) -> str:
    """The catalogue title of a measure; for a layer outside the catalogue (MFN), its authority's label."""
    return measure_titles().get(measure_id) or authority_label(authority)


def add_layer_titles(result: dict[str, Any]) -> dict[str, Any]:
    """A duty result (``DutyResult.to_dict()``) with ``title`` on every layer and excluded measure."""
    for layer in result.get("layers") or []:
        layer["title"] = measure_title(str(layer.get("measure_id", "")), str(layer.get("authority", "")))
    for e in result.get("rules_excluded") or []:
        e["title"] = measure_titles().get(str(e.get("measure_id", "")), "")
    return result


def titled_duty_table(table: S.Table, result: dict[str, Any]) -> S.Table:
    """The layer table with a "Measure" column (catalogue title) beside the Chapter 99 heading; the total row gets none."""
    layers = result.get("layers") or []
    cols = list(table.columns)
    at = cols.index("Heading") + 1
    rows = [r[:at] + [str(layers[i].get("title", "")) if i < len(layers) else ""] + r[at:] for i, r in enumerate(table.rows)]
    align = list(table.align)
    return S.Table(cols[:at] + ["Measure"] + cols[at:], rows, caption=table.caption,
                   align=align[:at] + ["l"] + align[at:] if align else [], total_row=table.total_row)


# ---------------------------------------------------------------- product search
def product_match(d: Any) -> dict[str, Any]:
    """One search hit (``HtsDescription``) as the page and ``/api/products`` show it: code, description, and
    its path chapter > heading > subheading > ... (un-numbered header rows shown by their text)."""
    path = [{"code": f"Chapter {d.code[:2]}", "description": ""}]
    for c in d.chain:
        path.append({"code": _dotted(c["code"]) if c.get("code") else "", "description": c.get("description") or ""})
    return {"code": d.code, "dotted": d.dotted, "description": d.description, "full_description": d.full_description,
            "revision": d.revision, "general_rate_text": d.rate_text, "path": path,
            "path_text": " > ".join(p["code"] + (" " if p["code"] and p["description"] else "") + p["description"] for p in path)}


def _dotted(code: str) -> str:
    parts = [code[:4], code[4:6], code[6:8], code[8:10]]
    return ".".join(p for p in parts if p)


# ---------------------------------------------------------------- formula page
def formula_section(res: dict[str, Any], top: int) -> S.Section:
    """The reciprocal formula against the published rates: the table (the ``top`` partners by imports, 0: all)
    and a chart of the gap, published minus formula, for the largest partners that have a published rate."""
    s = S.Section("formula", f"Reciprocal tariff formula vs published rates, {res['year']} trade")
    s.data = res
    rows = sorted(res["rows"], key=lambda r: -(r["imports"] or 0.0))
    shown = rows[:top] if top else rows
    s.tables.append(S.Table(
        ["Partner", "Imports", "Exports", "Balance", "Formula rate", "Published rate", "Heading", "Difference (points)", "Why"],
        [[f"{r['name']} ({r['partner']})", fmt.money(r["imports"]), fmt.money(r["exports"]), fmt.money(r["balance"]),
          fmt.pct(r["formula_rate"], 1), fmt.pct(r["published_rate"], 1) if r["published_rate"] is not None else "n/a",
          r["published_heading"] or "", fmt.pct(r["difference"], 1, signed=True) if r["difference"] is not None else "n/a",
          r["explanation_text"]] for r in shown],
        caption=(f"{len(shown)} of {len(rows)} partners, largest US imports first: formula rate (elasticity {res['elasticity']:g} x "
                 f"pass-through {res['pass_through']:g}, floor {fmt.pct(res['floor'], 0)}, rounding {res['rounding']}) "
                 f"next to the rate published in EO 14257 Annex I"),
        align=list("lrrrrrnrl")))
    charted = [r for r in rows if r["published_rate"] is not None][:15]
    if charted:
        s.charts.append(S.Chart(svg.hbar([r["partner"] for r in charted], [r["published_rate"] - r["formula_rate"] for r in charted],
                                         title="Published minus formula rate, percentage points (15 largest partners with a published rate)",
                                         fmt=lambda v: fmt.pct(v, 0, signed=True)),
                                caption="Blue: the published rate is above the formula; red: below; no bar: they agree. "
                                        "The table says why each one differs."))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["explanation"]] = counts.get(r["explanation"], 0) + 1
    others = ", ".join(k.replace("_", " ") + f" {n}" for k, n in sorted(counts.items()) if k != "match")
    s.sentences.append(f"Of {len(rows)} partners with {res['year']} trade loaded, the formula gives the published rate for "
                       f"{counts.get('match', 0)}; the others differ for the reasons in the last column ({others}).")
    s.sources = S.norm_sources(res.get("sources") or [])
    s.notes.extend(str(n) for n in res.get("notes") or [])
    return s


# ---------------------------------------------------------------- GE page
GE_HORIZON = "long run: the new equilibrium after every price and trade flow has adjusted, not a path over years"


def ge_section(name: str, res: dict[str, Any]) -> S.Section:
    """A shipped GE experiment: base year, horizon and what each welfare measure means, every economy's changes
    (the largest effects first) and a chart of real income."""
    s = S.Section("ge", f"General equilibrium: {name}")
    s.data = res
    base = res.get("base") or {}
    countries = sorted(res["countries"], key=lambda c: -abs(c["real_gdp_change_pct"] or 0.0))
    s.sentences.append(f"Data: {base.get('data', 'n/a')}. Base year {base.get('base_year', 'n/a')}; horizon: {GE_HORIZON}; "
                       f"elasticity of substitution sigma = {base.get('sigma', 'n/a')}.")
    cols = [("real_gdp_change_pct", "Real income %"), ("welfare_change_pct", "Welfare (real expenditure) %"),
            ("exports_change_pct", "Exports %"), ("imports_change_pct", "Imports %"), ("factory_price_change_pct", "Factory-gate price %")]
    s.tables.append(S.Table(["Economy", *[lab for _, lab in cols]],
                            [[c["country"], *[fmt.num(c[k], 3) for k, _ in cols]] for c in countries],
                            caption=f"Percent change from the base year {base.get('base_year', '')} equilibrium, {len(countries)} economies, "
                                    "largest real-income effects first", align=["l"] + ["r"] * len(cols)))
    top = countries[:12]
    s.charts.append(S.Chart(svg.hbar([c["country"] for c in top], [c["real_gdp_change_pct"] for c in top],
                                     title=f"Real income change, % ({name}, the 12 largest effects)", fmt=lambda v: f"{v:+.3f}%"),
                            caption="Real income: " + str((res.get("measures") or {}).get("real_gdp_change_pct", ""))))
    for key, label in (("real_gdp_change_pct", "Real income"), ("welfare_change_pct", "Welfare")):
        text = (res.get("measures") or {}).get(key)
        if text:
            s.notes.append(f"{label}: {text}.")
    if res.get("not_comparable"):
        s.notes.append(str(res["not_comparable"]))
    s.notes.extend(str(n) for n in res.get("notes") or [])
    s.sources = [{"source": "data/ge (shipped with tariffscope)", "title": str(base.get("data", "")), "vintage": f"base year {base.get('base_year', '')}"}]
    if res.get("rates_source"):
        s.sources.append({"source": "rates", "title": str(res["rates_source"])})
    return s
