"""`balance --panel` and the PE model on a world panel: any importer, any reporter pair.

A small BACI-shaped file (t,i,j,k,v,q; M49 codes; HS6 as integers; values in thousand USD) is
written in tmp, ingested, and the expected figures are computed with pandas / a direct
``models.pe.solve_pe`` call on the same generated flows.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tariffscope import api
from tariffscope.cli import main
from tariffscope.errors import InputError
from tariffscope.models.pe import solve_pe

M49 = {"DEU": 276, "CHN": 156, "FRA": 250, "USA": 842, "JPN": 392, "KOR": 410}
YEAR = 2022
NAME = "pe_world"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    rng = np.random.default_rng(11)
    products = np.unique(rng.choice(np.arange(1, 98), 300) * 10_000 + rng.integers(100, 9999, 300))
    rows = [(YEAR, i, j, k) for i in M49.values() for j in M49.values() if i != j for k in products
            if rng.random() < 0.5]
    df = pd.DataFrame(rows, columns=["t", "i", "j", "k"])
    df["v"] = np.round(rng.gamma(0.8, 5_000.0, len(df)), 3) + 0.001
    df["q"] = np.round(rng.gamma(0.5, 50.0, len(df)), 3)
    p = tmp_path_factory.mktemp("baci_pe") / f"BACI_HS17_Y{YEAR}_V202401b.csv"
    df.to_csv(p, index=False)
    api.ingest_panel(p, NAME)
    return df


def _pair(df, exp, imp):
    return df[(df.i == M49[exp]) & (df.j == M49[imp])]


def test_balance_cli_panel_table_json_csv(world, capsys):
    exports = _pair(world, "DEU", "CHN").v.sum() * 1000  # DEU -> CHN, USD
    imports = _pair(world, "CHN", "DEU").v.sum() * 1000
    main(["balance", "--panel", NAME, "--reporter", "DEU", "--partner", "CHN", "--period", str(YEAR), "--by", "hs2",
          "--format", "json"])
    d = json.loads(capsys.readouterr().out)
    assert d["exports"] == pytest.approx(exports) and d["imports"] == pytest.approx(imports)
    assert d["balance"] == pytest.approx(exports - imports)
    by_hs2 = (_pair(world, "DEU", "CHN").assign(h=lambda x: x.k.map(lambda k: f"{k:06d}"[:2])).groupby("h").v.sum() * 1000)
    got = {r["sector"]: r["exports"] for r in d["sectors"]}
    assert got[f"{by_hs2.index[0]:s}"] == pytest.approx(by_hs2.iloc[0])
    assert d["sources"][0]["vintage"] == "V202401b" and d["panel"] == NAME

    main(["balance", "--panel", NAME, "--reporter", "DEU", "--partner", "CHN", "--period", str(YEAR), "--by", "total",
          "--format", "csv"])
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0] == "sector,exports,imports,balance,share_of_balance" and len(out) == 2 and out[-1].startswith("TOTAL,")
    assert float(out[-1].split(",")[3]) == pytest.approx(exports - imports)

    main(["balance", "--panel", NAME, "--reporter", "DEU", "--partner", "CHN", "--period", str(YEAR), "--top", "3"])
    out = capsys.readouterr().out
    assert "Goods trade of DEU with CHN, 2022" in out and "TOTAL" in out
    assert f"source: panel:{NAME}: world panel {NAME} (BACI_HS17_Y{YEAR}_V202401b.csv), vintage V202401b" in out


def test_balance_cli_panel_errors(world, capsys):
    assert main(["balance", "--panel", NAME, "--reporter", "DEU", "--partner", "CHN", "--period", "2022-05"]) == 1
    assert "a world panel is annual" in capsys.readouterr().err
    assert main(["balance", "--panel", NAME, "--reporter", "DEU", "--partner", "CHN", "--period", "2022",
                 "--currency", "JPY"]) == 1
    assert "--currency not available with --panel" in capsys.readouterr().err


def _scenario(rate=0.10, **model):
    return api.scenario_from_dict({
        "name": "deu-chn-plus-10", "base": "no_additional_tariffs", "partner": "CHN",
        "changes": [{"origins": ["CHN"], "mode": "add", "rate": rate}],
        "model": {"sigma": 4.0, "eta": 1.5, **model}})


def test_pe_on_panel_equals_direct_solve(world):
    res = api.simulate(_scenario(), panel=NAME, importer="DEU", year=YEAR, progress=False)
    h = {m["name"]: m["value"] for m in res.headline}
    # Direct PE on the same flows: DEU's imports by HS6 x origin, base rate 0, +10% on CHN.
    imp = world[world.j == M49["DEU"]].assign(origin=lambda x: x.i.map({v: k for k, v in M49.items()}),
                                               product=lambda x: x.k.map(lambda k: f"{k:06d}"))
    imp = imp.groupby(["product", "origin"], as_index=False).v.sum()
    prods, pidx = np.unique(imp["product"].to_numpy(), return_inverse=True)
    value = imp.v.to_numpy() * 1000
    new = np.where(imp.origin == "CHN", 0.10, 0.0)
    n = len(value)
    d = solve_pe(pidx, value, np.zeros(n), new, np.full(n, 4.0), np.full(n, 1.5))
    chn = (imp.origin == "CHN").to_numpy()
    d_chn = float((d.value_new - d.value_base)[chn].sum())
    assert np.isfinite(h["imports_from_partner"]) and h["imports_from_partner"] < 0
    assert h["imports_from_partner"] == pytest.approx(d_chn, rel=1e-9)
    assert h["tariff_revenue"] == pytest.approx(float((d.revenue_new - d.revenue_base).sum()), rel=1e-9)
    assert h["trade_diversion"] > 0  # other origins gain
    assert all(v is None or np.isfinite(v) for v in h.values())
    dd = res.to_dict()
    assert dd["flows"]["importer"] == "DEU" and dd["flows"]["lines"] == n
    assert "DEU imports from the partner (customs value)" in [m["label"] for m in dd["headline"]]
    assert dd["sources"][0]["vintage"] == "V202401b"


def test_pe_on_panel_rejects_us_regimes(world):
    dated = api.scenario_from_dict({"name": "dated", "base": {"date": "2025-06-15"}, "partner": "CHN",
                                    "changes": [{"origins": ["CHN"], "mode": "add", "rate": 0.1}]})
    with pytest.raises(InputError, match="does not apply to imports of DEU"):
        api.simulate(dated, panel=NAME, importer="DEU", year=YEAR, progress=False)
    with pytest.raises(InputError, match="needs an importer and a year"):
        api.simulate(_scenario(), panel=NAME, progress=False)


def test_simulate_cli_on_panel(world, tmp_path, capsys):
    p = tmp_path / "fra-jpn.yaml"
    p.write_text("name: fra-jpn\nbase: no_additional_tariffs\npartner: JPN\n"
                 "changes:\n  - {origins: [JPN], mode: add, rate: 0.10}\nmodel: {sigma: 4, eta: 1.5}\n")
    main(["simulate", str(p), "--panel", NAME, "--importer", "FRA", "--year", str(YEAR), "--format", "json"])
    d = json.loads(capsys.readouterr().out)
    h = {m["name"]: m["value"] for m in d["headline"]}
    assert h["imports_from_partner"] < 0 and d["flows"]["importer"] == "FRA"
    assert d["against"].startswith("zero tariffs on FRA's 2022 flows")
