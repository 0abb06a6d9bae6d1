"""The USTR reciprocal formula for every partner against the published EO 14257 Annex I rates.

The rounding is checked on the cases the USTR table itself shows; the warehouse tests check a set of
countries against the rates of Annex I (as published in the HTS, 9903.01.43-9903.01.76) and pin why each
outlier differs.
"""
from __future__ import annotations

import json
import math

import pytest

from tariffscope.cli import main
from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.trade.reciprocal import EXPLANATIONS, reciprocal_formula, round_rate


@pytest.mark.parametrize("half, computed, rounding, expected", [
    (0.2311, 0.4622, "up", 0.24),     # Japan in the USTR table: 46% -> 24%
    (0.4522, 0.9044, "up", 0.46),     # Vietnam: 90% -> 46%
    (0.23, 0.46, "up", 0.23),         # a whole percent stays
    (0.2507, 0.5014, "table", 0.25),  # Korea: the table's 50% -> 25%
    (0.2622, 0.5244, "table", 0.26),  # India: 52% -> 26%
    (0.1945, 0.389, "table", 0.20),   # EU: 39% -> 19.5% -> 20%
    (0.2311, 0.4622, "none", 0.2311),
])
def test_published_rounding(half, computed, rounding, expected):
    assert math.isclose(round_rate(half, computed, rounding), expected)


# Annex I of EO 14257 as published in the HTS (2025_rev_7) and why the formula on the loaded 2024 data differs.
ANNEX_I = {
    # partner: (published rate, explanation)
    "JPN": (0.24, "match"), "VNM": (0.46, "match"), "CHN": (0.34, "match"), "EU27": (0.20, "match"),
    "TWN": (0.32, "match"), "THA": (0.36, "match"), "IDN": (0.32, "match"), "MYS": (0.24, "match"),
    "KHM": (0.49, "match"), "BGD": (0.37, "match"),
    "KOR": (0.25, "rounding"),         # 25.07%: the USTR table printed 50%, halved = 25%
    "IND": (0.26, "rounding"),         # 26.2%: 52% in the table -> 26%
    "CHE": (0.31, "near"),             # 29.4% on imports for consumption; the USTR's figures gave 61%
    "DEU": (0.20, "eu_single_rate"),   # its own trade gives 25%, the EU rate applies
    "IRL": (0.20, "eu_single_rate"),
    "HKG": (0.34, "other_rules"),      # a US surplus, but China's heading 9903.01.63 covers Hong Kong
    "CAN": (None, "other_rules"),      # outside the reciprocal tariff
    "MEX": (None, "other_rules"),
    "RUS": (None, "other_rules"),      # column 2 country: no reciprocal duty (9903.01.29)
    "GBR": (0.10, "floor"),            # US surplus
    "AUS": (0.10, "floor"),
    "LBY": (0.31, "data"),             # imports for consumption without ch. 98/99: 77.7% deficit ratio vs ~62%
}


@pytest.fixture(scope="module")
def formula(warehouse):
    return reciprocal_formula(con=warehouse)


@pytest.mark.slow
def test_japan_formula_23_to_24_against_published_24(formula):
    r = formula.row("JPN")
    assert 0.23 <= r.formula_unrounded <= 0.24 and r.formula_rate == 0.24 and r.published_rate == 0.24
    assert r.published_heading == "9903.01.53" and r.imports_basis == "general" and r.release == "revised"
    assert round(r.balance / 1e9, 2) == -68.25  # the official-basis headline's trade


@pytest.mark.slow
def test_set_of_countries_against_annex_i(formula):
    for partner, (published, why) in ANNEX_I.items():
        r = formula.row(partner)
        assert (r.published_rate is None) == (published is None), partner
        if published is not None:
            assert math.isclose(r.published_rate, published), (partner, r.published_rate)
        assert r.explanation == why, (partner, r.explanation, r.explanation_text)
        if why == "match":
            assert r.formula_rate == r.published_rate
        elif why in ("rounding", "near", "data", "eu_single_rate"):
            assert r.formula_rate != r.published_rate and r.explanation_text


@pytest.mark.slow
def test_every_partner_has_a_row_and_every_difference_an_explanation(formula):
    assert len(formula.rows) >= 200
    assert len({r.partner for r in formula.rows}) == len(formula.rows)
    for r in formula.rows:
        assert r.explanation in EXPLANATIONS and r.explanation_text
        assert r.formula_rate >= 0.10
        if r.published_rate is not None and abs(r.formula_rate - r.published_rate) > 1e-9:
            assert r.explanation != "match", r.partner
    # EU members carry the EU's single rate
    assert {r.published_rate for r in formula.rows if r.explanation == "eu_single_rate"} == {0.20}


@pytest.mark.slow
def test_parameters_basis_and_vintage(warehouse):
    crit = reciprocal_formula(pass_through=1.0, con=warehouse).row("JPN")
    # 46.4% / (4 x 1) / 2 = 5.8%: the floor; the USTR's own parameters give 24%
    assert crit.formula_rate == 0.10 and crit.ustr_formula_rate == 0.24 and math.isclose(crit.parameter_effect, -0.14)
    pre = reciprocal_formula(basis="consumption", vintage="pre-revision", con=warehouse).row("JPN")
    # CATALOG.md: imports for consumption 151.34 bn (HS10 pull), exports 78.98 bn (DataWeb)
    assert round(pre.imports / 1e9, 2) == 151.34 and round(pre.exports / 1e9, 2) == 78.98
    assert pre.imports_basis == "consumption" and pre.formula_rate == 0.24


def test_bad_input_is_one_clear_error():
    for kw in ({"basis": "cif"}, {"vintage": "latest"}, {"elasticity": 0}, {"pass_through": -1},
               {"rounding": "down"}, {"floor": 1.5}):
        with pytest.raises(InputError):
            reciprocal_formula(**kw)
    with pytest.raises(InputError, match="bad year"):
        reciprocal_formula(year="24")


@pytest.mark.slow
def test_year_without_imports(warehouse):
    with pytest.raises(DataNotFoundError, match="no US imports by partner loaded for 2023"):
        reciprocal_formula(year=2023, con=warehouse)


@pytest.mark.slow
def test_cli_json_all_partners_and_chart(capsys, tmp_path):
    assert main(["formula", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["rows"]) >= 200 and d["elasticity"] == 4.0 and d["pass_through"] == 0.25
    jpn = next(r for r in d["rows"] if r["partner"] == "JPN")
    assert jpn["formula_rate"] == 0.24 and jpn["published_rate"] == 0.24
    out = tmp_path / "formula.png"
    assert main(["formula", "--partner", "JPN,KOR", "--format", "csv", "--chart", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("partner,name,exports") and text.splitlines()[1].startswith("JPN,Japan")
    assert out.stat().st_size > 10_000
    assert main(["formula", "--format", "xml"]) == 1
