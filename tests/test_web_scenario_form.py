"""Issue 14: the partner's side of a package edited in the /scenarios form (its tariffs on US goods, purchase
commitments, investment pledges), through FastAPI's TestClient.

The expected figures come from ``tariffscope.api.compare`` on the same package written out as a scenario
mapping in the schema's own units (fractions, USD), so the form's units (%, bn USD) are checked on the way.
"""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest

from _webclient import web_client
from tariffscope import api
from tariffscope.report import fmt

pytestmark = pytest.mark.xdist_group("web")

ORIGIN = {"Origin": "http://localhost"}
# a hypothetical two-sided package typed in the form: Japan cuts its tariff on US meat from 20% to 10%,
# buys 1 bn USD a year more grain in 2026-2027 (half of it new trade, 25-75%), pledges a 10 bn plant
FORM = {"builtin": ["japan-deal"], "draws": "0", "seed": "7", "custom_name": "meat-and-grain", "custom_base": "japan-deal",
        "pt0_products": "02", "pt0_from": "20", "pt0_to": "10",
        "pu0_what": "grain", "pu0_products": "10", "pu0_value": "1", "pu0_first": "2026", "pu0_last": "2027",
        "pu0_add": "50", "pu0_low": "25", "pu0_high": "75",
        "iv0_amount": "10", "iv0_horizon": "2026-2030", "iv0_text": "a plant in the US"}


def same_package_in_usd(base: str, name: str = "meat-and-grain") -> dict:
    """FORM's package as a scenario mapping, in the schema's units."""
    spec = api.load_scenario(base).to_dict()
    spec["name"] = name
    spec["partner_tariffs"] = [*(spec.get("partner_tariffs") or []), {"prefixes": ["02"], "from": 0.20, "to": 0.10}]
    spec["purchases"] = [*(spec.get("purchases") or []),
                         {"what": "grain", "prefixes": ["10"], "values": {2026: 1.0e9, 2027: 1.0e9}, "additionality": 0.5,
                          "additionality_range": [0.25, 0.75]}]
    spec["investment"] = [*(spec.get("investment") or []), {"amount": 10.0e9, "horizon": "2026-2030", "text": "a plant in the US"}]
    return spec


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webform")) as c:
        yield c


@pytest.fixture(scope="module")
def con(client):
    return client.app.state.con.cursor()


