"""Balance: totals, one source per flow, sector shares, unsplit HS2 exports, mirror, bad input.

Most tests run on the tiny synthetic warehouse of ``tariffscope.trade._sample`` (round numbers whose
expected results are worked out in the comments); the ``warehouse`` tests check the embedded data.
"""
from __future__ import annotations

import json
import math

import pytest

from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.trade import _sample
from tariffscope.trade.balance import balance

AUTOS = ["passenger_vehicles", "light_trucks", "automobile_parts"]


@pytest.fixture()
def con():
    c = _sample.sample_warehouse()
    yield c
    c.close()


def test_total_is_sum_of_monthly_revised_series(con):
    # sample monthly totals: exports 100+i, general imports 200+2i for i = 1..12 in 2024
    r = balance("USA", "JPN", "2024", by=None, con=con)
    assert r.exports == sum(100 + i for i in range(1, 13)) == 1278
    assert r.imports == sum(200 + 2 * i for i in range(1, 13)) == 2556
    assert r.balance == r.exports - r.imports
    assert "census_japan_monthly_totals" in r.levels["exports"]
    assert [s.source for s in r.sources] == ["census_japan_monthly_totals"]


def test_sector_breakdown_one_source_per_flow_and_shares(con):
    r = balance("USA", "JPN", "2024", by="sector", con=con, sector_map_table=_sample.SECTOR_MAP)
    # exports: DataWeb HS2 60+300+500; imports: HS10 consumption 900+50+300+400+100
    assert (r.exports, r.imports) == (860.0, 1750.0)
    assert math.isclose(sum(x.share_of_balance for x in r.sectors), 1.0, rel_tol=1e-12)
    assert math.isclose(sum(x.balance for x in r.sectors), r.balance, rel_tol=1e-12)
    rows = {x.sector: x for x in r.sectors}
    # ch. 87 exports cannot be cut into cars/trucks/parts at HS2: a row of their own, cars' exports unknown
    assert rows["ch. 87 exports (HS2, not split)"].exports == 60.0
    assert rows["passenger_vehicles"].exports is None and rows["passenger_vehicles"].imports == 900.0
    assert rows["passenger_vehicles"].in_rows == ["ch. 87 exports (HS2, not split)"] and "ch. 87" in rows["passenger_vehicles"].note
    # ch. 84 and 02 map whole to one sector: exports land in it
    assert rows["machinery"].exports == 500.0 and rows["food"].exports == 300.0
    assert "HS2" in r.levels["exports"] and "HS10" in r.levels["imports"]
    # the revised totals differ and the result says so instead of mixing them in
    assert any("other vintage" in n and "census_japan_monthly_totals" in n for n in r.notes)
    c = r.combined(AUTOS)
    assert c["balance"] == -1250.0
    assert math.isclose(c["share_of_balance"], 1250 / 890)
    assert math.isclose(c["share_net_of_unsplit"], (1250 - 60) / 890)


def test_hs2_uses_general_imports_of_same_vintage(con):
    r = balance("USA", "JPN", "2024", by="hs2", con=con)
    # USA Trade Online HS2 general imports, 12 months of 2024: 87 = 12*120, 84 = 12*50, 03 = 12*10
    assert r.imports == 12 * (120 + 50 + 10)
    assert {x.sector for x in r.sectors} == {"87", "84", "02", "03"}
    assert "general imports" in r.levels["imports"]


def test_hs4_keeps_hs2_exports_whole(con):
    r = balance("USA", "JPN", "2024", by="hs4", con=con)
    rows = {x.sector: x for x in r.sectors}
    assert rows["8703"].imports == 900 and rows["8703"].exports is None
    assert rows["ch. 84 exports (HS2, not split)"].exports == 500
    assert math.isclose(sum(x.share_of_balance for x in r.sectors), 1.0)


def test_mirror_in_yen(con):
    r = balance("JPN", "USA", "2024", by=None, currency="JPY", con=con)
    # Japan's exports = US general imports (200+2i) at the monthly rate 150+i; imports = US exports (100+i)
    exp = sum((200 + 2 * i) * (150 + i) for i in range(1, 13))
    imp = sum((100 + i) * (150 + i) for i in range(1, 13))
    assert r.perspective == "mirror estimate"
    assert math.isclose(r.exports, exp) and math.isclose(r.imports, imp)
    assert r.balance > 0  # Japan's surplus = the US deficit, from the other side
    assert any("mirror estimate" in n for n in r.notes)
    assert {s.source for s in r.sources} >= {"census_japan_monthly_totals", "fred_exjpus"}


