"""Sector map: longest prefix wins; auto parts lines override their chapters; the file is consistent."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tariffscope import db
from tariffscope.codes import sectors as se


@pytest.mark.parametrize("code, sector", [
    ("8703230140", "passenger_vehicles"), ("8703.23.01.40", "passenger_vehicles"),
    ("8708.29", "automobile_parts"),          # heading 8708 and on the Section 232 parts list (870829)
    ("7208.51", "steel"), ("7320.10", "automobile_parts"),   # springs: 232 parts list inside ch. 73
    ("4011.10.10", "automobile_parts"),       # tyres 40111010 on the parts list (ch. 40 is 'other')
    ("8409.91.10.40", "automobile_parts"), ("8409.91.10.80", "machinery"),  # only the HS10 line is listed
    ("8704.31.01.20", "light_trucks"), ("8704.22.51.20", "other_vehicles"),  # G.V.W. <= 5 t vs > 5 t
    ("8542.31", "semiconductors"), ("8411.12", "aircraft"), ("8802.40", "aircraft"),
    ("3004.90", "pharmaceuticals"), ("2709.00", "energy"), ("0201", "agriculture"), ("7403", "copper"),
    ("7601", "aluminum"), ("8429.52", "machinery"), ("8517.13", "electronics"),
    ("9503.00", "other"), ("4901", "other"),
])
def test_sector_of(code: str, sector: str) -> None:
    assert se.sector_of(code) == sector


def test_file_consistent() -> None:
    rows = list(csv.DictReader(se.DATA_FILE.open()))
    prefixes = [r["prefix"] for r in rows]
    assert len(prefixes) == len(set(prefixes)), "duplicate prefixes"
    assert all(r["sector"] in se.SECTORS and r["sector"] != "other" for r in rows)
    assert all(p.isdigit() and len(p) in (2, 4, 6, 8, 10) for p in prefixes)
    assert all(r["note"] for r in rows)
    assert set(se.SECTORS) >= {"passenger_vehicles", "light_trucks", "automobile_parts", "steel", "aluminum",
                               "copper", "semiconductors", "pharmaceuticals", "aircraft", "machinery",
                               "electronics", "energy", "agriculture", "other"}


@pytest.mark.raw
def test_every_auto_part_maps_to_automobile_parts(raw: Path) -> None:
    codes = [ln.strip() for ln in (raw / "measures" / "yale_tracker_lists" / "s232_auto_parts.txt").read_text().splitlines()
             if ln.strip()[:1].isdigit()]
    assert len(codes) == 130
    # 8471 (ADP machines) is on note 33(g) but has applicability share 0 in the Yale list: not a parts sector
    assert {c for c in codes if se.sector_of(c) != "automobile_parts"} == {"8471"}


@pytest.mark.raw
def test_sql_join_matches_scalar(raw: Path) -> None:
    con = db.memory()
    codes = ["8703230140", "8708295060", "7208510000", "4011101000", "8409911040", "8409911080", "9503000090",
             "8704310120", "8704225120", "8542310000"]
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS product_code", [codes])
    got = {r["product_code"]: r["sector"] for r in se.assign_sectors(con, "t", "product_code").to_pylist()}
    assert got == {c: se.sector_of(c) for c in codes}
    se.register_sector_map(con)
    rows = con.sql(se.sector_join_sql("t", "product_code")).fetchall()
    assert {r[0]: r[1] for r in rows} == got
    t = se.sector_map_table()
    assert t.column_names == ["prefix", "prefix_len", "sector"] and t.num_rows == len(set(t.column("prefix").to_pylist()))
