"""`ingest` on every real file kind of ../shared/data (census/, hts/, fx/, autos/), re-ingest, status.

Each test ingests into a fresh file warehouse (migrated, no embedded data) so real rows land, and
checks figures that CATALOG.md states or that follow from the file itself.
"""
from __future__ import annotations

import gzip
import json

import pyarrow.parquet as pq
import pytest

from tariffscope import db
from tariffscope.cli import main
from tariffscope.errors import IngestError
from tariffscope.ingest import core


@pytest.fixture()
def con(tmp_path):
    c = db.connect(tmp_path / "w.duckdb")
    yield c
    c.close()


def q(con, sql, params=None):
    return con.execute(sql, params or []).fetchall()


CASES = [
    # (relative path, kind, table, rows, check sql, expected) -- figures from CATALOG.md or the file
    ("census/hs10_imports_2024_by_partner/5880.parquet", "census_api", "trade_flows", 10102,
     "SELECT round(sum(value)/1e9, 2), round(sum(calculated_duty)/1e9, 2) FROM trade_flows", (151.34, 2.28)),
    ("census/import_weights_hs10_country_2024.csv.gz", "import_weights_csv", "trade_flows", 334728,
     "SELECT round(sum(value)/1e12, 3), count(DISTINCT product_code) FROM trade_flows", (3.124, 18626)),
    ("census/usatradeonline_imports_hs2_monthly/asia-others.csv", "usatradeonline_csv", "trade_flows", 24681,
     # Japan 2024 general imports, USA Trade Online pre-revision vintage: 148.37 bn
     "SELECT round(sum(value)/1e9, 2), count(DISTINCT period) FROM trade_flows WHERE partner='JPN' AND period LIKE '2024%'", (148.37, 12)),
    ("census/dataweb_exports_fas_hs2_by_country_2020_2024.csv", "dataweb_csv", "trade_flows", 88795,
     "SELECT round(sum(value)/1e9, 2) FROM trade_flows WHERE partner='JPN' AND period='2024'", (78.98,)),
    ("census/imports_hs4_ch84_85_87_monthly.json", "usato_json", "trade_flows", 36988,
     "SELECT round(value/1e9, 3) FROM trade_flows WHERE partner='JPN' AND product_code='8703' AND period='2025-05'", (3.009,)),
    ("census/imports_hs2_ch84_85_87_monthly.json", "usato_json", "trade_flows", 810,  # 10 partners x 27 months x 3 chapters
     "SELECT count(DISTINCT partner), count(DISTINCT period) FROM trade_flows", (10, 27)),
    ("census/japan_monthly_totals_2024_2025.jsonl", "census_monthly_jsonl", "trade_flows", 72,
     # revised country series: Japan 2024 general imports 147.12 bn; imports for consumption 150.07 bn
     "SELECT round(sum(value) FILTER (WHERE trade_regime='general' AND period LIKE '2024%')/1e9, 2),"
     " round(sum(value) FILTER (WHERE trade_regime='consumption' AND period LIKE '2024%')/1e9, 2) FROM trade_flows", (147.12, 150.07)),
    ("hts/hts_2026_rev_10.json.gz", "hts_json", "hts_lines", 29095,
     "SELECT count(*) FROM chapter99_lines", (502,)),
    ("fx/DEXJPUS_daily_2021-05_2026-05.csv", "fred_csv", "exchange_rates", 1251,
     "SELECT round(avg(rate), 2) FROM exchange_rates WHERE year(date)=2024", (151.46,)),
    ("fx/EXJPUS_monthly_to_2024-12.csv", "fred_csv", "exchange_rates", 273,
     "SELECT round(avg(rate), 2) FROM exchange_rates WHERE year(date)=2024", (151.46,)),
    # Census page scrape, first vintage (Mar 2026): 2024 exports 78.98 bn, imports 148.37 bn (pre-revision)
    ("census/census_japan_page_scrapes/country_detail__us-detail-5880-2026__at_4c5de49.md", "census_page_md", "trade_flows", 10,
     "SELECT round(sum(value) FILTER (WHERE flow='exports')/1e9, 4), round(sum(value) FILTER (WHERE flow='imports')/1e9, 4),"
     " min(vintage) FROM trade_flows WHERE period='2024'", (78.9784, 148.3705, "census.gov balance page fetched 2026-03-23T01:05:48Z")),
    # ... and after the annual revision (Jun 2026): 78.86 bn and 147.12 bn, as in the revised country series
    ("census/census_japan_page_scrapes/country_detail__us-detail-5880-2026__at_beaf698.md", "census_page_md", "trade_flows", 10,
     "SELECT round(sum(value) FILTER (WHERE flow='exports')/1e9, 4), round(sum(value) FILTER (WHERE flow='imports')/1e9, 4),"
     " min(vintage) FROM trade_flows WHERE period='2024'", (78.8632, 147.1165, "census.gov balance page fetched 2026-06-17T05:40:13Z")),
    ("census/census_japan_page_scrapes/trade_balance__us-balance-5880-2026__at_4c5de49.md", "census_page_md", "trade_flows", 48,
     "SELECT value/1e6 FROM trade_flows WHERE flow='imports' AND period='2025-04'", (13546.5,)),
    ("hts/hts_2025_basic_edition.csv", "hts_csv", "hts_lines", 29395,
     "SELECT count(*), min(revision) FROM chapter99_lines", (447, "2025_basic")),
    pytest.param("census/dataweb_imports_2024_selected_hts10_with_quantities.xlsx", "dataweb_xlsx", "trade_flows", 18942,
                 # the sheets' total rows: customs value 72,806,911,050; calculated duties 2,748,846,614
                 "SELECT sum(value), sum(calculated_duty), count(DISTINCT product_code) FROM trade_flows WHERE value_basis='customs'",
                 (72806911050.0, 2748846614.0, 184), marks=pytest.mark.slow, id="dataweb_xlsx"),
    ("autos/us_auto_imports_8703_8704.csv", "comtrade", "trade_flows", 36,
     "SELECT round(value/1e9, 2), quantity FROM trade_flows WHERE partner='JPN' AND product_code='8703' AND period='2024'", (40.77, 1388330.0)),
]