def rows_of(text: str, caption_start: str) -> list[list[str]]:
    """The rows (header included) of the table whose caption starts with ``caption_start``, as text."""
    table = re.search(r"<table[^>]*>\s*<caption>" + re.escape(caption_start) + r".*?</table>", text, re.S)
    assert table, caption_start
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        out.append([html.unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", c))) for c in cells])
    return out


def alert(text: str) -> str:
    found = re.findall(r'<p class="error" role="alert">(.*?)</p>', text, re.S)
    assert len(found) == 1, "one error line on the page"
    return html.unescape(found[0])


def test_form_offers_every_partner_side_field_with_a_label_unit_and_bounds(client):
    r = client.get("/scenarios", params={"partner": "JPN"})
    assert r.status_code == 200
    text = r.text
    side = text[text.index('id="partner-side"'):text.index("</details>")]
    assert "<details" in text and ' open' not in side[:60]  # folded until used: the form stays short
    names = re.findall(r'<input name="((?:pt|pu|iv)\d+_\w+)"', side)
    assert {n.split("_", 1)[1] for n in names if n.startswith("pt")} == {"products", "from", "to", "base"}
    assert {n.split("_", 1)[1] for n in names if n.startswith("pu")} == {"what", "products", "value", "first", "last", "add", "low", "high"}
    assert {n.split("_", 1)[1] for n in names if n.startswith("iv")} == {"amount", "horizon", "text", "exports", "imports"}
    # every input sits inside a visible label that says its unit (%, bn USD, years) or what it holds
    for label in re.findall(r"<label>(.*?)</label>", side, re.S):
        words = re.sub(r"<[^>]+>", "", label).strip()
        assert words and re.search(r"%|bn USD|year|what|HS prefixes|Horizon", words, re.I), label
    assert len(re.findall(r"<label>", side)) == len(names)
    # numeric fields carry their bounds for the browser too
    assert re.search(r'name="pt0_from"[^>]*min="0" max="1000"', side) and re.search(r'name="pu0_add"[^>]*min="0" max="100"', side)
    # the starting packages name their partner: the partner side is theirs
    assert re.search(r'<option value="korea-deal"[^>]*>korea-deal \(South Korea\)</option>', text)


@pytest.mark.slow
def test_partner_side_outcomes_match_the_api_and_name_the_partner(client, con):
    r = client.post("/scenarios", data=FORM, headers=ORIGIN)
    assert r.status_code == 200, alert(r.text)
    ref = api.compare(["japan-deal", api.scenario_from_dict(same_package_in_usd("japan-deal"))], draws=0, seed=7, progress=False, con=con)
    two = {m["name"]: m["value"] for m in ref.packages[1]["two_sided"]["rows"]}
    assert two["exports_from_purchases"] > 0 and two["exports_from_partner_tariffs"] > 0  # the package moves exports
    rows = rows_of(r.text, "Two-sided packages")
    assert rows[0] == ["Two-sided outcome", "japan-deal (Japan)", "meat-and-grain (Japan)"]
    shown = {row[0].strip(): row[2] for row in rows[1:]}
    for key, label in (("exports_to_partner", "US exports to Japan (FAS value)"),
                       ("exports_from_partner_tariffs", "of which: response to Japan's tariff changes"),
                       ("exports_from_purchases", "of which: additional purchases"),
                       ("imports_from_partner", "US imports from Japan (customs value)"),
                       ("balance_with_partner", "US goods balance with Japan (exports minus imports)")):
        assert shown[label] == fmt.auto(two[key], "money"), label
    assert not any("the partner" in row[0] for row in rows)
    # the levels table and the notes carry the items: the pledge is a memo item
    levels = rows_of(r.text, "Levels on the official basis")
    assert levels[4][:2] == ["meat-and-grain (Japan)", "exports"]
    assert "memo: investment of $10.0 bn (2026-2030); trade effect: none (memo item)" in html.unescape(r.text)
    # the form keeps what was typed, the partner side unfolded
    assert 'name="pu0_value" value="1"' in r.text and re.search(r'id="partner-side"\s+open', r.text)


@pytest.mark.slow
def test_another_partner_is_labelled_with_its_own_name(client, con):
    form = {**FORM, "builtin": ["korea-deal"], "custom_base": "korea-deal"}
    r = client.post("/scenarios", data=form, headers=ORIGIN)
    assert r.status_code == 200, alert(r.text)
    rows = rows_of(r.text, "Two-sided packages")
    assert rows[0][1:] == ["korea-deal (South Korea)", "meat-and-grain (South Korea)"]
    ref = api.compare(["korea-deal", api.scenario_from_dict(same_package_in_usd("korea-deal"))], draws=0, seed=7, progress=False, con=con)
    x = ref.packages[1]["two_sided"]["rows"][0]
    assert x["name"] == "exports_to_partner"
    assert rows[1] == ["US exports to South Korea (FAS value)", fmt.auto(0.0, "money"), fmt.auto(x["value"], "money")]
    assert "Japan" not in r.text[r.text.index('id="comparison"'):]


@pytest.mark.parametrize(("change", "words"), [
    ({"pu0_add": "90"}, "purchase 1: the range 25-75% must contain the additional share 90%"),
    ({"pu0_last": "2020"}, "purchase 1: last year (2020) is before first year (2026)"),
    ({"pu0_high": ""}, "purchase 1: give both ends of the additional share's range (low and high) or neither"),
    ({"pu0_products": ""}, "purchase 1: products (HS prefixes) is required"),
    ({"pt0_from": "abc"}, "partner tariff 1: tariff now, % must be a number, got 'abc'"),
    ({"pt0_to": "1500"}, "partner tariff 1: new tariff, % must be between 0 and 1,000, got 1500"),
    ({"pt0_products": "2"}, "partner tariff 1: products: '2' is not an HS prefix (2-10 digits, e.g. 02 or 1005)"),
    ({"pt0_products": "7701"}, "partner tariff 1 (products): unknown HS prefix '7701' (no HTS heading or line starts with it)"),
    ({"iv0_amount": "-5"}, "investment pledge 1: amount, bn USD must be between 0 and 100,000, got -5"),
    ({"iv1_text": "a second plant"}, "investment pledge 2: amount, bn USD is required"),
])
def test_a_bad_field_is_one_line_naming_the_row_and_the_form_is_kept(client, change, words):
    r = client.post("/scenarios", data={**FORM, **change}, headers=ORIGIN)
    assert r.status_code == 400
    assert alert(r.text) == words
    assert 'id="scenario-form"' in r.text and 'id="comparison"' not in r.text
    for key, value in {**FORM, **change}.items():
        if key[:2] in ("pt", "pu", "iv"):
            assert f'name="{key}" value="{html.escape(value)}"' in r.text, key  # every typed value is still there


@pytest.mark.slow
def test_a_prefix_finer_than_the_export_base_needs_its_exports(client, con):
    r = client.post("/scenarios", data={**FORM, "pt0_products": "0201"}, headers=ORIGIN)
    assert r.status_code == 400
    assert alert(r.text).startswith("partner tariff 1 (products): '0201' is finer than the loaded US export base")
    assert "fill in 'US exports in these products' (to JPN, bn USD a year)" in alert(r.text)
    r = client.post("/scenarios", data={**FORM, "pt0_products": "0201", "pt0_base": "0.5"}, headers=ORIGIN)
    assert r.status_code == 200, alert(r.text)
    spec = same_package_in_usd("japan-deal")
    spec["partner_tariffs"][-1].update(prefixes=["0201"], base=0.5e9)
    ref = api.compare(["japan-deal", api.scenario_from_dict(spec)], draws=0, seed=7, progress=False, con=con)
    tariffs = ref.packages[1]["two_sided"]["rows"][1]
    assert tariffs["name"] == "exports_from_partner_tariffs"
    assert rows_of(r.text, "Two-sided packages")[2][2] == fmt.auto(tariffs["value"], "money")


@pytest.mark.slow
def test_the_permalink_carries_the_partner_side(client):
    posted = client.post("/scenarios", data=FORM, headers=ORIGIN)
    link = html.unescape(re.search(r'id="permalink" href="([^"]+)"', posted.text).group(1))
    q = dict(parse_qsl(urlsplit(link).query))
    assert {k: v for k, v in q.items() if k[:2] in ("pt", "pu", "iv")} == {k: v for k, v in FORM.items() if k[:2] in ("pt", "pu", "iv")}
    got = client.get(link)
    assert got.status_code == 200
    assert rows_of(got.text, "Two-sided packages") == rows_of(posted.text, "Two-sided packages")


@pytest.mark.slow
def test_api_compare_takes_partner_side_items_in_the_schema_units(client, con):
    package = {"name": "meat-and-grain", "base": "japan-deal",
               "partner_tariffs": [{"products": "02", "rate_from": 0.2, "rate_to": 0.1}],
               "purchases": [{"what": "grain", "products": "10", "per_year": 1e9, "first_year": 2026, "last_year": 2027,
                              "additionality": 0.5, "low": 0.25, "high": 0.75}],
               "investment": [{"amount": 1e10, "horizon": "2026-2030", "text": "a plant in the US"}]}
    r = client.post("/api/compare", json={"scenarios": ["japan-deal"], "packages": [package], "draws": 0, "seed": 7})
    assert r.status_code == 200, r.text
    ref = api.compare(["japan-deal", api.scenario_from_dict(same_package_in_usd("japan-deal"))], draws=0, seed=7, progress=False, con=con)
    assert r.json()["scenarios"][1]["two_sided"]["rows"] == ref.to_dict()["scenarios"][1]["two_sided"]["rows"]
    bad = {**package, "purchases": [{**package["purchases"][0], "additionality": 1.5}]}
    r = client.post("/api/compare", json={"scenarios": ["japan-deal"], "packages": [bad]})
    assert r.status_code == 422 and "additionality" in r.json()["error"]
    bad = {**package, "purchases": [{**package["purchases"][0], "high": None}]}
    r = client.post("/api/compare", json={"scenarios": ["japan-deal"], "packages": [bad]})
    assert r.status_code == 422 and "both low and high" in r.json()["error"]
