"""The embedded fact tables: loaded once, complete, and carrying the figures CATALOG.md quotes."""
from __future__ import annotations

import json

import pytest

from tariffscope import config, db
from tariffscope.ingest import embedded, hts_json


def one(con, sql, params=None):
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def test_embedded_size_and_provenance():
    files = [p for p in config.EMBEDDED_DIR.iterdir() if p.is_file()]
    total_mb = sum(p.stat().st_size for p in files) / 1e6
    assert total_mb < 25.0  # the limit for data shipped inside the package
    prov = json.loads((config.EMBEDDED_DIR / "provenance.json").read_text())
    expected = {"census_hs10_imports_2024", "census_import_weights_2024", "usato_imports_hs2_monthly",
                "usato_imports_hs4_monthly", "dataweb_exports_hs2", "census_japan_monthly_totals",
                "comtrade_us_auto_imports", "fred_dexjpus", "fred_exjpus", "usitc_hts"}
    assert {t["source"] for t in prov["tables"].values()} == expected
    for name, t in prov["tables"].items():
        assert (config.EMBEDDED_DIR / name).is_file()
        assert t["files"] and all(len(f["sha256"]) == 64 for f in t["files"])
        assert t["vintage"] and t["build_date"] and t["rows"] > 0


def test_loaded_once_with_sources_and_log(warehouse):
    n_log = one(warehouse, "SELECT count(*) FROM ingest_log WHERE source_kind = 'embedded'")[0]
    assert n_log == len(embedded.provenance()["tables"])
    assert embedded.ensure_loaded(warehouse) is False  # second call is a no-op
    assert one(warehouse, "SELECT count(*) FROM ingest_log WHERE source_kind = 'embedded'")[0] == n_log
    # every trade_flows source is described in `sources`
    missing = warehouse.execute(
        "SELECT DISTINCT source FROM trade_flows EXCEPT SELECT source FROM sources").fetchall()
    assert missing == []


def test_catalog_figures(warehouse):
    # CATALOG.md: Japan (5880) HS10 pull: 10,102 lines, 151.34 bn imports for consumption, 2.28 bn duty
    n, v, d = one(warehouse, """SELECT count(*), sum(value), sum(calculated_duty) FROM trade_flows
                                WHERE source='census_hs10_imports_2024' AND partner='JPN'""")
    assert n == 10102 and round(v / 1e9, 2) == 151.34 and round(d / 1e9, 2) == 2.28
    # 51 partners (incl. EU27) in the per-partner pulls
    assert one(warehouse, "SELECT count(DISTINCT partner) FROM trade_flows WHERE source='census_hs10_imports_2024'")[0] == 51
    # weights: 233 Census partner codes x 18,626 HS10, total 3.124 tn; Gaza Strip (5082) and West Bank
    # (5083) are both ISO3 PSE, so 232 distinct partners
    p, h, tot = one(warehouse, """SELECT count(DISTINCT partner), count(DISTINCT product_code), sum(value)
                                  FROM trade_flows WHERE source='census_import_weights_2024'""")
    assert (p, h, round(tot / 1e12, 3)) == (232, 18626, 3.124)
    # Japan HS 8703 May 2025 = 3.009 bn (HS4 monthly)
    v = one(warehouse, """SELECT value FROM trade_flows WHERE source='usato_imports_hs4_monthly'
                          AND partner='JPN' AND product_code='8703' AND period='2025-05'""")[0]
    assert round(v / 1e9, 3) == 3.009
    # US exports to Japan 2024 = 78.98 bn (DataWeb FAS); no 2025 rows (all-zero column dropped)
    v = one(warehouse, "SELECT sum(value) FROM trade_flows WHERE source='dataweb_exports_hs2' AND partner='JPN' AND period='2024'")[0]
    assert round(v / 1e9, 2) == 78.98
    assert one(warehouse, "SELECT count(*) FROM trade_flows WHERE source='dataweb_exports_hs2' AND period='2025'")[0] == 0
    # monthly HS2 general imports cover Jan 2024 .. Mar 2026
    assert one(warehouse, "SELECT min(period), max(period) FROM trade_flows WHERE source='usato_imports_hs2_monthly'") == ("2024-01", "2026-03")
    # Japan realized duty rate 2025 = 10.89% (sum of monthly duty / imports for consumption)
    d, v = one(warehouse, """SELECT sum(calculated_duty), sum(value) FROM trade_flows WHERE source='census_japan_monthly_totals'
                             AND trade_regime='consumption' AND period LIKE '2025-%'""")
    assert round(d / v, 4) == 0.1089
    # Comtrade: 2024 cars from Japan 40.77 bn USD, 1,388,330 units
    v, q = one(warehouse, """SELECT value, quantity FROM trade_flows WHERE source='comtrade_us_auto_imports'
                             AND partner='JPN' AND product_code='8703' AND period='2024'""")
    assert round(v / 1e9, 2) == 40.77 and q == 1388330
    # FRED: 2024 average 151.46 yen per dollar (daily), May 2025 monthly mean of dailies 144.88
    assert round(one(warehouse, "SELECT avg(rate) FROM exchange_rates WHERE source='fred_dexjpus' AND year(date)=2024")[0], 2) == 151.46
    assert round(one(warehouse, "SELECT avg(rate) FROM exchange_rates WHERE source='fred_dexjpus' AND date BETWEEN '2025-05-01' AND '2025-05-31'")[0], 2) == 144.88


