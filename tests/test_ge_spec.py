"""GE experiment SPECs end to end: CLI, the Advanced Guide's chapter 2, Monte Carlo, tariffs by sector."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tariffscope.cli import main
from tariffscope.errors import InputError, RuleError
from tariffscope.models.ge_spec import GE_DATA_DIR, GESpec, load_spec, run_spec

EXAMPLES = GE_DATA_DIR  # the shipped SPECs and their tables (package data)


def test_cli_simulate_writes_country_and_pair_results(tmp_path, capsys):
    code = main(["ge", "simulate", str(EXAMPLES / "canada_japan_pta_exact.yaml"), "--format", "csv",
                 "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    can = [line for line in out.splitlines() if line.startswith("CAN,")][0].split(",")
    assert float(can[1]) == pytest.approx(0.4283, abs=5e-4)  # exact closure, see test_ge_reference
    countries = pd.read_csv(tmp_path / "countries.csv", index_col=0)
    pairs = pd.read_csv(tmp_path / "pairs.csv")
    assert len(countries) == 30 and len(pairs) == 900
    changed = pairs[pairs.flow_change_pct.abs() > 1.0]
    assert {("CAN", "JPN"), ("JPN", "CAN")} <= set(zip(changed.exporter, changed.importer, strict=False))
    d = json.loads((tmp_path / "result.json").read_text())
    assert d["closure"] == "exact" and d["diagnostics"]["adding_up_gap"] < 1e-12


@pytest.mark.raw
@pytest.mark.slow  # a PPML on 4,761 rows (pyfixest compiles on first use) plus the solve
def test_trade_without_borders_matches_the_book(raw):
    # Advanced Guide ch. 2 app. 1; the book's country results ship as data-figure-7.dta. The book
    # iterates PPML re-estimations until price changes move < 0.01 and holds E/Y fixed; we solve to
    # 1e-10 holding the trade balance fixed, so countries agree closely except where E/Y is far from 1.
    run = run_spec(EXAMPLES / "trade_without_borders.yaml")
    mine = run.to_frame()
    book = pd.read_stata(raw / "gravity" / "advanced_guide_2016" / "data-figure-7.dta").set_index("country")
    gdp = pd.concat([mine["real_gdp_change_pct"], book["change_rGDP_FULL"]], axis=1, join="inner")
    assert len(gdp) == 69
    diff = (gdp.iloc[:, 0] - gdp.iloc[:, 1]).abs()
    assert diff.median() < 0.1  # percentage points, on changes of 10-70%
    assert (diff < 0.5).mean() > 0.9
    assert np.corrcoef(gdp.iloc[:, 0], gdp.iloc[:, 1])[0, 1] > 0.999
    # nominal figures in the book's numeraire (Germany's consumer prices)
    price = pd.concat([mine["factory_price_change_pct"], book["change_price_FULL"]], axis=1, join="inner")
    assert (price.iloc[:, 0] - price.iloc[:, 1]).abs().median() < 0.1
    assert run.experiment.coefficients["INTL_BRDR"] == pytest.approx(-2.474, abs=1e-3)


def test_monte_carlo_is_reproducible_and_backend_independent():
    serial = run_spec(EXAMPLES / "canada_japan_pta.yaml", monte_carlo_draws=6, backend="serial")
    again = run_spec(EXAMPLES / "canada_japan_pta.yaml", monte_carlo_draws=6, backend="process", workers=2)
    a, b = serial.monte_carlo, again.monte_carlo
    pd.testing.assert_frame_equal(a.real_gdp, b.real_gdp)
    f = serial.to_frame()
    assert (f["real_gdp_change_std"] > 0).all()
    # draws are centred on the point estimate: Canada's mean within 3 std errors of the mean
    can = f.loc["CAN"]
    assert abs(can["real_gdp_change_mean"] - can["real_gdp_change_pct"]) < 3 * can["real_gdp_change_std"]
    assert a.coefficient_draws.shape == (6, 6)


def test_us_japan_tariff_experiment():
    run = run_spec(EXAMPLES / "us_tariffs_2025_japan.yaml")
    r = run.result
    f = run.to_frame()
    pairs = run.pairs_frame().set_index(["exporter", "importer"])
    assert pairs.loc[("JPN", "USA"), "flow_change_pct"] < -30  # sigma 5, tariff 1.7% -> 17.4%
    usa = r.countries.index("USA")
    assert r.tariff_revenue1[usa] > 5 * r.tariff_revenue0[usa]
    assert f.loc["JPN", "real_gdp_change_pct"] < 0 < f.loc["CAN", "real_gdp_change_pct"]  # diversion
    assert r.diagnostics["adding_up_gap"] < 1e-12
    assert "tariff engine" in run.to_dict()["rates_source"]


def _sector_world() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    cs, ss = ["AAA", "BBB", "CCC"], ["agri", "manu"]
    rows = [{"exporter": e, "importer": i, "sector": s, "year": 2020,
             "trade": (50.0 if e == i else 5.0) * rng.uniform(0.5, 1.5)} for e in cs for i in cs for s in ss]
    return pd.DataFrame(rows)


def test_sector_tariff_spec_hits_only_that_sector():
    spec = GESpec.model_validate({
        "name": "toy", "data": {"path": "inline", "sector": "sector"}, "coefficients": {"given": {}},
        "model": {"sigma": {"agri": 3.0, "manu": 6.0}},
        "changes": [{"tariff": "ad_valorem", "importer": "AAA", "exporters": ["BBB"], "rate": 0.25, "sectors": ["manu"]}],
    })
    run = run_spec(spec, data=_sector_world())
    sp = run.result.sector_pairs_frame().set_index(["exporter", "importer", "sector"])
    assert sp.loc[("BBB", "AAA", "manu"), "flow_change_pct"] < -50  # 0.8^6 ~ -74% before GE effects
    assert abs(sp.loc[("BBB", "AAA", "agri"), "flow_change_pct"]) < 5
    assert run.result.diagnostics["adding_up_gap"] < 1e-12


def test_spec_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndata: {path: a.csv}\ncoefficients: {given: {a: 1}}\nmodel: {sigma: 5, colsure: exact}\n")
    with pytest.raises(RuleError, match="model.colsure: Extra inputs are not permitted"):
        load_spec(bad)
    with pytest.raises(InputError, match="SPEC file not found"):
        load_spec(tmp_path / "missing.yaml")
    both = GESpec.model_validate  # given and estimate together is refused
    with pytest.raises(Exception, match="exactly one of 'given' or 'estimate'"):
        both({"name": "x", "data": {"path": "a"}, "coefficients": {"given": {}, "estimate": {"formula": "y ~ x"}}})
    spec = GESpec.model_validate({"name": "x", "data": {"path": "inline", "sector": "sector"}, "coefficients": {"given": {}},
                                  "changes": [{"tariff": "ad_valorem", "importer": "ZZZ", "rate": 0.1}]})
    with pytest.raises(InputError, match="importer 'ZZZ' is not in the data"):
        run_spec(spec, data=_sector_world())


def test_shipped_experiments_resolve_by_name():
    from tariffscope.models.ge_spec import resolve_experiment

    assert resolve_experiment("us-japan-2025").name == "us_tariffs_2025_japan.yaml"
    assert resolve_experiment("trade_without_borders").name == "trade_without_borders.yaml"
    assert resolve_experiment("canada-japan-pta (exact hat algebra)").name == "canada_japan_pta_exact.yaml"
    with pytest.raises(InputError, match="unknown GE experiment 'nope'; shipped: .*us-japan-2025"):
        resolve_experiment("nope")


def _japan_spec(**model):
    from tariffscope.models.ge_spec import resolve_experiment

    spec, base = load_spec(resolve_experiment("us_tariffs_2025_japan"))
    return spec.model_copy(update={"model": spec.model.model_copy(update=model)}), base


def test_us_2024_base_reweights_the_us_row_and_column_only():
    """The updated base: US imports/exports by partner in 2024 shares, US totals and partners' outputs kept."""
    from tariffscope.models.ge_spec import _us_trade_2024, us_2024_flows

    spec, base = _japan_spec()
    book = run_spec(spec, base_dir=base)
    f0, c = book.result.flows0, list(book.result.countries)
    f1, note = us_2024_flows(f0, tuple(c))
    u, j = c.index("USA"), c.index("JPN")
    others = [i for i in range(len(c)) if i != u]
    assert f1[others, u].sum() == pytest.approx(f0[others, u].sum(), rel=1e-12)   # US imports kept
    assert f1[u, others].sum() == pytest.approx(f0[u, others].sum(), rel=1e-12)   # US exports kept
    np.testing.assert_allclose(f1.sum(axis=1)[others], f0.sum(axis=1)[others], rtol=1e-12)  # partners' output kept
    assert f1.sum() == pytest.approx(f0.sum(), rel=1e-12)
    tab = _us_trade_2024()
    codes = [{"ROM": "ROU"}.get(c[i], c[i]) for i in others]
    share = tab.loc["JPN", "us_imports"] / tab.loc[codes, "us_imports"].sum()
    assert f1[j, u] / f1[others, u].sum() == pytest.approx(share, rel=1e-12)
    assert f0[j, u] / f0[others, u].sum() > 0.10 and share < 0.07  # the book's 2006 Japan vs 2024's (among its partners)
    assert "2024" in note
    new = run_spec(_japan_spec(base="us_2024")[0], base_dir=base).to_dict()
    assert new["base"]["base"] == "us_2024" and new["base"]["base_year"] == 2006 and "2024" in new["base"]["text"]
    assert "real income" in new["measures"]["real_gdp_change_pct"] and "GDP forecasts" in new["not_comparable"]
    us_new = next(x for x in new["countries"] if x["country"] == "USA")["real_gdp_change_pct"]
    us_book = book.to_frame().loc["USA", "real_gdp_change_pct"]
    assert abs(us_new) < abs(us_book)  # Japan matters less to the US in 2024's mix: a smaller effect


