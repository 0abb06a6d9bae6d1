"""A tiny synthetic warehouse with the trade sources' shapes, for tests and examples.

Numbers are made up and round so that every expected figure can be worked out by hand; the source
ids, regimes, levels and periods mirror the embedded data (see ``_flows``).
"""
from __future__ import annotations

import datetime as _dt

import pyarrow as pa

from tariffscope import db

SECTOR_MAP = pa.table({
    "prefix": ["8703", "8704", "8708", "84", "02", "03"],
    "sector": ["passenger_vehicles", "light_trucks", "automobile_parts", "machinery", "food", "food"],
})


def _months(y0: int, m0: int, y1: int, m1: int) -> list[str]:
    out, y, m = [], y0, m0
    while (y, m) <= (y1, m1):
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _insert(con: db.Connection, table: str, rows: list[tuple]) -> None:
    """Bulk insert through Arrow (executemany is slow in DuckDB)."""
    cols = [r[0] for r in con.execute(
        f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' "
        "ORDER BY ordinal_position").fetchall()]
    con.register("_sample_rows", pa.Table.from_pylist([dict(zip(cols, r, strict=False)) for r in rows]))
    con.execute(f"INSERT INTO {table} SELECT {', '.join(cols)} FROM _sample_rows")
    con.unregister("_sample_rows")


def sample_warehouse() -> db.Connection:
    con = db.memory()
    rows: list[tuple] = []

    def add(partner, flow, regime, period, code, level, value, source, vintage="test", basis="customs", qty=None,
            unit=None):
        freq = "M" if "-" in period else "A"
        rows.append(("USA", partner, flow, regime, period, freq, "TOTAL" if level == 0 else "HS", code, level,
                     float(value), qty, unit, None, basis, "USD", source, vintage, None))

    # monthly totals, Japan 2024-01..2025-12: exports 100+i, general imports 200+2i, consumption 205+2i
    for i, m in enumerate(_months(2024, 1, 2025, 12), start=1):
        add("JPN", "exports", "total", m, "TOTAL", 0, 100 + i, "census_japan_monthly_totals", basis="fas")
        add("JPN", "imports", "general", m, "TOTAL", 0, 200 + 2 * i, "census_japan_monthly_totals")
        add("JPN", "imports", "consumption", m, "TOTAL", 0, 205 + 2 * i, "census_japan_monthly_totals")
    # HS2 monthly general imports 2024-01..2025-06 (JPN, KOR); ch. 87 and 84 split at HS4 for JPN
    for m in _months(2024, 1, 2025, 6):
        car = 80 if m < "2025-01" else 60
        for p, k in (("JPN", 1), ("KOR", 2)):
            add(p, "imports", "general", m, "87", 2, k * (car + 40), "usato_imports_hs2_monthly")
            add(p, "imports", "general", m, "84", 2, k * 50, "usato_imports_hs2_monthly")
            add(p, "imports", "general", m, "03", 2, k * 10, "usato_imports_hs2_monthly")
        add("JPN", "imports", "general", m, "8703", 4, car, "usato_imports_hs4_monthly")
        add("JPN", "imports", "general", m, "8708", 4, 40, "usato_imports_hs4_monthly")
        add("JPN", "imports", "general", m, "8471", 4, 50, "usato_imports_hs4_monthly")
    # annual exports by HS2 (FAS), 2023-2024
    for y, f in (("2023", 0.9), ("2024", 1.0)):
        for p, k in (("JPN", 1), ("KOR", 2)):
            add(p, "exports", "total", y, "87", 2, k * 60 * f, "dataweb_exports_hs2", basis="fas")
            add(p, "exports", "total", y, "02", 2, k * 300 * f, "dataweb_exports_hs2", basis="fas")
            add(p, "exports", "total", y, "84", 2, k * 500 * f, "dataweb_exports_hs2", basis="fas")
    # HS10 imports for consumption 2024
    hs10 = {"8703230190": 900, "8704210000": 50, "8708990000": 300, "8471300100": 400, "0302000000": 100}
    for code, v in hs10.items():
        add("JPN", "imports", "consumption", "2024", code, 10, v, "census_hs10_imports_2024")
        for p, k in (("JPN", 1), ("KOR", 2)):
            add(p, "imports", "consumption", "2024", code, 10, k * v, "census_import_weights_2024")
    # Comtrade cars with units, annual
    for y, cars_value, cars in (("2023", 1000.0, 50.0), ("2024", 900.0, 40.0)):
        add("JPN", "imports", "general", y, "8703", 4, cars_value, "comtrade_us_auto_imports", qty=cars, unit="u")
    _insert(con, "trade_flows", rows)

    fx = []
    for i, m in enumerate(_months(2024, 1, 2024, 12), start=1):
        fx.append(("USD", "JPY", _dt.date(int(m[:4]), int(m[5:]), 1), "M", 150.0 + i, "fred_exjpus", "test", None))
    d = _dt.date(2023, 12, 1)
    while d <= _dt.date(2025, 12, 31):
        if d.weekday() < 5:  # weekdays only, like H.10; 2024 days equal their month's average, 2025 flat 140
            r = 140.0 if d.year == 2025 else 150.0 + (d.month if d.year == 2024 else 0)
            fx.append(("USD", "JPY", d, "D", r, "fred_dexjpus", "test", None))
        d += _dt.timedelta(days=1)
    _insert(con, "exchange_rates", fx)
    for sid, title in [("census_japan_monthly_totals", "Census monthly goods trade with Japan"),
                       ("usato_imports_hs2_monthly", "USA Trade Online imports HS2 monthly"),
                       ("usato_imports_hs4_monthly", "USA Trade Online imports HS4 monthly"),
                       ("dataweb_exports_hs2", "DataWeb exports FAS HS2"),
                       ("census_hs10_imports_2024", "Census HS10 imports 2024"),
                       ("census_import_weights_2024", "Census HS10 imports all partners 2024"),
                       ("comtrade_us_auto_imports", "UN Comtrade US auto imports"),
                       ("fred_exjpus", "FRED EXJPUS"), ("fred_dexjpus", "FRED DEXJPUS")]:
        con.execute("INSERT INTO sources (source, title, vintage) VALUES (?, ?, 'test')", [sid, title])
    return con