@pytest.mark.raw
def test_hts_intervals_expand_to_the_reader_output(warehouse, raw):
    assert one(warehouse, "SELECT count(*) FROM hts_revisions")[0] == 44
    assert one(warehouse, "SELECT min(revision) FILTER (WHERE seq = (SELECT min(seq) FROM hts_revisions)) FROM hts_revisions")[0] == "2025_basic"
    # the interval encoding is lossless: a revision read straight from its JSON equals the expanded rows
    parsed = hts_json.parse(raw / "hts" / "hts_2025_rev_17.json.gz")
    direct = parsed.tables["hts_lines"].sort_by("hts_code")
    stored = db.query(warehouse, f"SELECT {', '.join(direct.column_names)} FROM hts_lines WHERE revision='2025_rev_17' ORDER BY hts_code")
    assert stored.equals(direct.cast(stored.schema))
    c99 = db.query(warehouse, "SELECT count(*) AS n FROM chapter99_lines WHERE revision='2025_rev_17'")["n"][0].as_py()
    assert c99 == parsed.tables["chapter99_lines"].num_rows


@pytest.mark.parametrize("rev,heading,text,rate", [
    ("2026_rev_10", "99030226", "+ 25%", 0.25),  # India, note 2(v): "... applicable subheading + 25%"
    ("2025_rev_32", "99030225", "+ 15%", 0.15),
])
def test_chapter99_addon_parsed(warehouse, rev, heading, text, rate):
    row = one(warehouse, "SELECT general_text, ad_valorem FROM chapter99_lines WHERE revision=? AND heading=?", [rev, heading])
    assert row is not None and row[0].endswith(text) and row[1] == rate


@pytest.mark.raw
@pytest.mark.slow
def test_reload_after_a_rebuild_replaces_only_embedded_rows(warehouse, tmp_path, raw):
    # A warehouse loaded from an older build (simulated: one table's checksum differs) is refreshed on
    # open: embedded rows replaced, a user's ingest kept.
    import shutil

    from tariffscope.ingest import core

    warehouse.execute("CHECKPOINT")
    path = tmp_path / "w.duckdb"
    shutil.copy(db.config.warehouse_path(), path)
    con = db.connect(path)
    core.ingest(raw / "census/census_japan_page_scrapes/country_detail__us-detail-5880-2026__at_4c5de49.md", con=con)
    before = db.table_counts(con)
    con.execute("UPDATE ingest_log SET sha256 = 'old-build' WHERE path = 'embedded/trade_flows__dataweb_exports_hs2.parquet'")
    assert not embedded.loaded(con)
    assert embedded.ensure_loaded(con) is True
    assert embedded.loaded(con)
    assert db.table_counts(con) == before
    assert one(con, "SELECT count(*) FROM trade_flows WHERE source LIKE 'census_page_md:%'")[0] == 10
    con.close()
