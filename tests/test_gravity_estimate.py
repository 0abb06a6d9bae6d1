"""PPML gravity through pyfixest: the Advanced Guide's chapter 1 estimates, separation, data prep, loaders."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tariffscope import api
from tariffscope.cli import main
from tariffscope.errors import DataNotFoundError, IngestError, InputError, ModelError
from tariffscope.models.gravity import estimate_ppml, load_trade_matrix, prepare_panel

AG = ("gravity", "advanced_guide_2016")


@pytest.mark.raw
def test_chapter1_table1_ppml_reproduces_the_book(raw):
    # Yotov et al. (2016), Table 1 col. (4) "PPML": international flows, years 1986-2006 every 4 years,
    # exporter-year and importer-year FE, errors clustered by pair. Published: ln DIST -0.841 (0.032),
    # CNTG 0.437 (0.083), LANG 0.247 (0.077), CLNY -0.222 (0.116), N = 28,152.
    est = api.estimate_gravity(raw.joinpath(*AG, "Chapter1Application1.dta"),
                               "trade ~ ln_DIST + CNTG + LANG + CLNY | exporter^year + importer^year",
                               cluster="pair_id", years=list(range(1986, 2007, 4)), international_only=True,
                               derive={"ln_DIST": "log(DIST)"})
    published = {"ln_DIST": (-0.841, 0.032), "CNTG": (0.437, 0.083), "LANG": (0.247, 0.077), "CLNY": (-0.222, 0.116)}
    for term, (b, se) in published.items():
        assert est.coefficients[term] == pytest.approx(b, abs=6e-4), term
        assert est.std_errors[term] == pytest.approx(se, rel=0.03), term  # small-sample factor differs from Stata
    assert est.n_obs == 28152
    assert est.fixed_effects == ["exporter_x_year", "importer_x_year"]
    assert est.vcov.shape == (4, 4)
    np.testing.assert_allclose(np.sqrt(np.diag(est.vcov.to_numpy())), est.std_errors.to_numpy())


@pytest.mark.raw
@pytest.mark.slow
def test_chapter1_rta_effect_with_pair_fixed_effects(raw):
    # Table 3 col. (4): RTA with exporter-year, importer-year and pair FE (domestic flows included):
    # published 0.557 (0.102). Pairs that never trade are separated by their pair FE: pyfixest drops
    # them and we report how many (84 observations = 14 pairs x 6 years).
    df = pd.read_stata(raw.joinpath(*AG, "Chapter2Application2.dta"))
    df = df[df["year"].isin(range(1986, 2007, 4))].reset_index(drop=True)
    est = estimate_ppml(df, "trade ~ RTA | exporter^year + importer^year + pair_id", cluster="pair_id")
    assert est.coefficients["RTA"] == pytest.approx(0.557, abs=6e-4)
    assert est.std_errors["RTA"] == pytest.approx(0.102, rel=0.03)
    assert est.n_dropped_separation == 84
    assert est.n_obs == len(df) - 84
    assert any("separation" in n for n in est.notes)


def _toy_panel(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cs = [f"C{i}" for i in range(8)]
    rows = []
    for y in (2000, 2001):
        for e in cs:
            for i in cs:
                dist = 1.0 if e == i else 2.0 + abs(hash((min(e, i), max(e, i)))) % 50
                mu = np.exp(5 - 1.0 * np.log(dist))
                rows.append({"exporter": e, "importer": i, "year": y, "trade": rng.poisson(mu * 10) / 10.0,
                             "ln_dist": np.log(dist), "pair": f"{min(e, i)}-{max(e, i)}"})
    return pd.DataFrame(rows)


def test_separation_is_dropped_by_pyfixest_and_reported():
    df = _toy_panel()
    df.loc[df["importer"] == "C7", "trade"] = 0.0  # C7 never imports: its importer FE separates
    est = estimate_ppml(df, "trade ~ ln_dist | exporter + importer", cluster="pair")
    assert est.n_dropped_separation == 16  # 8 exporters x 2 years
    assert est.n_obs == len(df) - 16
    assert est.coefficients["ln_dist"] < 0
    assert est.fitted is not None and est.fitted.notna().sum() == est.n_obs


def test_bad_formula_and_columns_are_clear_errors():
    df = _toy_panel()
    with pytest.raises(InputError, match="formula needs"):
        estimate_ppml(df, "trade ln_dist")
    with pytest.raises(InputError, match="cluster variable 'nope'"):
        estimate_ppml(df, "trade ~ ln_dist | exporter", cluster="nope")
    with pytest.raises(InputError, match="fixed-effect variable 'zzz'"):
        estimate_ppml(df, "trade ~ ln_dist | exporter^zzz")
    with pytest.raises(ModelError, match="PPML estimation failed"):
        estimate_ppml(df, "trade ~ not_a_column | exporter")


def test_prepare_panel_squares_and_reports_domestic():
    df = _toy_panel()
    cut = df[~((df.exporter == "C1") & (df.importer == "C2") & (df.year == 2001))]
    cut = cut[~((cut.exporter == "C3") & (cut.importer == "C3"))]
    out, rep = prepare_panel(cut)
    assert len(out) == 8 * 8 * 2
    assert rep.missing_pairs_filled == 1 + 2
    assert rep.countries_without_domestic == ["C3"]
    filled = out[(out.exporter == "C1") & (out.importer == "C2") & (out.year == 2001)].iloc[0]
    assert filled["trade"] == 0.0 and filled["ln_dist"] == pytest.approx(df.loc[(df.exporter == "C1") & (df.importer == "C2"), "ln_dist"].iloc[0])


def test_load_trade_matrix_adapters(tmp_path):
    # ITPD-E style with industries, including domestic flows
    itpde = pd.DataFrame({
        "exporter_iso3": ["AAA", "AAA", "BBB", "BBB", "AAA", "BBB"],
        "importer_iso3": ["AAA", "BBB", "AAA", "BBB", "AAA", "BBB"],
        "year": [2019] * 6, "industry_id": [1, 1, 1, 1, 2, 2], "trade": [10.0, 2.0, 3.0, 20.0, 5.0, 7.0]})
    itpde = pd.concat([itpde, itpde.assign(year=2018, trade=1.0)])
    p = tmp_path / "itpde.csv"
    itpde.to_csv(p, index=False)
    m = load_trade_matrix(p, "itpde", sectors=True)
    assert m.year == 2019 and m.countries == ("AAA", "BBB") and m.sectors == ("1", "2")
    assert m.flows.shape == (2, 2, 2) and m.flows[0, 1, 0] == 2.0 and m.flows[1, 1, 1] == 7.0
    agg = load_trade_matrix(p, "itpde", year=2018)
    assert agg.flows.sum() == 6.0
    # BACI: no domestic sales, so production is needed; domestic = output - exports
    baci = pd.DataFrame({"t": [2022, 2022], "i": ["AAA", "BBB"], "j": ["BBB", "AAA"], "k": ["x", "x"], "v": [4.0, 6.0]})
    b = tmp_path / "baci.csv"
    baci.to_csv(b, index=False)
    prod = pd.DataFrame({"country": ["AAA", "BBB"], "year": [2022, 2022], "output": [50.0, 30.0]})
    mb = load_trade_matrix(b, "baci", production=prod)
    np.testing.assert_allclose(mb.flows, [[46.0, 4.0], [6.0, 24.0]])
    with pytest.raises(InputError, match="production"):
        load_trade_matrix(b, "baci")
    with pytest.raises(IngestError, match="output below exports"):
        load_trade_matrix(b, "baci", production=prod.assign(output=[1.0, 30.0]))
    # Advanced Guide .dta and gegravity .dlm
    ag = pd.DataFrame({"exporter": ["AAA", "AAA", "BBB", "BBB"], "importer": ["AAA", "BBB", "AAA", "BBB"],
                       "year": [2006.0] * 4, "trade": [1.0, 2.0, 3.0, 4.0]})
    d = tmp_path / "ag.dta"
    ag.to_stata(d, write_index=False)
    assert load_trade_matrix(d, "agtpa").flows.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    g = tmp_path / "s.dlm"
    ag.to_csv(g, index=False)
    mg = load_trade_matrix(g, "gegravity", year=2006)
    assert mg.missing_domestic == [] and mg.to_frame()["trade"].sum() == 10.0
    with pytest.raises(DataNotFoundError, match="no rows for year 1999"):
        load_trade_matrix(g, "gegravity", year=1999)
    with pytest.raises(InputError, match="unknown kind"):
        load_trade_matrix(g, "comtrade")


def test_cli_gravity_estimate(tmp_path, capsys):
    p = tmp_path / "toy.csv"
    _toy_panel().to_csv(p, index=False)
    code = main(["gravity", "estimate", str(p), "--formula", "trade ~ ln_dist | exporter^year + importer^year",
                 "--cluster", "pair", "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "term,coefficient,std_error,z"
    assert out.splitlines()[1].startswith("ln_dist,-")
    code = main(["gravity", "estimate", str(p), "--formula", "trade ~ ln_dist | exporter", "--cluster", "nope"])
    assert code == 1
    assert "Error: cluster variable 'nope' not in the data" in capsys.readouterr().err


def test_fixef_argument_is_the_same_as_the_formula_part():
    df = _toy_panel(3)
    a = estimate_ppml(df, "trade ~ ln_dist | exporter^year + importer^year", cluster="pair")
    b = estimate_ppml(df, "trade ~ ln_dist", ["exporter^year", "importer^year"], "pair")
    assert a.coefficients["ln_dist"] == pytest.approx(b.coefficients["ln_dist"], rel=1e-12)
    assert a.std_errors["ln_dist"] == pytest.approx(b.std_errors["ln_dist"], rel=1e-12)
    with pytest.raises(InputError, match="not both"):
        estimate_ppml(df, "trade ~ ln_dist | exporter", "importer")