def test_monthly_balance_and_daily_rates(con):
    r = balance("JPN", "USA", "2025-05", by=None, currency="JPY", con=con)
    # May 2025 has no monthly average loaded: the daily rates (flat 140) are averaged
    assert math.isclose(r.exports, (200 + 2 * 17) * 140.0)
    assert any(s.source == "fred_dexjpus" for s in r.sources)


def test_all_partners_in_one_call(con):
    t = balance("USA", "all", "2024", by="hs6", con=con).to_arrow()
    assert set(t.column("partner").to_pylist()) == {"JPN", "KOR"}
    kor = [r for r in t.to_pylist() if r["partner"] == "KOR"]
    # KOR: twice Japan's HS10 imports in census_import_weights_2024, twice its HS2 exports
    assert sum(r["imports"] or 0 for r in kor) == 2 * 1750
    assert sum(r["exports"] or 0 for r in kor) == 2 * 860


def test_json_keys(con):
    d = balance("USA", "JPN", "2024", by="sector", con=con, sector_map_table=_sample.SECTOR_MAP).to_dict()
    json.dumps(d)
    assert {"reporter", "partner", "period", "currency", "exports", "imports", "balance", "sectors", "sources"} <= set(d)
    assert {"sector", "exports", "imports", "balance", "share_of_balance"} <= set(d["sectors"][0])
    assert {"source", "title", "vintage"} <= set(d["sources"][0])


@pytest.mark.parametrize("kwargs,err,text", [
    (dict(partner="Narnia"), InputError, "Narnia"),
    (dict(period="2019"), DataNotFoundError, "2020-2024"),
    (dict(period="2024-13"), InputError, "bad period"),
    (dict(currency="EUR"), InputError, "USD/EUR"),
    (dict(by="hs5"), InputError, "breakdown"),
    (dict(reporter="KOR", partner="JPN"), DataNotFoundError, "mirror"),
])
def test_bad_input(con, kwargs, err, text):
    args = dict(reporter="USA", partner="JPN", period="2024", by=None, currency="USD")
    args.update(kwargs)
    with pytest.raises(err, match=text):
        balance(args.pop("reporter"), args.pop("partner"), args.pop("period"), con=con, **args)


# --- embedded data --------------------------------------------------------------------------------


@pytest.mark.raw
def test_warehouse_totals_match_monthly_file(warehouse, raw):
    """Sum of months = year, and balance = exports - imports, against the raw Census monthly file."""
    rows = [json.loads(x)["row"] for x in (raw / "census" / "japan_monthly_totals_2024_2025.jsonl").read_text().splitlines()]
    for row in rows:
        if "exports" not in row:
            continue
        r = balance("USA", "JPN", str(row["year"]), by=None, con=warehouse)
        # our year = the sum of the 12 months of the file; the file's own *_year fields agree to its 0.1 mn rounding
        assert math.isclose(r.exports, sum(row["exports"]) * 1e6, rel_tol=1e-12)
        assert math.isclose(r.imports, sum(row["imports"]) * 1e6, rel_tol=1e-12)
        assert abs(r.exports - row["exports_year"] * 1e6) <= 0.15e6
        assert abs(r.imports - row["imports_year"] * 1e6) <= 0.15e6
        assert r.balance == r.exports - r.imports
        assert abs(r.balance - row["balance_year"] * 1e6) <= 0.25e6


def test_warehouse_sector_balance_2024(warehouse):
    r = balance("USA", "JPN", "2024", by="sector", con=warehouse)
    # CATALOG: Japan HS10 imports for consumption 151.34 bn; DataWeb exports to Japan 78.98 bn (pre-revision)
    assert math.isclose(r.imports, 151.34e9, rel_tol=1e-3)
    assert math.isclose(r.exports, 78.98e9, rel_tol=1e-3)
    assert math.isclose(sum(x.share_of_balance for x in r.sectors), 1.0, rel_tol=1e-9)
    c = r.combined(AUTOS)
    assert not c["missing"]
    assert 0.5 < c["share_of_balance"] < 1.0


def test_partner_list_by_sector(con):
    t = balance("USA", ["JPN", "KOR"], "2024", by="sector", con=con, sector_map_table=_sample.SECTOR_MAP).to_arrow()
    rows = t.to_pylist()
    # only JPN is in census_hs10_imports_2024, so the list reads the all-partner HS10 source (KOR = 2 x JPN there)
    kor = sum(r["imports"] or 0 for r in rows if r["partner"] == "KOR")
    assert kor == 2 * 1750
    assert {r["sector"] for r in rows if r["partner"] == "JPN"} >= {"passenger_vehicles", "ch. 87 exports (HS2, not split)"}
