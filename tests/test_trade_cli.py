"""CLI of the trade area: formats, source lines, bad input (one line, exit 1), charts written."""
from __future__ import annotations

import csv
import io
import json

import pytest

from tariffscope.cli import main
from tariffscope.report import charts_trade
from tariffscope.trade import _sample


@pytest.fixture()
def sample(monkeypatch):
    """Point the API at the synthetic warehouse (a fresh one per call: the API closes what it opens)."""
    from tariffscope.ingest import warehouse
    from tariffscope.trade import balance as B

    monkeypatch.setattr(warehouse, "open_warehouse", lambda *a, **k: _sample.sample_warehouse())
    monkeypatch.setattr(B, "sector_map", lambda: _sample.SECTOR_MAP)


def test_balance_table_has_sources(sample, capsys):
    assert main(["balance", "--partner", "JPN", "--period", "2024", "--combine",
                 "passenger_vehicles,light_trucks,automobile_parts"]) == 0
    out = capsys.readouterr().out
    assert "source: dataweb_exports_hs2" in out and "source: census_hs10_imports_2024" in out
    assert "vintage test" in out and "ch. 87 exports (HS2, not split)" in out
    assert "combined passenger_vehicles + light_trucks + automobile_parts" in out


def test_balance_json_and_csv(sample, capsys):
    assert main(["balance", "--partner", "JPN", "--period", "2024", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"reporter", "partner", "period", "currency", "exports", "imports", "balance", "sectors", "sources"} <= set(d)
    assert main(["balance", "--partner", "JPN", "--period", "2024", "--by", "hs2", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[-1]["sector"] == "TOTAL" and float(rows[-1]["balance"]) == 860 - 12 * 180


def test_reconcile_from_cli(sample, capsys, tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("period,flow,value,currency\n2024,balance,200000,JPY\n")
    assert main(["balance", "--reporter", "JPN", "--partner", "USA", "--period", "2024", "--by", "none",
                 "--currency", "JPY", "--partner-figures", str(p), "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    row = d["reconciliation"]["rows"][0]
    assert d["perspective"] == "mirror estimate"
    assert math_close(row["exchange_rate"] + row["valuation"] + row["timing"] + row["residual"], row["gap"])
    assert main(["balance", "--reporter", "JPN", "--partner", "USA", "--period", "2024", "--by", "none",
                 "--currency", "JPY", "--partner-figures", str(p)]) == 0
    out = capsys.readouterr().out
    assert "Reconciliation" in out and "MIRROR ESTIMATE" in out


def math_close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_monitor_formats(sample, capsys):
    assert main(["monitor", "--partner", "JPN", "--month", "2025-05", "--by", "hs4"]) == 0
    out = capsys.readouterr().out
    assert "8703" in out and "-25.0%" in out and "source: usato_imports_hs4_monthly" in out
    assert main(["monitor", "--partner", "JPN", "--from", "2025-01", "--to", "2025-03", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["month"] for r in rows] == ["2025-01", "2025-02", "2025-03"]


@pytest.mark.parametrize("argv,text", [
    (["balance", "--partner", "Narnia"], "Narnia"),
    (["balance", "--partner", "JPN", "--period", "2019"], "2019"),
    (["balance", "--partner", "JPN", "--currency", "EUR"], "EUR"),
    (["balance", "--partner", "JPN", "--format", "xml"], "format"),
    (["monitor", "--partner", "JPN", "--month", "2031-01"], "2031-01"),
    (["monitor", "--partner", "JPN", "--month", "May"], "bad period"),
])
def test_bad_input_one_line_exit_1(sample, capsys, argv, text):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error:") and text in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("ext", ["png", "svg", "html"])
def test_charts_written(sample, capsys, tmp_path, ext):
    p = tmp_path / f"wf.{ext}"
    assert main(["balance", "--partner", "JPN", "--period", "2024", "--chart", str(p)]) == 0
    m = tmp_path / f"mo.{ext}"
    assert main(["monitor", "--partner", "JPN", "--from", "2024-06", "--to", "2025-05", "--chart", str(m)]) == 0
    for f in (p, m):
        data = f.read_bytes()
        assert len(data) > 5000
        if ext == "png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
        elif ext == "svg":
            assert b"<svg" in data[:2000]
        else:
            assert data.startswith(b"<!doctype html>") and b"<svg" in data


def test_chart_functions_return_figures(sample):
    from matplotlib.figure import Figure

    from tariffscope import api

    fig = charts_trade.balance_waterfall(api.balance("USA", "JPN", "2024").to_dict())
    assert isinstance(fig, Figure)
    with pytest.raises(Exception, match="png"):
        charts_trade.save(fig, "chart.pdf")


def test_api_exports_trade_functions(sample):
    from tariffscope import api

    assert {"balance", "monitor", "reconcile"} <= set(api.__all__)
    r = api.monitor("USA", "JPN", "2025-05")
    assert r.to_frame().shape[0] == 1 and r.to_arrow().num_rows == 1
