"""Sector map: HS prefixes -> named sector groups (data file ``codes/data/sector_map.csv``).

The longest matching prefix wins, so the Section 232 auto parts lines (HS6/HS8/HS10, e.g. 4011.10 tyres,
7320.10 springs, 8409.91.10.40 engine parts) map to ``automobile_parts`` although their chapters map to
other sectors, and 8703 maps to ``passenger_vehicles`` inside ch. 87 (``other_vehicles``). Codes no
prefix covers are ``other``. The file is built by ``scripts/build_code_lists.py`` (sources recorded in
``sector_map_sources.json``).

In DuckDB, join on the five prefix lengths (each an equi-join, so it stays a hash join)::

    -- after register_sector_map(con)  (registers the Arrow table as 'sector_map')
    SELECT t.*, coalesce(s10.sector, s8.sector, s6.sector, s4.sector, s2.sector, 'other') AS sector
    FROM my_table t
    LEFT JOIN sector_map s10 ON s10.prefix_len = 10 AND s10.prefix = substr(t.product_code, 1, 10)
    LEFT JOIN sector_map s8  ON s8.prefix_len = 8  AND s8.prefix  = substr(t.product_code, 1, 8)
    LEFT JOIN sector_map s6  ON s6.prefix_len = 6  AND s6.prefix  = substr(t.product_code, 1, 6)
    LEFT JOIN sector_map s4  ON s4.prefix_len = 4  AND s4.prefix  = substr(t.product_code, 1, 4)
    LEFT JOIN sector_map s2  ON s2.prefix_len = 2  AND s2.prefix  = substr(t.product_code, 1, 2)

``sector_join_sql(table, code_column)`` writes that statement; ``assign_sectors(con, table, column)``
runs it for the distinct codes of a table and returns ``(code, sector)`` as an Arrow table.
A code shorter than a prefix (an HS4 code inside a heading split between sectors, like 8704) gets the
sector of its longest prefix that it fully contains (8704 -> other_vehicles).
"""
from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import pyarrow as pa

DATA_FILE = Path(__file__).resolve().parent / "data" / "sector_map.csv"
PREFIX_LENGTHS = (10, 8, 6, 4, 2)

# Ordered for display: the sectors in the headlines of the 2025 measures first.
SECTOR_LABELS: dict[str, str] = {
    "passenger_vehicles": "Passenger vehicles",
    "light_trucks": "Light trucks",
    "automobile_parts": "Automobile parts",
    "steel": "Steel",
    "aluminum": "Aluminum",
    "copper": "Copper",
    "semiconductors": "Semiconductors",
    "pharmaceuticals": "Pharmaceuticals",
    "aircraft": "Aircraft and engines",
    "machinery": "Machinery",
    "electronics": "Electronics and electrical equipment",
    "energy": "Energy",
    "agriculture": "Agriculture and food",
    "other_vehicles": "Other vehicles",
    "other": "Other",
}
SECTORS: tuple[str, ...] = tuple(SECTOR_LABELS)


def sector_label(sector: str) -> str:
    return SECTOR_LABELS.get(sector, sector)


@functools.lru_cache(maxsize=1)
def _prefixes() -> dict[str, str]:
    with DATA_FILE.open(encoding="utf-8", newline="") as fh:
        return {r["prefix"]: r["sector"] for r in csv.DictReader(fh)}


@functools.lru_cache(maxsize=65536)
def sector_of(code: str) -> str:
    """The sector of an HS/HTS code ('8703230140', '8708.29', '72'): longest prefix wins, else 'other'."""
    digits = code if isinstance(code, str) and code.isdigit() else re.sub(r"\D", "", str(code))
    table = _prefixes()
    for n in PREFIX_LENGTHS:
        if len(digits) >= n and digits[:n] in table:
            return table[digits[:n]]
    return "other"


def sector_map_table() -> pa.Table:
    """The map as an Arrow table ``(prefix, prefix_len, sector)``, for SQL joins (see module docstring)."""
    items = sorted(_prefixes().items())
    return pa.table({
        "prefix": pa.array([p for p, _ in items], pa.string()),
        "prefix_len": pa.array([len(p) for p, _ in items], pa.int32()),
        "sector": pa.array([s for _, s in items], pa.string()),
    })


def register_sector_map(con, name: str = "sector_map") -> str:
    """Register the map on a DuckDB connection as a relation called ``name``; returns the name."""
    con.register(name, sector_map_table())
    return name


def sector_join_sql(table: str, code_column: str, map_name: str = "sector_map") -> str:
    """SQL selecting ``table.*`` plus ``sector`` by longest-prefix match (map registered as ``map_name``)."""
    for ident in (table, code_column, map_name):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", ident):
            raise ValueError(f"not a plain SQL identifier: {ident!r}")
    joins = "\n".join(
        f"LEFT JOIN {map_name} s{n} ON s{n}.prefix_len = {n} AND s{n}.prefix = substr(t.{code_column}, 1, {n})"
        for n in PREFIX_LENGTHS
    )
    pick = ", ".join(f"s{n}.sector" for n in PREFIX_LENGTHS)
    return f"SELECT t.*, coalesce({pick}, 'other') AS sector\nFROM {table} t\n{joins}"


def assign_sectors(con, table_name: str, code_column: str) -> pa.Table:
    """``(code_column, sector)`` for every distinct code of ``table_name``, by longest-prefix match in DuckDB."""
    register_sector_map(con, "_tariffscope_sector_map")
    distinct = f"(SELECT DISTINCT {code_column} FROM {table_name})"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", table_name):
        raise ValueError(f"not a plain SQL identifier: {table_name!r}")
    sql = sector_join_sql("_codes", code_column, "_tariffscope_sector_map").replace(
        "FROM _codes t", f"FROM {distinct} t"
    )
    try:
        return con.sql(sql + f" ORDER BY t.{code_column}").to_arrow_table()
    finally:
        con.unregister("_tariffscope_sector_map")
