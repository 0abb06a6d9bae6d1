"""Issue 14: a chart's CSV/JSON download is exactly the series the chart draws.

For every page with charts, each chart's download is checked against the SVG on the page, not against the
code that made both: the downloaded y values (and band ends, and marker dates) must map onto the drawn
geometry (bar lengths and whiskers; polyline, stacked-area and marker coordinates) through one linear axis
per chart, every bar's tooltip must read "label: value" with the downloaded label and value, n/a bars must be
n/a in the download, and a line's points must be the drawn points, in order and in number.
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import xml.etree.ElementTree as ET
from itertools import pairwise

import numpy as np
import pytest

from _webclient import web_client
from tariffscope.report.sections._common import period_x
from tariffscope.report.svgcharts import ChartSvg, hbar, lines
from tariffscope.web.tools import year_date

pytestmark = pytest.mark.xdist_group("web")

NS = {"s": "http://www.w3.org/2000/svg"}
# every page with charts, by its GET URL; the comparisons with draws (whiskers) and with an outcome that is
# n/a for one partner's package (n/a bars)
CHART_PAGES = ["/", "/balance?partner=KOR&period=2024", "/timeline?partner=JPN",
               "/timeline?partner=JPN&authority=232&from=2025-03-01&through=2025-11-30",
               "/timeline?partner=JPN&sector=passenger_vehicles", "/backtest?partner=JPN",
               "/scenarios?run=june-2025,japan-deal-2025&draws=10&seed=7", "/scenarios?run=japan-deal,korea-deal&draws=0&seed=7",
               "/formula", "/ge?experiment=us-tariffs-2025-japan"]
PX = 0.2  # coordinates are written with one decimal: a value maps onto its mark to within rounding


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webcharts")) as c:
        yield c


def page_charts(text: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r'<figure class="chart">(<svg.*?</svg>)', text, re.S)]


def chart_links(text: str, form: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*format=' + form + r'[^"]*chart=\d+[^"]*)"', text)]


def fit(values: list[float], coords: list[float]) -> tuple[float, float, float]:
    """Least-squares coords = a + b * values: (a, b, largest residual in px)."""
    v, c = np.asarray(values, dtype=float), np.asarray(coords, dtype=float)
    if np.ptp(v) == 0:  # one distinct value: nothing to fit, every mark must sit at one place
        return float(c.mean()), 0.0, float(np.ptp(c))
    b, a = np.polyfit(v, c, 1)
    return float(a), float(b), float(np.abs(a + b * v - c).max())


def points(attr: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (p.split(",") for p in attr.split())]


def check_bars(svg: ET.Element, body: dict) -> None:
    (s,) = body["series"]
    assert s["kind"] == "bar" and s["name"] == body["chart"]
    rects = svg.findall("s:rect", NS)  # a bar chart has no legend: every rect is a bar
    known = [i for i, y in enumerate(s["y"]) if y is not None]
    assert len(rects) == len(known), "one drawn bar per known value"
    # n/a values: no bar, the words n/a beside their label
    na = [t for t in svg.findall("s:text", NS) if t.text == "n/a"]
    assert len(na) == len(s["y"]) - len(known) and all(s["y_label"][i] == "n/a" for i, y in enumerate(s["y"]) if y is None)
    zero = float(svg.findall("s:line", NS)[-1].get("x1"))  # the zero line is drawn last
    ends, vals = [zero], [0.0]
    for rect, i in zip(rects, known, strict=True):
        assert rect.find("s:title", NS).text == f"{s['x_label'][i]}: {s['y_label'][i]}"  # the tooltip reads the download
        x0, w = float(rect.get("x")), float(rect.get("width"))
        if w > 1.0:  # a 1 px bar is the minimum width, not the value's length
            ends.append(x0 + w if s["y"][i] >= 0 else x0)
            vals.append(s["y"][i])
    whiskers = [ln for ln in svg.findall("s:line", NS) if ln.get("stroke-width") == "1.5"]
    drawn = [i for i in known if s.get("low") and s["low"][i] is not None]
    assert len(whiskers) == 3 * len(drawn), "a whisker (three lines) exactly where the download has a band"
    for k, i in enumerate(drawn):
        span = whiskers[3 * k]
        ends += [float(span.get("x1")), float(span.get("x2"))]
        vals += [s["low"][i], s["high"][i]]
    _, _, worst = fit(vals, ends)
    assert worst <= PX, f"bars/whiskers off their values by {worst:.2f} px"


def check_lines(svg: ET.Element, body: dict) -> None:
    assert not [r for r in svg.findall("s:rect", NS) if r.find("s:title", NS) is not None], "no bars in a line chart"
    polys = svg.findall("s:polygon", NS)
    plines = svg.findall("s:polyline", NS)
    areas = [s for s in body["series"] if s["kind"] == "area"]
    drawn_lines = [s for s in body["series"] if s["kind"] == "line"]
    assert len(polys) == len(areas) and len(plines) == len(drawn_lines)
    xs, px, ys, py = [], [], [], []
    cum = [0.0] * (len(areas[0]["y"]) if areas else 0)
    for poly, s in zip(polys, areas, strict=True):
        assert poly.find("s:title", NS).text == s["name"]
        cum = [c + y for c, y in zip(cum, s["y"], strict=True)]
        upper = points(poly.get("points"))[: len(s["x"])]  # the outline: the upper edge, then the lower one back
        xs += s["x"]
        px += [p[0] for p in upper]
        ys += cum
        py += [p[1] for p in upper]
    for pl, s in zip(plines, drawn_lines, strict=True):
        pts = points(pl.get("points"))
        assert len(pts) == len(s["y"]) == len(s["x"]), f"{s['name']}: one downloaded row per drawn point"
        xs += s["x"]
        px += [p[0] for p in pts]
        ys += s["y"]
        py += [p[1] for p in pts]
        assert s["date"] == [year_date(x) for x in s["x"]]
    markers = [ln for ln in svg.findall("s:line", NS) if ln.get("stroke-dasharray") == "2 3"]
    assert len(markers) == len(body["markers"])
    for ln, m in zip(markers, body["markers"], strict=True):
        xs.append(m["x"])
        px.append(float(ln.get("x1")))
    for what, vals, coords in (("x", xs, px), ("y", ys, py)):
        _, _, worst = fit(vals, coords)
        assert worst <= PX, f"{what} values off their marks by {worst:.2f} px"


@pytest.mark.slow
@pytest.mark.parametrize("url", CHART_PAGES)
def test_chart_downloads_are_the_plotted_series(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text[-400:]
    svgs = page_charts(r.text)
    csv_links, json_links = chart_links(r.text, "csv"), chart_links(r.text, "json")
    assert svgs and len(csv_links) == len(json_links) == len(svgs), url
    for svg, jl, cl in zip(svgs, json_links, csv_links, strict=True):
        body = client.get(jl).json()
        assert body["chart"] == svg.get("aria-label")
        if [s["kind"] for s in body["series"]] == ["bar"]:  # check_bars/check_lines hold the claim to the drawing
            check_bars(svg, body)
        else:
            check_lines(svg, body)
        # the CSV holds the same rows as the JSON: one per drawn point, then the markers
        rows = list(csv.reader(io.StringIO(client.get(cl).text)))
        assert rows[0] == body["columns"] and len(rows) - 1 == len(body["rows"])
        yi = body["columns"].index("y")
        for got, want in zip(rows[1:], body["rows"], strict=True):
            assert got[0] == want[0] and (got[yi] == "" if want[yi] is None else float(got[yi]) == want[yi])
        assert len(body["rows"]) == sum(len(s["x"]) for s in body["series"]) + len(body["markers"])


def test_na_bar_and_whiskers_in_the_series():
    chart = hbar(["a", "b", "c"], [2.0, None, -1.0], lo=[1.0, None, None], hi=[3.0, None, None], title="t", fmt=lambda v: f"{v:g}")
    assert isinstance(chart, ChartSvg) and isinstance(chart, str)
    (s,) = chart.series
    assert s["y"] == [2.0, None, -1.0] and s["y_label"] == ["2", "n/a", "-1"]
    assert s["low"] == [1.0, None, None] and s["high"] == [3.0, None, None]  # no whisker drawn for c: none listed


def test_line_series_skip_undrawn_points_and_areas_give_their_drawn_thickness():
    chart = lines([{"name": "l", "x": [2025.0, 2025.5, 2026.0], "y": [1.0, None, 3.0]}], title="t", y_fmt=str, x_label=str,
                  stacked=[{"name": "a", "x": [2025.0, 2025.5, 2026.0], "y": [0.5, -0.2, 0.25]}], markers=[(2025.5, "m"), (2030.0, "off")])
    area, line = chart.series
    assert line["x"] == [2025.0, 2026.0] and line["y"] == [1.0, 3.0]  # the None point is not drawn
    assert area["kind"] == "area" and area["y"] == [0.5, 0.0, 0.25]  # a negative part draws nothing
    assert chart.markers == [{"x": 2025.5, "label": "m"}]  # a marker off the axis is not drawn


def test_year_date_inverts_the_time_axis():
    day = dt.date(2024, 1, 1)
    while day < dt.date(2026, 1, 1):
        assert year_date(period_x(day.isoformat())) == day.isoformat()
        day += dt.timedelta(days=1)
    assert [year_date(period_x(m)) for m in ("2025-01", "2025-12")] == ["2025-01-01", "2025-12-01"]
    assert all(a < b for a, b in pairwise([period_x(f"2025-{m:02d}") for m in range(1, 13)]))
