"""Parity with gegravity 0.3 (the USITC package) on its sample data and documented experiment.

gegravity runs in the same session (one module-scoped run, tightened solver tolerances so its own
numerical error is far below the 1e-4 comparison); our solver is fed the same data and coefficients.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tariffscope.models.ge_spec import GE_DATA_DIR, run_spec

EXAMPLES = GE_DATA_DIR  # the shipped SPECs and their tables (package data)

pytestmark = [pytest.mark.reference, pytest.mark.raw]

COEFS = {"lndist": -0.3898623, "contiguity": 0.891577, "common_language": 0.0326249, "pta": 0.4711383,
         "international": -3.412584, "constant": 16.32434}  # gegravity 0.3 documentation (ppmlhdfe)


@pytest.fixture(scope="module")
def sample(raw) -> pd.DataFrame:
    d = pd.read_csv(raw / "gravity" / "gegravity_sample" / "sample_data_set.dlm")
    d["constant"] = 1
    return d


@pytest.fixture(scope="module")
def gegravity_model(sample):
    gegravity = pytest.importorskip("gegravity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = sample.copy()
        base = gegravity.BaselineData(data, imp_var_name="importer", exp_var_name="exporter", year_var_name="year",
                                      trade_var_name="trade", expend_var_name="E", output_var_name="Y")
        ests = pd.DataFrame([(k, v, 0.1) for k, v in COEFS.items()], columns=["var", "beta", "stderr"])
        cc = gegravity.CostCoeffs(estimates=ests, identifier_col="var", coeff_col="beta", stderr_col="stderr")
        m = gegravity.OneSectorGE(base, year="2006", reference_importer="DEU", sigma=5, cost_coeff_values=cc,
                                  cost_variables=list(COEFS), quiet=True)
        m.build_baseline(omr_rescale=1, mr_tolerance=1e-13, mr_max_iter=100_000)
        exp = m.baseline_data.copy()
        exp.loc[(exp["importer"] == "CAN") & (exp["exporter"] == "JPN"), "pta"] = 1
        exp.loc[(exp["importer"] == "JPN") & (exp["exporter"] == "CAN"), "pta"] = 1
        m.define_experiment(exp)
        m.simulate(ge_tolerance=1e-13, ge_max_iter=100_000)
    return m


@pytest.fixture(scope="module")
def ours():
    return run_spec(EXAMPLES / "canada_japan_pta.yaml")


# (our column, gegravity's country_results column, transform of gegravity's value to ours)
PAIRS = [
    ("real_gdp_change_pct", "GDP change (percent)", lambda v: v),
    ("factory_price_change_pct", "factory gate price change (percent)", lambda v: v),
    ("consumer_price_change_pct", "imr change (percent)", lambda v: v),
    ("omr_change_pct", "omr change (percent)", lambda v: v),
    ("output_change_pct", "output change (percent)", lambda v: v),
    ("expenditure_change_pct", "expenditure change (percent)", lambda v: v),
    ("exports_change_pct", "foreign exports change (percent)", lambda v: v),
    ("imports_change_pct", "foreign imports change (percent)", lambda v: v),
    ("domestic_change_pct", "intranational trade change (percent)", lambda v: v),
    ("welfare_change_pct", "welfare statistic", lambda v: 100 * (1 / v - 1)),  # gegravity: (E/P)/(E'/P')
]


def test_every_country_matches_gegravity_within_1e_4(gegravity_model, ours):
    theirs = gegravity_model.country_results
    mine = ours.to_frame()
    assert sorted(mine.index) == sorted(theirs.index)
    for col, gcol, f in PAIRS:
        g = f(theirs[gcol].astype(float)).reindex(mine.index)
        np.testing.assert_allclose(mine[col], g, rtol=1e-4, atol=1e-9, err_msg=col)
    # levels: multilateral resistances, output and bilateral flows
    mr = gegravity_model.country_mr_terms.reindex(mine.index)
    res = ours.result
    np.testing.assert_allclose(res.imr0, mr["baseline imr"], rtol=1e-4)
    np.testing.assert_allclose(res.imr1, mr["experiment imr"], rtol=1e-4)
    np.testing.assert_allclose(res.omr0, mr["baseline omr"], rtol=1e-4)
    np.testing.assert_allclose(res.omr1, mr["experiment omr"], rtol=1e-4)
    bil = gegravity_model.bilateral_trade_results
    pairs = ours.pairs_frame().set_index(["exporter", "importer"])
    np.testing.assert_allclose(pairs["flow_baseline"], bil["baseline modeled trade"].reindex(pairs.index), rtol=1e-4)
    np.testing.assert_allclose(pairs["flow_counterfactual"], bil["experiment trade"].reindex(pairs.index), rtol=1e-4)


def test_documented_canada_figures(ours):
    # gegravity's documentation: Canada GDP +0.418261%, factory-gate price -0.135770%
    can = ours.to_frame().loc["CAN"]
    assert can["real_gdp_change_pct"] == pytest.approx(0.418261, abs=1e-6)
    assert can["factory_price_change_pct"] == pytest.approx(-0.135770, abs=1e-6)


def test_exact_closure_differs_from_gegravity_at_second_order(ours):
    # gegravity solves resistances with baseline shares; with markets re-cleared at the new output
    # values (exact hat algebra) Canada's gain is 0.428% instead of 0.418%: same sign and order,
    # a 2-3% relative difference that we document rather than hide.
    exact = run_spec(EXAMPLES / "canada_japan_pta_exact.yaml").to_frame()
    can_exact = exact.loc["CAN", "real_gdp_change_pct"]
    can_gg = ours.to_frame().loc["CAN", "real_gdp_change_pct"]
    assert can_exact == pytest.approx(0.4283, abs=5e-4)
    assert 0.01 < (can_exact - can_gg) / can_gg < 0.05
    np.testing.assert_array_equal(np.sign(exact["real_gdp_change_pct"].round(4)),
                                  np.sign(ours.to_frame()["real_gdp_change_pct"].round(4)))
