"""Issue 14, the tools analysts expect in the web app, through FastAPI's TestClient: product search with the
HTS path, measure titles beside Chapter 99 headings, CSV/JSON downloads of every table and chart on every
page, permalinks (scenario comparisons included), the formula and GE pages, the nav and the skip link.

Every expected value comes from ``tariffscope.api`` on the same embedded data, never from a literal result.
"""
from __future__ import annotations

import csv
import html
import io
import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from _webclient import web_client
from tariffscope import api, config
from tariffscope.tariffs.vocabulary import authority_label

pytestmark = pytest.mark.xdist_group("web")

EXCAVATOR = {"hts": "8429.52.10.10", "origin": "JPN", "date": "2025-10-01", "value": "100000"}
# every page with a result, by its GET URL (the scenario comparison by its permalink)
PAGES = ["/", "/balance?partner=JPN&period=2024", "/duty?" + "&".join(f"{k}={v}" for k, v in EXCAVATOR.items()),
         "/timeline?partner=JPN", "/scenarios?run=june-2025,japan-deal&draws=0&seed=7", "/backtest?partner=JPN",
         "/formula", "/ge?experiment=us-tariffs-2025-japan"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webtools")) as c:
        yield c


@pytest.fixture(scope="module")
def con(client):
    return client.app.state.con.cursor()  # the server's read-only warehouse, for the reference answers


def links(text: str, what: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*format=' + what + r'[^"]*)"', text)]


def table_rows(fragment: str) -> list[list[str]]:
    """The text of every row (header included) of the first table in an HTML fragment."""
    table = re.search(r"<table.*?</table>", fragment, re.S).group(0)
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        out.append([html.unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", c))) for c in cells])
    return out


# ---------------------------------------------------------------- product search
def test_api_products_by_name_and_code(client, con):
    r = client.get("/api/products", params={"q": "excavator"})
    assert r.status_code == 200
    body = r.json()
    ref = api.search_hts("excavator", con=con)
    assert [m["code"] for m in body["matches"]] == [d.code for d in ref] and ref
    for m in body["matches"]:
        assert "excavator" in m["description"].lower()
        assert m["path"][0]["code"] == f"Chapter {m['code'][:2]}"
        assert m["path"][-1]["description"] == m["description"]  # the path ends at the line itself
    r = client.get("/api/products", params={"q": "8703.23", "limit": 5})
    codes = [m["code"] for m in r.json()["matches"]]
    assert len(codes) == 5 and all(c.startswith("870323") for c in codes) and codes == sorted(codes)
    # each level of the path is a prefix of the code (un-numbered header rows carry no code)
    numbered = [p["code"].replace(".", "") for p in r.json()["matches"][-1]["path"][1:] if p["code"]]
    assert all(codes[-1].startswith(p) for p in numbered) and len(numbered) >= 3


def test_product_search_matches_words_up_the_hts_hierarchy(client, con):
    # "passenger" is only in an un-numbered header row of 8703 ("Station wagons and passenger vans:"),
    # "motor" only in the heading ("Motor cars and other motor vehicles ..."): no line holds both itself.
    found = api.search_hts("passenger motor", con=con)
    codes = [d.code for d in found]
    assert any(c.startswith("8703") for c in codes), codes
    for d in found:
        chain_text = " ".join(c["description"] for c in d.chain).lower()
        assert "passenger" in chain_text and "motor" in chain_text
    assert codes == sorted(codes)  # no line here matches on its own text: one group, code order
    r = client.get("/api/products", params={"q": "passenger motor cars"})
    assert [m["code"][:4] for m in r.json()["matches"]] and {m["code"][:4] for m in r.json()["matches"]} == {"8703"}
    # lines matching on their own description come first, then the ones matching through their chain
    mixed = api.search_hts("passenger", limit=100, con=con)
    own = ["passenger" in d.description.lower() for d in mixed]
    assert own == sorted(own, reverse=True) and own[0] and not own[-1]
    # a matching heading is listed once, not with every line below it
    assert [d.code for d in api.search_hts("excavator", con=con)] == ["8429", "8430501000"]


def test_api_products_bad_queries(client):
    r = client.get("/api/products", params={"q": "%"})
    assert r.status_code == 400 and "product name" in r.json()["error"]
    assert client.get("/api/products", params={"q": "x" * 81}).status_code == 422
    assert client.get("/api/products", params={"q": "car", "limit": 0}).status_code == 422
    r = client.get("/api/products", params={"q": "zzzqqq"})
    assert r.status_code == 200 and r.json()["matches"] == []


def test_duty_page_search_works_without_javascript(client, con):
    r = client.get("/duty", params={"q": "excavator", "origin": "KOR", "date": "2025-10-01"})
    assert r.status_code == 200
    picks = re.findall(r'<a class="pick" href="([^"]+)" data-hts="([^"]+)">', r.text)
    ref = api.search_hts("excavator", con=con)
    assert [h for _, h in picks] == [d.dotted for d in ref]
    href = html.unescape(picks[-1][0])
    assert dict(parse_qsl(urlsplit(href).query)) == {"hts": ref[-1].dotted, "origin": "KOR", "date": "2025-10-01", "value": "100000"}
    assert "Chapter 84 &gt; 8430" in r.text  # the HTS path of 8430.50.10.00, chapter first
    page = client.get(href)  # picking one fills the HTS field (and computes the duty)
    assert f'name="hts" value="{ref[-1].dotted}"' in page.text and 'id="duty-result"' in page.text
    bad = client.get("/duty", params={"q": "%"})
    assert bad.status_code == 200 and 'role="alert"' in bad.text and 'id="duty-form"' in bad.text


# ---------------------------------------------------------------- measure titles
def test_duty_layers_show_the_measure_titles(client, con):
    ref = api.duty("8429521010", "JPN", "2025-10-01", customs_value=100000, con=con)
    titles = {m.id: m.title for m in api.measures().measures}
    r = client.get("/duty", params=EXCAVATOR)
    rows = table_rows(r.text[r.text.index('id="duty-result"'):])
    assert rows[0][:4] == ["Layer", "Heading", "Measure", "Authority"]
    catalogue_layers = [la for la in ref.layers if la.measure_id in titles]
    assert catalogue_layers, "the excavator must pay at least one catalogue measure"
    for layer, row in zip(ref.layers, rows[1:], strict=False):
        assert row[0].startswith(layer.measure_id)
        assert row[2] == titles.get(layer.measure_id, authority_label(layer.authority))
    body = client.get("/api/duty", params=EXCAVATOR).json()
    assert [la["title"] for la in body["layers"] if la["measure_id"] in titles] == [titles[la.measure_id] for la in catalogue_layers]
    assert all(la["title"] for la in body["layers"])


# ---------------------------------------------------------------- downloads
@pytest.mark.slow
@pytest.mark.parametrize("url", PAGES)
def test_every_table_and_chart_downloads_as_csv_and_json(client, url):
    r = client.get(url)
    assert r.status_code == 200, r.text[-400:]
    n_tables, n_charts = r.text.count('<div class="scroll"><table'), r.text.count('<figure class="chart">')
    csv_links, json_links = links(r.text, "csv"), links(r.text, "json")
    assert n_tables + n_charts >= 1, url
    assert len(csv_links) == len(json_links) == n_tables + n_charts, url
    for href in csv_links:
        d = client.get(href)
        assert d.status_code == 200 and d.headers["content-type"].startswith("text/csv"), href
        rows = list(csv.reader(io.StringIO(d.text)))
        assert len(rows) >= 2, href
        q = dict(parse_qsl(urlsplit(href).query))
        if "table" in q:  # a table's CSV is the table as shown: same header, same rows
            shown = [t for t in re.split(r"(?=<div class=\"scroll\"><table)", r.text)[1:]][int(q["table"])]
            assert rows == table_rows(shown), href
        else:  # a chart's CSV is the series it draws, one drawn point per row (tests/test_web_chart_data.py)
            assert rows[0][:3] == ["series", "kind", "x"], href
    for href in json_links:
        d = client.get(href)
        assert d.status_code == 200 and d.headers["content-type"].startswith("application/json"), href
        body = d.json()
        parts = urlsplit(url)
        assert body["link"] == parts.path + ("?" + urlencode(parse_qsl(parts.query)) if parts.query else "")
        assert ("columns" in body and body["rows"]) or ("data" in body and body["data"]), href
    whole = client.get(url + ("&" if "?" in url else "?") + "format=json").json()
    assert sum(len(s["tables"]) for s in whole["sections"]) == n_tables
    assert sum(len(s["charts"]) for s in whole["sections"]) == n_charts


def test_download_bad_requests(client):
    base = "/duty?" + "&".join(f"{k}={v}" for k, v in EXCAVATOR.items())
    r = client.get(base + "&format=xml")
    assert r.status_code == 400 and "csv or json" in r.json()["error"]
    r = client.get(base + "&format=csv&table=9")
    assert r.status_code == 400 and "table" in r.json()["error"]
    r = client.get("/duty?hts=9999.99.99.99&origin=JPN&date=2025-06-15&format=json")
    assert r.status_code == 400 and "9999" in r.json()["error"]  # an error stays an error, as JSON


# ---------------------------------------------------------------- permalinks
@pytest.mark.slow
def test_scenario_comparison_permalink_reproduces_the_post(client):
    form = {"builtin": ["june-2025", "japan-deal"], "draws": "10", "seed": "11", "custom_name": "cars-at-10",
            "custom_base": "japan-deal", "c0_origin": "JPN", "c0_products": "8703", "c0_mode": "floor", "c0_rate": "10"}
    posted = client.post("/scenarios", data=form, headers={"Origin": "http://localhost"})
    assert posted.status_code == 200, posted.text[-400:]
    link = html.unescape(re.search(r'id="permalink" href="([^"]+)"', posted.text).group(1))
    q = dict(parse_qsl(urlsplit(link).query))
    assert q["run"] == "june-2025,japan-deal" and q["draws"] == "10" and q["seed"] == "11"
    assert q["custom_name"] == "cars-at-10" and q["c0_products"] == "8703" and q["c0_rate"] == "10"
    got = client.get(link)
    assert got.status_code == 200

    def comparison(text: str) -> list[list[str]]:
        return table_rows(text[text.index('id="comparison"'):])

    assert comparison(got.text) == comparison(posted.text)
    assert "cars-at-10" in comparison(got.text)[0][-1]
    # the seed is part of the result: another seed draws other bands for the same packages
    other = client.get(link.replace("seed=11", "seed=12"))
    assert comparison(other.text)[0] == comparison(got.text)[0] and comparison(other.text) != comparison(got.text)
    # the POST keeps its protections: another site cannot submit the form
    assert client.post("/scenarios", data=form, headers={"Origin": "http://attacker.example"}).status_code == 403


def test_permalink_on_get_pages(client):
    r = client.get("/balance", params={"partner": "KOR", "period": "2024"})
    assert html.unescape(re.search(r'id="permalink" href="([^"]+)"', r.text).group(1)) == "/balance?partner=KOR&period=2024"
    r = client.get("/balance", params={"partner": "Atlantis"})
    assert 'id="permalink"' not in r.text  # an error is not a result to link to


def test_scenario_permalink_bad_input_keeps_the_form(client):
    r = client.get("/scenarios", params={"run": "june-2025,../etc/passwd", "draws": "0"})
    assert r.status_code == 422 and 'id="scenario-form"' in r.text and 'role="alert"' in r.text
    r = client.get("/scenarios", params={"run": "june-2025", "draws": "0"})
    assert r.status_code == 400 and "2 to" in r.text


# ---------------------------------------------------------------- formula and GE pages
def test_formula_page_and_api(client, con):
    ref = api.reciprocal_formula(con=con).to_dict()
    assert client.get("/api/formula").json() == ref
    r = client.get("/formula", params={"top": "0"})
    assert r.status_code == 200
    rows = table_rows(r.text[r.text.index("<div class=\"scroll\"><table"):])
    assert len(rows) - 1 == len(ref["rows"])
    top = max(ref["rows"], key=lambda x: x["imports"])
    assert rows[1][0] == f"{top['name']} ({top['partner']})"
    assert "role='img'" in r.text and "Published minus formula" in r.text
    # other parameters change the rates the way the API says
    alt = api.reciprocal_formula(pass_through=1.0, floor=0.0, con=con).to_dict()
    r = client.get("/formula", params={"pass_through": "1", "floor": "0", "top": "0"})
    rows = table_rows(r.text[r.text.index("<div class=\"scroll\"><table"):])
    shown = {row[0]: row[4] for row in rows[1:]}
    for x in alt["rows"][:10]:
        assert shown[f"{x['name']} ({x['partner']})"] == f"{x['formula_rate'] * 100:.1f}%"
    bad = client.get("/formula", params={"elasticity": "lots"})
    assert bad.status_code == 400 and "elasticity" in bad.text and 'name="elasticity" value="lots"' in bad.text
    assert client.get("/api/formula", params={"rounding": "sideways"}).status_code == 422


def test_ge_page_runs_the_shipped_experiments(client):
    names = sorted(p.stem.replace("_", "-") for p in (config.PACKAGE_DIR / "data" / "ge").glob("*.yaml"))
    r = client.get("/ge")
    assert r.status_code == 200 and sorted(re.findall(r"<option[^>]*>([a-z0-9\-]+)</option>", r.text)) == names
    ref = api.ge_simulate(str(config.PACKAGE_DIR / "data" / "ge" / "nafta_removal.yaml")).to_dict()
    r = client.get("/ge", params={"experiment": "nafta-removal"})
    assert r.status_code == 200
    text = html.unescape(r.text)
    assert f"Base year {ref['base']['base_year']}" in text and "horizon: long run" in text
    assert "Real income: " + ref["measures"]["real_gdp_change_pct"] in text and "Welfare: " + ref["measures"]["welfare_change_pct"] in text
    rows = table_rows(r.text[r.text.index("<div class=\"scroll\"><table"):])
    first = max(ref["countries"], key=lambda c: abs(c["real_gdp_change_pct"]))
    assert rows[1][0] == first["country"] and len(rows) - 1 == len(ref["countries"])
    r = client.get("/ge", params={"experiment": "../../etc/passwd"})
    assert r.status_code == 404 and 'name="experiment"' in r.text


# ---------------------------------------------------------------- every page: nav and skip link
def test_nav_links_every_page_and_each_page_has_a_skip_link(client):
    for path in ("/", "/balance", "/duty", "/timeline", "/scenarios", "/formula", "/ge", "/docs"):
        r = client.get(path)
        assert r.status_code == 200, path
        nav = re.search(r"<nav[^>]*>(.*?)</nav>", r.text, re.S).group(1)
        for target in ("/balance", "/duty", "/timeline", "/scenarios", "/backtest", "/formula", "/ge"):
            assert f'href="{target}"' in nav, (path, target)
        assert r.text.index('class="skip" href="#main"') < r.text.index("<nav")
        assert '<main id="main"' in r.text
