"""Monitor: monthly levels and y/y, detail by HS4/sector, volume x unit value, vintages, bad input."""
from __future__ import annotations

import math

import pytest

from tariffscope.errors import DataNotFoundError, InputError
from tariffscope.trade import _sample
from tariffscope.trade.monitor import monitor


@pytest.fixture()
def con():
    c = _sample.sample_warehouse()
    yield c
    c.close()


def test_levels_and_yoy(con):
    r = monitor("USA", "JPN", "2025-05", con=con)
    m = r.latest
    # sample: month index i (2024-01 = 1): exports 100+i, imports 200+2i; May 2025 is i = 17, May 2024 i = 5
    assert (m.exports, m.imports, m.exports_year_ago, m.imports_year_ago) == (117, 234, 105, 210)
    assert math.isclose(m.exports_yoy, 117 / 105 - 1) and math.isclose(m.imports_yoy, 234 / 210 - 1)
    assert m.balance == 117 - 234 and m.balance_change == (117 - 234) - (105 - 210)
    assert m.vintage == "test"


def test_series_and_json_top_level(con):
    r = monitor("USA", "JPN", None, from_="2025-01", to="2025-06", con=con)
    assert [x.month for x in r.series] == [f"2025-{k:02d}" for k in range(1, 7)]
    d = r.to_dict()
    assert d["month"] == "2025-06" and d["imports"] == 200 + 2 * 18
    assert {"series", "detail", "volume_price", "sources", "notes"} <= set(d)


def test_hs4_detail_replaces_chapters(con):
    r = monitor("USA", "JPN", "2025-05", by="hs4", con=con)
    rows = {x.sector: x for x in r.detail}
    # cars: 60 in 2025 vs 80 in 2024 -> -25%; ch. 87 and 84 come at HS4, ch. 03 stays HS2
    assert rows["8703"].value == 60 and rows["8703"].year_ago == 80 and math.isclose(rows["8703"].pct_change, -0.25)
    assert rows["03"].level == "HS2" and rows["8708"].level == "HS4"
    assert "87" not in rows and "84" not in rows
    assert any("monthly US exports by product are not loaded" in n for n in r.notes)


def test_sector_detail(con):
    r = monitor("USA", "JPN", "2025-05", by="sector", con=con, sector_map_table=_sample.SECTOR_MAP)
    rows = {x.sector: x for x in r.detail}
    assert rows["passenger_vehicles"].value == 60 and rows["automobile_parts"].value == 40
    assert rows["machinery"].value == 50  # 8471 is in ch. 84 -> machinery


def test_volume_price_split_is_exact(con):
    r = monitor("USA", "JPN", "2025-05", con=con)
    (vp,) = r.volume_price
    # Comtrade sample: 2023 1000 USD / 50 units, 2024 900 / 40 -> value -10%, volume -20%, unit value +12.5%
    assert (vp.base_year, vp.year) == ("2023", "2024")
    assert math.isclose(vp.volume_change, -0.2) and math.isclose(vp.unit_value_change, 0.125)
    assert math.isclose(1 + vp.value_change, (1 + vp.volume_change) * (1 + vp.unit_value_change))
    assert any("monthly quantities are not loaded" in n for n in r.notes)


def test_mirror_yen_yoy_includes_fx(con):
    r = monitor("JPN", "USA", "2025-05", currency="JPY", con=con)
    m = r.latest
    # Japan's exports = US imports: 234 USD at 140 (May 2025, daily) vs 210 at 155 (May 2024, monthly)
    assert math.isclose(m.exports, 234 * 140) and math.isclose(m.exports_year_ago, 210 * 155)
    assert r.perspective == "mirror estimate"


def test_partner_without_monthly_exports(con):
    r = monitor("USA", "KOR", "2025-05", con=con)
    assert r.latest.exports is None and r.latest.imports == 2 * (60 + 40) + 2 * 50 + 2 * 10
    assert any("no monthly US exports" in n for n in r.notes)


@pytest.mark.parametrize("kwargs,err", [
    (dict(month="2025"), InputError),
    (dict(month="2030-01"), DataNotFoundError),
    (dict(partner="Atlantis"), InputError),
    (dict(by="hs6"), InputError),
    (dict(currency="CHF"), InputError),
])
def test_bad_input(con, kwargs, err):
    args = dict(reporter="USA", partner="JPN", month="2025-05")
    args.update(kwargs)
    with pytest.raises(err):
        monitor(args.pop("reporter"), args.pop("partner"), args.pop("month"), con=con, **args)


def test_warehouse_may_2025(warehouse):
    r = monitor("USA", "JPN", "2025-05", by="hs4", con=warehouse)
    m = r.latest
    # Census revised series (japan_monthly_totals): May 2025 imports 11,984.8 mn, May 2024 12,252.7 mn
    assert math.isclose(m.imports, 11984.8e6, rel_tol=1e-6)
    assert math.isclose(m.imports_year_ago, 12252.7e6, rel_tol=1e-6)
    cars = next(x for x in r.detail if x.sector == "8703")
    assert math.isclose(cars.value, 3.009384068e9, rel_tol=1e-9)  # CATALOG: Japan HS 8703 May 2025 = 3.009 bn
    assert cars.pct_change < 0