@pytest.mark.raw
@pytest.mark.parametrize("rel,kind,table,rows,sql,expected", CASES,
                         ids=[c[0].split("/")[-1] if isinstance(c[0], str) else None for c in CASES])
def test_ingest_real_file(con, raw, rel, kind, table, rows, sql, expected):
    path = raw / rel
    assert core.detect_kind(path) == kind
    res = core.ingest(path, con=con)
    assert res.status == "ingested" and res.kind == kind and res.rows[table] == rows
    assert q(con, f"SELECT count(*) FROM {table}")[0][0] == rows
    assert q(con, sql)[0] == expected
    log = q(con, "SELECT source_kind, rows, sha256 FROM ingest_log")
    assert log == [(kind, res.total_rows, core.sha256_file(path))]
    assert q(con, "SELECT count(*) FROM sources WHERE source = ?", [res.source])[0][0] == 1
    # every stored row carries its source and a vintage
    if table in ("trade_flows", "exchange_rates"):
        assert q(con, f"SELECT count(*) FROM {table} WHERE source IS NULL OR vintage IS NULL")[0][0] == 0
    # re-ingest: a no-op that says when
    again = core.ingest(path, con=con)
    assert again.status == "already" and "already ingested on" in again.message
    assert q(con, f"SELECT count(*) FROM {table}")[0][0] == rows
    assert q(con, "SELECT count(*) FROM ingest_log")[0][0] == 1


@pytest.mark.raw
def test_census_api_json_as_the_api_returns_it(con, raw, tmp_path):
    # The API's JSON: array of arrays, header first, every value a string. Build it from the real pull.
    t = pq.read_table(raw / "census/hs10_imports_2024_by_partner/5880.parquet")
    cols = ["CTY_CODE", "CTY_NAME", "I_COMMODITY", "COMM_LVL", "CON_VAL_YR", "CAL_DUT_YR"]
    body = [[r[c] for c in cols] + ["2024-12"] for r in t.select(cols).to_pylist()]
    path = tmp_path / "imports_hs_5880.json"
    path.write_text(json.dumps([cols + ["time"]] + body))
    assert core.detect_kind(path) == "census_api"
    res = core.ingest(path, con=con)
    assert res.rows["trade_flows"] == 10102
    assert q(con, "SELECT round(sum(value)/1e9, 2), min(period), min(frequency) FROM trade_flows") == [(151.34, "2024", "A")]


