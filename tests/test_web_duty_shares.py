"""/duty shows the value each layer is charged on and every share option as an input with its default
(issue 14, defect 4: an excavator's 32.5% came from a 50% metal share nobody could see or change)."""
from __future__ import annotations

import html
import re

import pytest

from _webclient import web_client
from tariffscope import api
from tariffscope.report import fmt

pytestmark = pytest.mark.xdist_group("web")

EXCAVATOR = dict(hts="8429521010", origin="JPN", date="2025-10-01", value="100000")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with web_client(tmp_path_factory.mktemp("webduty")) as c:
        yield c


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_every_share_option_is_an_input_with_its_default(client):
    page = client.get("/duty").text
    for o in api.duty_options():
        m = re.search(rf'<input name="{o["name"]}" id="share-{o["name"]}" value="([^"]*)"', page)
        assert m, o["name"]
        if o["default"] is None:  # a default that is data (usmca: the dated claim shares by sector): left empty
            assert m.group(1) == "" and "dated shares by sector" in page
        else:
            assert float(m.group(1)) == pytest.approx(o["default"] * 100)
        assert re.search(rf'<label[^>]*>{o["name"].replace("_", " ")} \(%\) <input', page)
    assert {o["name"] for o in api.duty_options()} >= {"metal_share", "usmca", "auto_parts_share", "semis_share"}


@pytest.mark.parametrize("metal_pct", [None, 20])
def test_base_column_and_metal_share(client, metal_pct):
    params = dict(EXCAVATOR) | ({"metal_share": str(metal_pct)} if metal_pct is not None else {})
    r = client.get("/duty", params=params)
    assert r.status_code == 200
    opts = {"metal_share": metal_pct / 100} if metal_pct is not None else None
    ref = api.duty("8429521010", "JPN", "2025-10-01", customs_value=100000, options=opts)
    text = _text(r.text)
    assert "Base (value charged)" in text
    assert f"effective rate {fmt.pct(ref.effective_rate, 2)}" in text
    for layer in ref.layers:  # each layer's base and amount, in the layer's row
        assert re.search(rf"{re.escape(layer.measure_id)}.*?{re.escape(fmt.usd_exact(layer.base))} {re.escape(fmt.pct(layer.rate, 2))} "
                         rf"{re.escape(fmt.usd_exact(layer.amount))}", text), layer.measure_id
    share = ref.options["metal_share"]
    assert f"Shares used: metal share {fmt.pct(share, 0)}{' (default)' if metal_pct is None else ''};" in text
    assert {layer.base for layer in ref.layers if layer.rate_form == "on_metal_content"} == {share * 100000}


def test_api_duty_takes_the_shares(client):
    r = client.get("/api/duty", params=dict(EXCAVATOR) | {"metal_share": "0.2", "usmca": "1"})
    ref = api.duty("8429521010", "JPN", "2025-10-01", customs_value=100000, options={"metal_share": 0.2, "usmca": 1.0}).to_dict()
    body = r.json()
    # the API's layers also carry each measure's title (tests/test_web_tools.py checks them): the rest is api.duty's
    for item in body["layers"] + body["rules_excluded"]:
        item.pop("title")
    assert body == ref
    assert client.get("/api/duty", params=dict(EXCAVATOR) | {"semis_share": "1.5"}).status_code == 422


def test_bad_share_keeps_the_form(client):
    r = client.get("/duty", params=dict(EXCAVATOR) | {"metal_share": "half"})
    assert r.status_code == 400
    assert "metal_share must be a percentage between 0 and 100, got 'half'" in html.unescape(r.text)
    assert 'id="duty-form"' in r.text and 'value="half"' in r.text