def test_sigma_monte_carlo(tmp_path):
    """Draws over sigma alone (no coefficient covariance): bands around the point, reproducible, sigma percentiles
    near the stated range; a range that does not contain sigma is one clear error."""
    spec, base = _japan_spec(sigma_range=(3.0, 8.0))
    a = run_spec(spec, base_dir=base, monte_carlo_draws=40, backend="serial")
    b = run_spec(spec, base_dir=base, monte_carlo_draws=40, backend="serial")
    fa = a.to_frame()
    pd.testing.assert_frame_equal(fa, b.to_frame())
    jpn = fa.loc["JPN"]
    assert jpn["real_gdp_change_p05"] < jpn["real_gdp_change_pct"] < jpn["real_gdp_change_p95"]
    sig = a.to_dict()["monte_carlo"]["sigma"]
    assert sig["p05"] < 5.0 < sig["p95"]
    from tariffscope.models.ge_spec import draw_sigma

    # lognormal with the wider side of [3, 8] at the 5th/95th percentile: ln(5/3) > ln(8/5), so 3 and 5^2/3
    p = np.percentile(draw_sigma(5.0, 3.0, 8.0, 200_000, 0), [5, 95])
    np.testing.assert_allclose(p, [3.0, 25.0 / 3.0], rtol=0.01)
    with pytest.raises(Exception, match="sigma_range must satisfy"):
        _japan_spec(sigma_range=(6.0, 8.0))[0].model.model_validate({"sigma": 5, "sigma_range": [6, 8]})
    plain, _ = _japan_spec(sigma_range=None)
    with pytest.raises(InputError, match="or model.sigma_range"):
        run_spec(plain, base_dir=base, monte_carlo_draws=5, backend="serial")