def test_census_api_exports_monthly_json(con, tmp_path):
    # exports/hs monthly pull: ALL_VAL_MO with E_COMMODITY, world and EU rows, an aggregate row skipped
    rows = [["CTY_CODE", "E_COMMODITY", "ALL_VAL_MO", "time"],
            ["5880", "87", "1000", "2025-05"], ["0003", "87", "2000", "2025-05"],
            ["-", "87", "9000", "2025-05"], ["0014", "87", "500", "2025-05"]]
    path = tmp_path / "exports_hs.json"
    path.write_text(json.dumps(rows))
    res = core.ingest(path, con=con)
    assert res.rows["trade_flows"] == 3 and any("aggregate" in n for n in res.notes)
    got = q(con, "SELECT partner, flow, trade_regime, value_basis, period, frequency, value FROM trade_flows ORDER BY partner")
    assert got == [("EU27", "exports", "total", "fas", "2025-05", "M", 2000.0), ("JPN", "exports", "total", "fas", "2025-05", "M", 1000.0),
                   ("WLD", "exports", "total", "fas", "2025-05", "M", 9000.0)]


def test_comtrade_json(con, tmp_path):
    doc = {"data": [
        {"refYear": 2024, "reporterCode": 842, "partnerCode": 392, "flowCode": "M", "cmdCode": "8703",
         "primaryValue": 40765669517.0, "qty": 1388330, "qtyUnitAbbr": "u"},
        {"refYear": 2024, "reporterCode": 842, "partnerCode": 0, "flowCode": "M", "cmdCode": "8703",
         "primaryValue": 1.0e11, "qty": None, "qtyUnitAbbr": None}]}
    path = tmp_path / "comtrade.json"
    path.write_text(json.dumps(doc))
    res = core.ingest(path, con=con)
    assert res.kind == "comtrade" and res.rows["trade_flows"] == 2
    assert q(con, "SELECT reporter, partner, quantity, quantity_unit FROM trade_flows ORDER BY partner") == [
        ("USA", "JPN", 1388330.0, "units"), ("USA", "WLD", None, None)]


def test_japan_customs_csv(con, tmp_path):
    # Japan MoF layout (see CATALOG.md): values in thousands of yen; USA = 304.
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    header = (["Exp or Imp", "Year", "HS", "Country", "Unit1", "Unit2"] + [f"Quantity1-{m}" for m in months]
              + [f"Quantity2-{m}" for m in months] + [f"Value-{m}" for m in months] + ["Value-Year"])
    row = ["1", "2025", "870323915", "304", "NO", "KG"] + ["100"] * 12 + ["150000"] * 12 + ["500,000"] * 12 + ["6,000,000"]
    path = tmp_path / "japan_exports.csv"
    path.write_text(",".join(header) + "\n" + ",".join(f'"{x}"' for x in row) + "\n")
    res = core.ingest(path, con=con)
    assert res.kind == "japan_customs_csv" and res.rows["trade_flows"] == 12
    # 500,000 thousand yen a month -> 5e8 yen; 12 months -> 6e9 yen; quantity in units (NO)
    assert q(con, "SELECT reporter, partner, flow, currency, sum(value), sum(quantity), min(quantity_unit) FROM trade_flows GROUP BY ALL") == [
        ("JPN", "USA", "exports", "JPY", 6.0e9, 1200.0, "NO")]


@pytest.mark.raw
def test_status(con, raw):
    core.ingest(raw / "fx/EXJPUS_monthly_to_2024-12.csv", con=con)
    st = core.data_status(con)
    assert [s["source"] for s in st.sources] == ["fred_csv:EXJPUS_monthly_to_2024-12"]
    s = st.sources[0]
    assert s["periods"] == "2002-04-01 .. 2024-12-01" and s["rows"] == {"exchange_rates": 273}
    assert s["vintage"] == "FRED EXJPUS, observations through 2024-12-01"


