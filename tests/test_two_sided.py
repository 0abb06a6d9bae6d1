"""Two-sided packages (issue 13 item 3): the partner's tariffs, purchases and investment memos.

The export model is checked in closed form on one line; japan-deal-2025 runs through simulate and compare
(API and CLI) with its balance effect equal to the exports effect minus the imports effect; bad fields give
one line with the YAML path; the brief's section and the web scenarios page show the two-sided rows.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from tariffscope import api
from tariffscope.cli import main
from tariffscope.config import EMBEDDED_DIR
from tariffscope.errors import RuleError
from tariffscope.models import exports as xm
from tariffscope.report import fmt, sections as S
from tariffscope.scenarios import run as sr
from tariffscope.scenarios.schema import parse_scenario

HEAD = "name: pkg-test\nbase: {date: 2025-10-01}\npartner: JPN\n"


def _exports_2024(partner: str, chapter: str) -> float:
    """US exports (FAS) to ``partner`` in one HS2 chapter, 2024, read from the embedded table itself."""
    t = pq.read_table(EMBEDDED_DIR / "trade_flows__dataweb_exports_hs2.parquet").to_pandas()
    sel = t[(t.partner == partner) & (t.period == "2024") & (t.product_code == chapter)]
    return float(sel.value.sum())


def _rows(block):
    return {m["name"]: m for m in block["rows"]}


def test_export_response_closed_form():
    # a 10% tariff cut to zero at elasticity 0.76: exports rise by (1/1.1)^-0.76 - 1 = 7.51%
    d = float(xm.export_response(1e9, 0.10, 0.0, 0.76))
    assert d == pytest.approx(1e9 * (1.1 ** 0.76 - 1.0), rel=1e-12)
    assert d == pytest.approx(75.1e6, rel=1e-3)
    assert float(xm.export_response(1e9, 0.1, 0.1, 0.76)) == 0.0  # no change, no effect
    assert float(xm.export_response(1e9, 0.0, 0.2, 2.0)) < 0  # a tariff rise lowers exports


def test_additional_share_is_floored_when_the_commitment_exceeds_the_base():
    # 8 bn against a 6 bn base: at least 2/8 must be new trade; a larger given share is kept
    assert float(xm.additional_share(8e9, 6e9, 0.1)) == pytest.approx(0.25)
    assert float(xm.additional_share(8e9, 6e9, 0.5)) == pytest.approx(0.5)
    assert float(xm.additional_share(4e9, 6e9, 0.1)) == pytest.approx(0.1)


def test_export_elasticity_is_the_cited_horizon_value():
    short, long = xm.export_elasticity("short"), xm.export_elasticity("long")
    assert (short["value"], short["low"], short["high"]) == (0.76, 0.5, 1.1)
    assert long["value"] == 2.0 and "Boehm" in short["citation"] and "export_demand.yaml" in short["data"]


def test_partner_tariff_line_in_a_run_matches_the_closed_form(warehouse):
    sc = parse_scenario(HEAD + "partner_tariffs: [{prefixes: ['02'], from: 0.20, to: 0.10}]\n")
    d = sr.simulate(sc).to_dict()
    two = d["two_sided"]
    base = _exports_2024("JPN", "02")
    assert base > 1e9  # US meat exports to Japan: billions
    expect = base * ((1.10 / 1.20) ** -0.76 - 1.0)
    assert two["partner_tariffs"][0]["base"] == pytest.approx(base)
    assert two["partner_tariffs"][0]["exports_change"] == pytest.approx(expect, rel=1e-9)
    r = _rows(two)
    assert r["exports_to_partner"]["value"] == pytest.approx(expect, rel=1e-9)
    assert r["balance_with_partner"]["value"] == pytest.approx(expect - r["imports_from_partner"]["value"])
    # the long horizon uses the long-run elasticity
    d2 = sr.simulate(sc, horizon="long").to_dict()
    assert d2["two_sided"]["partner_tariffs"][0]["exports_change"] == pytest.approx(base * ((1.1 / 1.2) ** -2.0 - 1.0))


def test_japan_deal_2025_simulate_balance_is_exports_minus_imports(warehouse):
    res = api.simulate("japan-deal-2025", draws=30, seed=3, backend="serial", progress=False)
    d = res.to_dict()
    r = _rows(d["two_sided"])
    x, m, b = (r[k]["value"] for k in ("exports_to_partner", "imports_from_partner", "balance_with_partner"))
    assert x > 0 and b == pytest.approx(x - m)
    head = {h["name"]: h for h in d["headline"]}
    assert head["balance_with_partner"]["value"] == pytest.approx(b)
    # the US side is japan-deal's: same imports; the export side is the purchases' additional part
    one = {h["name"]: h for h in api.simulate("japan-deal", progress=False).headline}
    assert m == pytest.approx(one["imports_from_partner"]["value"])
    purchases = d["two_sided"]["purchases"]
    assert x == pytest.approx(sum(p["per_year"] * p["additionality_used"] for p in purchases))
    assert r["exports_from_purchases"]["value"] == pytest.approx(x)
    # bands from the draws on exports, imports and the balance; the balance band is per draw, not a difference of bands
    for k in ("exports_to_partner", "imports_from_partner", "balance_with_partner"):
        assert r[k]["p05"] <= r[k]["p50"] <= r[k]["p95"], k
    assert r["exports_to_partner"]["p05"] < r["exports_to_partner"]["p95"]
    # levels on the official basis, named
    lv = d["two_sided"]["levels"]
    assert lv["basis"].startswith("total exports (FAS value) minus general imports")
    assert -68.5e9 <= lv["balance"] <= -68.2e9 and lv["vintage"]
    assert {row["name"]: row["change"] for row in lv["rows"]}["balance"] == pytest.approx(b)
    assert d["basis"]["horizon"] == "short" and d["basis"]["base_year"] == 2024
    # the agricultural commitment exceeds its chapters' base: reported, with the floor it implies
    assert any(p["exceeds_base"] for p in purchases)
    assert any("exceeds 2024 US exports to JPN" in n for n in d["two_sided"]["notes"])
    assert d["two_sided"]["investment"][0]["amount"] == 550e9
    assert d["two_sided"]["investment"][0]["trade_effect"] == "none (memo item)"
    assert any(a.startswith("Two-sided packages") for a in d["assumptions"])


def test_japan_deal_2025_compare_api_and_cli(warehouse, capsys):
    c = api.compare(["japan-deal", "japan-deal-2025"], draws=0, progress=False).to_dict()
    one, two = (_rows(p["two_sided"]) for p in c["scenarios"])
    assert one["exports_to_partner"]["value"] == 0.0
    for r in (one, two):
        assert r["balance_with_partner"]["value"] == pytest.approx(
            r["exports_to_partner"]["value"] - r["imports_from_partner"]["value"])
    # against japan-deal, the difference is the partner side alone
    ag = api.compare(["japan-deal-2025"], against="japan-deal", draws=0, progress=False).to_dict()
    r = _rows(ag["scenarios"][0]["two_sided"])
    assert r["imports_from_partner"]["value"] == pytest.approx(0.0, abs=1.0)
    assert r["balance_with_partner"]["value"] == pytest.approx(two["exports_to_partner"]["value"])
    assert main(["compare", "japan-deal", "japan-deal-2025", "--draws", "0", "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    cli_two = _rows(cli["scenarios"][1]["two_sided"])
    assert cli_two["balance_with_partner"]["value"] == pytest.approx(two["balance_with_partner"]["value"])
    assert main(["simulate", "japan-deal-2025"]) == 0
    out = capsys.readouterr().out
    assert "Two-sided: US exports, imports and balance with the partner" in out
    assert "memo: investment 550 bn USD" in out and "total exports (FAS value) minus general imports" in out


@pytest.mark.parametrize(("extra", "message"), [
    ("purchases: [{prefixes: ['88'], values: {2026: -1.0e9}, additionality: 0.5}]",
     "purchases[0].values[2026]: must be >= 0"),
    ("purchases: [{prefixes: ['88'], values: {2026: 1.0e9}, additionality: 1.5}]",
     "purchases[0].additionality: must be between 0 and 1"),
    ("purchases: [{prefixes: ['88'], values: {2026: 1.0e9}, additionality: 0.5, additionality_range: [-0.1, 0.6]}]",
     "purchases[0].additionality_range[0]: must be between 0 and 1"),
    ("purchases: [{prefixes: ['7701'], values: {2026: 1.0e9}, additionality: 0.5}]",
     "purchases[0].prefixes[0]: unknown HS prefix '7701'"),
    ("partner_tariffs: [{prefixes: ['02', '9977'], from: 0.2, to: 0.1}]",
     "partner_tariffs[0].prefixes[1]: unknown HS prefix '9977'"),
    ("partner_tariffs: [{prefixes: ['02'], from: 0.2}]",
     "partner_tariffs[0]: give exactly one of to (the new rate) or change"),
    ("partner_tariffs: [{prefixes: ['02'], from: 0.1, change: -0.2}]",
     "partner_tariffs[0]: from + change = -0.1: a tariff cannot go below 0"),
    ("investment: [{amount: -1.0}]", "investment[0].amount: must be >= 0"),
])
def test_bad_fields_name_their_yaml_path(extra, message):
    with pytest.raises(RuleError) as exc:
        parse_scenario(HEAD + extra + "\n", source="pkg.yaml")
    text = str(exc.value)
    assert text.startswith("pkg.yaml: ") and message in text and "\n" not in text


def test_unknown_partner_is_refused():
    with pytest.raises(RuleError, match=r"^pkg.yaml: partner: "):
        parse_scenario("name: pkg-test\nbase: {date: 2025-10-01}\npartner: NOWHERELAND\n"
                       "purchases: [{prefixes: ['88'], values: {2026: 1.0e9}, additionality: 0.5}]\n", source="pkg.yaml")


def test_bad_fields_exit_1_in_the_cli(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "purchases: [{prefixes: ['88'], values: {2026: -5}, additionality: 0.5}]\n")
    assert main(["simulate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "purchases[0].values[2026]: must be >= 0" in err and len(err.strip().splitlines()) == 1


def test_finer_prefix_needs_a_base(warehouse):
    sc = parse_scenario(HEAD + "partner_tariffs: [{prefixes: ['1006'], from: 0.5, to: 0.0}]\n")
    with pytest.raises(RuleError, match=r"partner_tariffs\[0\]\.prefixes: '1006' is finer than the loaded US export base"):
        sr.simulate(sc)
    given = parse_scenario(HEAD + "partner_tariffs: [{prefixes: ['1006'], from: 0.5, to: 0.0, base: 2.0e8}]\n")
    d = sr.simulate(given).to_dict()["two_sided"]["partner_tariffs"][0]
    assert d["exports_change"] == pytest.approx(2e8 * (1.5 ** 0.76 - 1.0)) and d["base_source"] == "given in the scenario"


def test_investment_trade_effect_only_when_given(warehouse):
    sc = parse_scenario(HEAD + "investment: [{amount: 1.0e11, exports_per_year: 1.0e9, imports_per_year: 4.0e8}]\n")
    plain = {h["name"]: h["value"] for h in sr.simulate("japan-deal").headline}
    d = sr.simulate(sc).to_dict()
    r = _rows(d["two_sided"])
    assert r["exports_from_investment"]["value"] == pytest.approx(1e9)
    # the US regime is 2025-10-01's (japan-deal's): imports gain the given 0.4 bn, the balance +1 bn - 0.4 bn
    assert r["imports_from_partner"]["value"] == pytest.approx(plain["imports_from_partner"] + 4e8)
    assert r["balance_with_partner"]["value"] == pytest.approx(plain["balance_with_partner"] + 6e8)


def test_brief_section_shows_the_two_sided_rows(warehouse):
    res = api.compare(["japan-deal", "japan-deal-2025"], draws=5, seed=0, backend="serial", progress=False)
    sec = S.Section("scenarios", "Comparison", data=res.to_dict())
    S.render_comparison(sec, res)
    table = next(t for t in sec.tables if t.columns[0] == "Two-sided outcome")
    labels = [row[0] for row in table.rows]
    assert "US exports to Japan (FAS value)" in labels and "US goods balance with Japan (exports minus imports)" in labels
    two = _rows(res.packages[1]["two_sided"])
    bal_row = table.rows[labels.index("US goods balance with Japan (exports minus imports)")]
    assert bal_row[2].startswith(fmt.money(two["balance_with_partner"]["value"]))
    levels = next(t for t in sec.tables if t.columns[0] == "Package" and "Flow" in t.columns)
    assert any(row[1] == "balance" for row in levels.rows)
    assert any("memo: investment" in n for n in sec.notes)
    assert "japan-deal-2025" in S.PACKAGES_BY_PARTNER["JPN"]


def test_web_scenarios_page_shows_the_two_sided_rows(tmp_path):
    from fastapi.testclient import TestClient

    from tariffscope.web.app import create_app

    app = create_app(tmp_path / "warehouse.duckdb")
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:
        r = c.post("/scenarios", data={"builtin": ["japan-deal", "japan-deal-2025"], "draws": "0"})
    assert r.status_code == 200
    assert "Two-sided outcome" in r.text and "US goods balance with Japan (exports minus imports)" in r.text
    ref = _rows(api.compare(["japan-deal-2025"], draws=0, progress=False).packages[0]["two_sided"])
    assert fmt.money(ref["exports_to_partner"]["value"]) in r.text
    assert math.isfinite(ref["balance_with_partner"]["value"]) and np.isfinite(ref["imports_from_partner"]["value"])


def test_balance_note_is_front_end_neutral(warehouse, capsys):
    res = api.balance("USA", "JPN", "2024", by="sector")
    note = next(n for n in res.notes if n.startswith("other vintage"))
    assert "--by" not in note and "the headline figure is on the official basis" in note
    assert main(["balance", "--partner", "JPN", "--period", "2024"]) == 0
    assert "(run without --by for it)" in capsys.readouterr().out
