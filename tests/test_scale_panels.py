"""World panels: BACI-style CSV -> partitioned Parquet -> balances for any pair, checked against pandas.

The tests write their own files at BACI's shape: 200 countries (UN M49 codes, BACI's 842 for the USA),
5,000 HS6 products (written as integers, so 010121 appears as 10121, as in BACI), two years, sparse:
300,000 rows. Expected figures are computed with pandas from the same generated arrays, not
through DuckDB.
"""
from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tariffscope import api, panels
from tariffscope.cli import main
from tariffscope.codes.countries import all_countries
from tariffscope.errors import DataNotFoundError, IngestError, InputError

YEARS = (2022, 2023)
ROWS_PER_YEAR = 150_000
UNKNOWN = 899  # not a UN M49 country code


def _world(seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    m49 = sorted(int(c.m49) for c in all_countries() if c.m49 and c.m49.isdigit() and c.iso3 != "USA")
    codes = np.array(rng.choice([m for m in m49 if m not in (392,)], 198, replace=False).tolist() + [392, 842])
    chapters = rng.choice(np.arange(1, 98), 5000)
    products = np.unique(chapters * 10_000 + rng.integers(100, 9999, 5000))
    frames = []
    for year in YEARS:
        n = int(ROWS_PER_YEAR * 1.2)
        i, j = rng.choice(codes, n), rng.choice(codes, n)
        k = rng.choice(products, n)
        df = pd.DataFrame({"t": year, "i": i, "j": j, "k": k})
        df = df[df.i != df.j].drop_duplicates(["i", "j", "k"]).head(ROWS_PER_YEAR)
        # Dense trade between the USA (842) and Japan (392) so the pair has many products.
        pair = pd.DataFrame({"t": year, "i": np.r_[np.full(400, 842), np.full(400, 392)],
                             "j": np.r_[np.full(400, 392), np.full(400, 842)],
                             "k": np.r_[rng.choice(products, 400, replace=False), rng.choice(products, 400, replace=False)]})
        df = pd.concat([df, pair]).drop_duplicates(["i", "j", "k"], keep="last").head(ROWS_PER_YEAR)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df.loc[df.index[:37], "i"] = UNKNOWN  # a code no table knows: kept and reported
    df["v"] = np.round(rng.gamma(0.6, 400.0, len(df)), 3)
    q = np.round(rng.gamma(0.5, 50.0, len(df)), 3)
    q[rng.random(len(df)) < 0.05] = np.nan  # written as NA, as BACI does
    df["q"] = q
    return df


def _write_csv(df: pd.DataFrame, path) -> None:
    cols = {c: pa.array(df[c].to_numpy()).cast(pa.string()) for c in ["t", "i", "j", "k", "v"]}
    cols["q"] = pa.array(df.q.to_numpy(), from_pandas=True).cast(pa.string()).fill_null("NA")
    pacsv.write_csv(pa.table(cols), path, pacsv.WriteOptions(quoting_style="none"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("baci")
    df = _world()
    paths = []
    for year in YEARS:
        p = d / f"BACI_HS17_Y{year}_V202401b.csv"
        _write_csv(df[df.t == year], p)
        paths.append(p)
    rep = api.ingest_panel(d, "world")
    return df, rep, paths


def _iso(code: int) -> str:
    return {842: "USA", 392: "JPN"}.get(code) or next(c.iso3 for c in all_countries() if c.m49 == f"{code:03d}")


def test_ingest_rows_years_and_unknown_codes(world):
    df, rep, _ = world
    assert rep.rows == len(df) == 2 * ROWS_PER_YEAR
    assert rep.rows_by_year == {y: int((df.t == y).sum()) for y in YEARS}
    assert rep.unknown_codes == {str(UNKNOWN): 37}
    info = api.panel_info("world")
    assert info.years == list(YEARS) and info.vintage == "V202401b" and info.source == "panel:world"
    assert len(info.sources) == 2 and all(len(s.sha256) == 64 for s in info.sources)
    # HS6 codes written without their leading zero come back as 6 digits.
    agg = panels.aggregate_panel("world", by="hs6", year=2022)
    assert set(len(p) for p in agg.column("product").to_pylist()) == {6}
    assert any(p.startswith("0") for p in agg.column("product").to_pylist())


def test_balance_any_pair_matches_pandas(world):
    df, _, _ = world
    res = api.panel_balance("world", "USA", "Japan", 2022, by="hs2")
    d = df[df.t == 2022].copy()
    d["hs2"] = d.k.map(lambda k: f"{k:06d}"[:2])
    exp = d[(d.i == 842) & (d.j == 392)].groupby("hs2").v.sum() * 1000
    imp = d[(d.i == 392) & (d.j == 842)].groupby("hs2").v.sum() * 1000
    assert res.exports == pytest.approx(exp.sum(), rel=1e-12)
    assert res.imports == pytest.approx(imp.sum(), rel=1e-12)
    got = res.to_frame().set_index("product")
    both = exp.reindex(got.index, fill_value=0.0)
    np.testing.assert_allclose(got.exports_usd.to_numpy(), both.to_numpy(), rtol=1e-12)
    assert res.to_dict()["source"] == "panel:world" and res.vintage == "V202401b"
    # Another pair of the world, by HS4 and in total: the two levels agree.
    i, j = int(d.i.iloc[1000]), int(d.j.iloc[1000])
    if UNKNOWN in (i, j):
        i, j = int(d.i.iloc[2000]), int(d.j.iloc[2000])
    a, b = _iso(i), _iso(j)
    r4 = api.panel_balance("world", a, b, 2022, by="hs4")
    r0 = api.panel_balance("world", a, b, 2022, by="total")
    assert r4.balance == pytest.approx(r0.balance, rel=1e-9, abs=1e-6)
    expect = (d[(d.i == i) & (d.j == j)].v.sum() - d[(d.i == j) & (d.j == i)].v.sum()) * 1000
    assert r0.balance == pytest.approx(expect, rel=1e-9, abs=1e-6)


def test_imports_for_pe_and_world_aggregate(world):
    df, _, _ = world
    lines = api.panel_imports("world", "JPN", 2023)
    d = df[(df.t == 2023) & (df.j == 392)]
    assert lines.num_rows == len(d)
    assert sum(lines.column("value_usd").to_pylist()) == pytest.approx(d.v.sum() * 1000, rel=1e-12)
    agg = panels.aggregate_panel("world", by="hs2")
    assert sum(agg.column("value_kusd").to_pylist()) == pytest.approx(df.v.sum(), rel=1e-12)
    assert sum(x for x in agg.column("quantity_t").to_pylist() if x is not None) == pytest.approx(df.q.sum(), rel=1e-9)


def test_errors_name_the_problem(world, tmp_path):
    with pytest.raises(DataNotFoundError, match="no year 2019"):
        api.panel_balance("world", "USA", "JPN", 2019)
    with pytest.raises(DataNotFoundError, match="no panel named 'nope'"):
        api.panel_balance("nope", "USA", "JPN", 2022)
    with pytest.raises(InputError, match="group"):
        api.panel_balance("world", "USA", "EU27", 2022)
    with pytest.raises(InputError, match="bad product level"):
        api.panel_balance("world", "USA", "JPN", 2022, by="hs3")
    # Re-ingesting a year the panel has is refused without --replace.
    p = tmp_path / "again.csv"
    p.write_text("t,i,j,k,v,q\n2022,842,392,870323,10.5,1\n")
    with pytest.raises(InputError, match="already has year"):
        api.ingest_panel(p, "world")


@pytest.mark.parametrize("body, line, reason", [
    ("2022,4,8,010121,1.5,2\n2022,4,8,010129,abc,\n", 3, "value abc is not a number"),
    ("2022,4,8,010121,1.5,2\n2022,4,8,010129,1,2\n2022,4,8\n", 4, "Expected Number of Columns: 6 Found: 3"),
    ("2022,4,8,010121,1.5,2\n20x2,4,8,010129,1,2\n", 3, "year 20x2 is not a year"),
    ("2022,4,8,0101,1.5,2\n", 2, "product 0101 is not an HS6 code"),
    ("2022,4,8,010121,-1,2\n", 2, "value -1 is not a number >= 0"),
    ("2022,4,8,010121,1,-3\n", 2, "quantity -3 is not a number"),
    ("2022,4,USA,010121,1,2\n", 2, "importer USA is not a numeric country code"),
])
def test_bad_rows_raise_ingest_error_with_line(tmp_path, body, line, reason):
    p = tmp_path / "bad.csv"
    p.write_text("t,i,j,k,v,q\n" + body)
    with pytest.raises(IngestError) as info:
        api.ingest_panel(p, "bad")
    assert info.value.line == line and reason in info.value.reason, str(info.value)
    assert not panels.panel_dir("bad").exists()  # nothing written


def test_bad_row_deep_in_a_big_file(world, tmp_path):
    _, _, paths = world
    p = tmp_path / "big.csv.gz"
    lines = paths[0].read_text().splitlines()
    lines[98_765] = "2022,4,8,10121,1e,1"  # list index 98,765 is file line 98,766
    with gzip.open(p, "wt") as fh:
        fh.write("\n".join(lines) + "\n")
    with pytest.raises(IngestError, match=r"big.csv.gz, line 98766: value 1e is not a number"):
        api.ingest_panel(p, "big")


def test_bad_header(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("year,reporter,partner,hs6,value\n2022,4,8,010121,1\n")
    with pytest.raises(IngestError, match="line 1: header"):
        api.ingest_panel(p, "h")


def test_replace_append_and_country_file(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("year,exporter,importer,product,value,quantity\n2020,842,392,870323,100,5\n2020,392,842,870323,250,NA\n")
    rep = api.ingest_panel(a, "small")
    assert api.panel_balance("small", "USA", "JPN", 2020, by="total").balance == pytest.approx(-150_000.0)
    b = tmp_path / "b.csv"
    b.write_text("t,i,j,k,v\n2021,842,392,870323,7\n")
    api.ingest_panel(b, "small")  # a new year is appended
    assert api.panel_info("small").rows_by_year == {2020: 2, 2021: 1}
    c = tmp_path / "c.csv"
    c.write_text("t,i,j,k,v\n2020,842,392,870323,1\n2020,899,392,870323,2\n")
    codes = tmp_path / "country_codes.csv"
    codes.write_text("country_code,country_name,country_iso2,country_iso3\n899,Somewhere,SW,SWX\n")
    rep = api.ingest_panel(c, "small", replace=True, countries=codes)
    info = api.panel_info("small")
    assert info.rows_by_year == {2020: 2, 2021: 1} and info.unknown_codes == {}
    assert api.panel_balance("small", "SWX" if False else "USA", "JPN", 2020, by="total").exports == 1000.0
    assert rep.unknown_codes == {}
    api.remove_panel("small")
    assert "small" not in [p.name for p in api.list_panels()]


def test_cli_panel_commands(world, tmp_path, capsys):
    assert main(["data", "panel", "balance", "world", "--reporter", "USA", "--partner", "JPN", "--year", "2022",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    res = api.panel_balance("world", "USA", "JPN", 2022)
    assert out["balance_usd"] == pytest.approx(res.balance) and out["source"] == "panel:world"
    assert main(["data", "panel", "balance", "world", "-r", "USA", "-p", "JPN", "--year", "2022"]) == 0
    out = capsys.readouterr().out
    assert "USA with JPN, 2022, by hs2" in out and "source: panel:world, vintage V202401b" in out
    assert main(["data", "panel", "list"]) == 0
    assert "world" in capsys.readouterr().out
    p = tmp_path / "bad.csv"
    p.write_text("t,i,j,k,v,q\n2022,4,8,010121,x,2\n")
    assert main(["data", "panel", "ingest", str(p), "--name", "cli_bad"]) == 1
    assert "bad.csv, line 2: value x is not a number >= 0" in capsys.readouterr().err