@pytest.mark.raw
def test_cli_ingest_and_status(warehouse_copy, raw, capsys, tmp_path):
    # the raw file itself is part of the embedded data, so ingest a copy without its last row
    lines = (raw / "autos/us_auto_imports_8703_8704_extended_kor_chn_eu.csv").read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "comtrade_extract.csv"
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert main(["data", "ingest", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ingested 117 trade_flows" in out
    assert main(["data", "ingest", str(path)]) == 0
    assert "already ingested on" in capsys.readouterr().out
    assert main(["data", "status", "--format", "json"]) == 0
    st = json.loads(capsys.readouterr().out)
    by = {s["source"]: s for s in st["sources"]}
    assert by["comtrade:comtrade_extract"]["rows"] == {"trade_flows": 117}
    assert by["usitc_hts"]["periods"] == "2025_basic .. 2026_rev_10"
    assert by["census_hs10_imports_2024"]["rows"] == {"trade_flows": 209616}
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "census_japan_monthly_totals" in out and "2024-01 .. 2025-12" in out
    # a bad file: one line "Error: <file>, line N: reason", exit 1
    assert main(["data", "ingest", str(raw / "census/dataweb_exports_fas_query_parameters.csv")]) == 1
    assert "query-parameters file" in capsys.readouterr().err
    # the Comtrade world-total extract does not say which commodity it sums: refused, not guessed
    assert main(["data", "ingest", str(raw / "autos/us_auto_imports_8703_8704_world_total.csv")]) == 1
    assert "no cmdCode column" in capsys.readouterr().err


@pytest.mark.raw
def test_raw_embedded_file_is_recognized(warehouse_copy, raw):
    res = core.ingest(raw / "hts/hts_2025_basic.json.gz")
    assert res.status == "already" and "usitc_hts" in res.message


@pytest.fixture()
def warehouse_copy(warehouse, tmp_path, monkeypatch):
    """A writable copy of the session warehouse as $TARIFFSCOPE_HOME/warehouse.duckdb."""
    import shutil

    warehouse.execute("CHECKPOINT")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(db.config.warehouse_path(), home / "warehouse.duckdb")
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(home))
    return home


@pytest.mark.raw
@pytest.mark.slow
def test_hts_csv_equals_json(raw):
    from tariffscope.ingest import hts_csv, hts_json

    a = hts_csv.read(raw / "hts/hts_2025_basic_edition.csv").drop_columns(["footnotes"])
    b = hts_json.read(raw / "hts/hts_2025_basic.json.gz").drop_columns(["footnotes"])  # the CSV has no footnotes
    assert a.equals(b)


@pytest.mark.raw
@pytest.mark.parametrize("rel,why", [
    ("census/census_to_iso3.csv", "country code list"),
    ("census/japan_customs_country_codes.csv", "Japan Customs country code list"),
    ("census/census_country_codes.txt", "Schedule C"),
    ("hts/revision_dates.csv", "HTS revision dates"),
    ("hts/chapter99_us_notes_2026_rev_6.txt", "Chapter 99 U.S. notes"),
    ("hts/usitc_tariff_database_2024.xlsx", "annual tariff database"),
])
def test_reference_files_are_refused_with_a_reason(raw, rel, why):
    with pytest.raises(IngestError, match=why):
        core.detect_kind(raw / rel)


@pytest.mark.raw
def test_gz_kind_detection(raw):
    with gzip.open(raw / "hts/hts_2025_rev_1.json.gz") as f:
        assert f.read(30).startswith(b'[ {\n  "htsno"')  # pretty-printed: detection must not need '[{'
    assert core.detect_kind(raw / "hts/hts_2025_rev_1.json.gz") == "hts_json"
    with pytest.raises(IngestError, match="cannot tell"):
        core.detect_kind(raw / "census/japan_monthly_totals_2024_2025.README.txt")
