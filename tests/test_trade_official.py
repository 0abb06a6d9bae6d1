"""The official-basis headline (total exports FAS - general imports, one release) and the reconciliation of
detailed tables to it; the monthly monitor on the same basis.

Sample-warehouse figures are worked out by hand in the comments (see ``tariffscope.trade._sample``); the
``warehouse`` tests pin the embedded data, and the ``raw`` ones recompute the steps from the raw files.
"""
from __future__ import annotations

import csv
import json
import math

import pytest

from tariffscope.cli import main
from tariffscope.trade import _sample
from tariffscope.trade.balance import OFFICIAL_BASIS, balance
from tariffscope.trade.monitor import monitor


@pytest.fixture()
def con():
    c = _sample.sample_warehouse()
    yield c
    c.close()


def test_total_is_the_headline_when_on_the_census_basis(con):
    r = balance("USA", "JPN", "2024", by=None, con=con)
    h = r.headline
    # revised monthly totals 2024: exports sum(100+i) = 1278, general imports sum(200+2i) = 2556
    assert (h.exports, h.imports, h.balance) == (1278, 2556, 1278 - 2556)
    assert h.basis == OFFICIAL_BASIS and h.vintage == "revised Census country series"
    assert h.sources == ["census_japan_monthly_totals"] and r.reconciliation == []


def test_sector_table_keeps_its_total_and_reconciles_to_the_headline(con):
    r = balance("USA", "JPN", "2024", by="sector", con=con, sector_map_table=_sample.SECTOR_MAP)
    # the table: DataWeb exports 860, HS10 imports for consumption 1750, its own total -890
    assert r.balance == 860 - 1750 and math.isclose(sum(x.balance for x in r.sectors), r.balance, rel_tol=1e-12)
    assert r.headline.balance == 1278 - 2556
    steps = {s.step: s for s in r.reconciliation}
    # exports 860 (pre-revision) -> 1278 (revised): +418 on the balance
    assert steps["exports_release"].effect == 1278 - 860
    # imports for consumption 1750 vs general imports of the same release (HS2 months 12 x 180 = 2160): the
    # sample's general imports are the larger, so the step says so, and costs the balance 410
    assert steps["consumption_vs_general"].effect == -(2160 - 1750)
    assert "general imports exceed imports for consumption" in steps["consumption_vs_general"].text
    # general imports 2160 (pre-revision) -> 2556 (revised)
    assert steps["imports_release"].effect == -(2556 - 2160) and "annual revision" in steps["imports_release"].text
    assert r.balance + sum(s.effect for s in r.reconciliation) == r.headline.balance


def test_no_headline_without_general_imports(con):
    # without KOR's HS2 general imports, its 2024 total falls back to imports for consumption: no headline
    con.execute("DELETE FROM trade_flows WHERE source = 'usato_imports_hs2_monthly' AND partner = 'KOR'")
    r = balance("USA", "KOR", "2024", by=None, con=con)
    assert r.imports == 2 * 1750  # census_import_weights_2024: KOR = 2 x JPN
    assert r.headline is None
    assert any(n.startswith("no official-basis headline") and "imports for consumption" in n for n in r.notes)


def test_monitor_series_is_on_the_headline_basis(con):
    m = monitor("USA", "JPN", "2024-12", from_="2024-01", to="2024-12", con=con)
    h = balance("USA", "JPN", "2024", by=None, con=con).headline
    assert sum(x.balance for x in m.series) == h.balance
    assert m.basis.startswith(OFFICIAL_BASIS) and "revised" in m.basis


@pytest.mark.slow
def test_japan_2024_headline_is_the_census_figure(warehouse):
    r = balance("USA", "JPN", "2024", by=None, con=warehouse)
    # Census, revised country series: the 12 months sum to -68,253.2 mn, as the revised Census page shows (the
    # file's own year field, -68,253.1 mn, differs by rounding)
    assert -68.5e9 <= r.headline.balance <= -68.2e9
    assert round(r.headline.balance / 1e6, 1) == -68253.2
    assert r.headline.vintage == "revised Census country series" and r.headline.basis == OFFICIAL_BASIS


@pytest.mark.slow
def test_japan_2024_sector_table_reconciles(warehouse):
    r = balance("USA", "JPN", "2024", by="sector", con=warehouse)
    assert math.isclose(sum(x.balance for x in r.sectors), r.balance, rel_tol=1e-9)  # adds up to its own total
    assert -68.5e9 <= r.headline.balance <= -68.2e9
    assert math.isclose(r.balance + sum(s.effect for s in r.reconciliation), r.headline.balance, abs_tol=1.0)
    step = next(s for s in r.reconciliation if s.step == "consumption_vs_general")
    # CATALOG.md: imports for consumption 151.34 bn (HS10 pull) vs general imports 148.37 bn (USA Trade Online)
    assert step.text.startswith("imports for consumption exceed general imports by 2.97 bn USD: warehouse withdrawals, FTZ")


@pytest.mark.slow
@pytest.mark.raw
def test_japan_consumption_vs_general_step_from_raw_files(warehouse, raw):
    """The step equals the raw files' difference: HS10 consumption pull minus USA Trade Online general imports."""
    import pyarrow.parquet as pq

    t = pq.read_table(raw / "census" / "hs10_imports_2024_by_partner" / "5880.parquet", columns=["imports"])
    consumption = float(sum(t.column("imports").to_pylist()))
    general = 0.0
    with open(raw / "census" / "usatradeonline_imports_hs2_monthly" / "asia-others.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[3:]
    for row in rows:
        if len(row) >= 4 and row[1] == "Japan" and row[2].endswith("2024"):
            general += float(row[3].replace(",", ""))
    r = balance("USA", "JPN", "2024", by="sector", con=warehouse)
    step = next(s for s in r.reconciliation if s.step == "consumption_vs_general")
    assert math.isclose(step.effect, consumption - general, abs_tol=1.0)  # fewer imports: the deficit shrinks


@pytest.mark.slow
def test_korea_headline_is_pre_revision_and_germany_has_none(warehouse):
    k = balance("USA", "KOR", "2024", by=None, con=warehouse)
    assert k.headline.sources == ["dataweb_exports_hs2", "usato_imports_hs2_monthly"]
    assert k.headline.vintage.startswith("Census figures as published before the annual revision")
    d = balance("USA", "DEU", "2024", by="sector", con=warehouse)
    assert d.headline is None and any("no official-basis headline" in n for n in d.notes)


@pytest.mark.slow
def test_cli_balance_prints_headline_with_basis_and_vintage(capsys):
    assert main(["balance", "--reporter", "USA", "--partner", "JPN", "--period", "2024"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("Headline: balance -68.25 bn USD") and "general imports" in first and "revised" in first
    assert "warehouse withdrawals, FTZ" in out and "TOTAL" in out
    assert main(["balance", "--reporter", "USA", "--partner", "JPN", "--period", "2024", "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert round(d["headline"]["balance"] / 1e9, 2) == -68.25 and len(d["reconciliation"]) == 3


@pytest.mark.slow
def test_monitor_2024_adds_up_to_the_headline(warehouse):
    m = monitor("USA", "JPN", "2024-12", from_="2024-01", to="2024-12", con=warehouse)
    h = balance("USA", "JPN", "2024", by=None, con=warehouse).headline
    assert math.isclose(sum(x.balance for x in m.series), h.balance, rel_tol=1e-12)
    assert "revised" in m.basis
