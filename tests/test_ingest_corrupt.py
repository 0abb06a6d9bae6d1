"""A corrupted copy of each file kind is rejected with file, line and reason, and the warehouse file
is byte-for-byte unchanged (hashed after a CHECKPOINT, before and after the failed ingest)."""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tariffscope import db
from tariffscope.errors import IngestError
from tariffscope.ingest import core

pytestmark = pytest.mark.raw  # every case corrupts a copy of a real raw file


@pytest.fixture(scope="module")
def wh(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("corrupt") / "w.duckdb"
    con = db.connect(path)
    core.ingest(raw / "fx/EXJPUS_monthly_to_2024-12.csv", con=con)  # some content to protect
    con.execute("CHECKPOINT")
    yield con, path
    con.close()


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rejected(wh, bad, line, reason, kind=None, **options):
    con, path = wh
    con.execute("CHECKPOINT")
    before = digest(path)
    with pytest.raises(IngestError) as ei:
        core.ingest(bad, con=con, kind=kind, **options)
    err = ei.value
    assert err.path == str(bad)
    if line is not None:
        assert err.line == line, str(err)
    assert reason in err.reason, str(err)
    assert str(bad) in str(err) and (line is None or f"line {line}" in str(err))
    con.execute("CHECKPOINT")
    assert digest(path) == before  # nothing written, not even in the WAL
    return err


def csv_edit(lines: list[str], n: int, col: int, value: str) -> None:
    """Set field `col` of 1-based line `n`, re-quoting the line as USA Trade Online / DataWeb do."""
    fields = next(csv.reader([lines[n - 1]]))
    fields[col] = value
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="").writerow(fields)
    lines[n - 1] = buf.getvalue()


# --- Census API: Parquet and JSON ---------------------------------------------------------------


def _census_table(raw):
    return pq.read_table(raw / "census/hs10_imports_2024_by_partner/5880.parquet")


def _set(t: pa.Table, col: str, i: int, value: str) -> pa.Table:
    vals = t[col].to_pylist()
    vals[i] = value
    return t.set_column(t.column_names.index(col), col, pa.array(vals, t.schema.field(col).type))


def test_census_parquet_bad_number(wh, raw, tmp_path):
    bad = tmp_path / "5880.parquet"
    pq.write_table(_set(_census_table(raw), "CON_VAL_YR", 5, "15,24O"), bad)
    rejected(wh, bad, 6, "bad number '15,24O' in column 'CON_VAL_YR'")


def test_census_parquet_unknown_country(wh, raw, tmp_path):
    bad = tmp_path / "9999.parquet"
    pq.write_table(_set(_census_table(raw), "CTY_CODE", 3, "9999"), bad)
    rejected(wh, bad, 4, "unknown country '9999'")


def test_census_parquet_wrong_header(wh, raw, tmp_path):
    bad = tmp_path / "renamed.parquet"
    t = _census_table(raw)
    pq.write_table(t.rename_columns(["VALUE" if c == "CON_VAL_YR" else c for c in t.column_names]), bad)
    rejected(wh, bad, 1, "wrong header")


def test_census_json_bad_number_and_ragged_row(wh, tmp_path):
    rows = [["CTY_CODE", "I_COMMODITY", "CON_VAL_MO", "CAL_DUT_MO", "time"],
            ["5880", "8703230140", "100", "2", "2025-05"], ["5880", "8703230150", "2OO", "0", "2025-05"]]
    bad = tmp_path / "imports.json"
    bad.write_text(json.dumps(rows))
    rejected(wh, bad, 3, "bad number '2OO'")
    rows[2] = ["5880", "8703230150", "200"]
    bad.write_text(json.dumps(rows))
    rejected(wh, bad, 3, "row has 3 fields")


# --- import weights csv.gz ---------------------------------------------------------------------


def _weights_lines(raw) -> list[str]:
    with gzip.open(raw / "census/import_weights_hs10_country_2024.csv.gz", "rt") as f:
        return [next(f).rstrip("\n") for _ in range(400)]


def _write_gz(path, lines):
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_weights_truncated_gzip(wh, raw, tmp_path):
    data = (raw / "census/import_weights_hs10_country_2024.csv.gz").read_bytes()
    bad = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    bad.write_bytes(data[: len(data) * 3 // 5])
    err = rejected(wh, bad, None, "truncated or corrupt gzip")
    # the line reached when the stream ended: past the header, within the file's 334,729 lines
    assert err.line is not None and 1 < err.line < 334_730


def test_weights_bad_number_unknown_country_wrong_header(wh, raw, tmp_path):
    bad = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    lines = _weights_lines(raw)
    lines[100] = lines[100].rsplit(",", 1)[0] + ",12.3.4"
    _write_gz(bad, lines)
    rejected(wh, bad, 101, "bad number '12.3.4' in column 'imports'")
    lines = _weights_lines(raw)
    h, g, _c, v = lines[50].split(",")
    lines[50] = ",".join([h, g, "9998", v])
    _write_gz(bad, lines)
    rejected(wh, bad, 51, "unknown country '9998'")
    lines = _weights_lines(raw)
    lines[0] = "hs10,gtap,cty_code,imports"
    _write_gz(bad, lines)
    rejected(wh, bad, 1, "wrong header", kind="import_weights_csv")


# --- USA Trade Online CSV ---------------------------------------------------------------------


def _usato(raw) -> list[str]:
    return (raw / "census/usatradeonline_imports_hs2_monthly/india.csv").read_text().splitlines()


def test_usatradeonline_bad_number(wh, raw, tmp_path):
    lines = _usato(raw)
    csv_edit(lines, 10, 3, "1,23")  # misplaced thousands separator
    bad = tmp_path / "india.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 10, "bad number '1,23'")


def test_usatradeonline_unknown_country(wh, raw, tmp_path):
    lines = _usato(raw)
    csv_edit(lines, 7, 1, "Atlantis")
    bad = tmp_path / "india.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 7, "unknown country 'Atlantis'")


def test_usatradeonline_wrong_header(wh, raw, tmp_path):
    lines = _usato(raw)
    lines[2] = lines[2].replace('"Time"', '"Period"')
    bad = tmp_path / "india.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 3, "wrong header", kind="usatradeonline_csv")


# --- DataWeb CSV ----------------------------------------------------------------------------------


def _dataweb(raw) -> list[str]:
    return (raw / "census/dataweb_exports_fas_hs2_by_country_2020_2024.csv").read_text().splitlines()


def test_dataweb_bad_number_and_unknown_country(wh, raw, tmp_path):
    bad = tmp_path / "dataweb.csv"
    lines = _dataweb(raw)
    csv_edit(lines, 20, 6, "12..5")
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 20, "bad number '12..5' in column '2022'")
    lines = _dataweb(raw)
    csv_edit(lines, 30, 3, "Atlantis")
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 30, "unknown country 'Atlantis'")


def test_dataweb_total_row_must_match(wh, raw, tmp_path):
    lines = _dataweb(raw)
    csv_edit(lines, 5, 8, "1000000.00")  # a valid number, but the rows no longer sum to the total row
    bad = tmp_path / "dataweb.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, len(lines), "total row for 2024")


def test_dataweb_truncated(wh, raw, tmp_path):
    lines = _dataweb(raw)[:1000]  # the file says 17,773 data rows
    bad = tmp_path / "dataweb.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, None, "file says 17773 data rows but has 997")


# --- reshaped JSON, JSONL ---------------------------------------------------------------------


def test_usato_json_bad_number(wh, raw, tmp_path):
    doc = json.loads((raw / "census/imports_hs2_ch84_85_87_monthly.json").read_text())
    doc["datasets"][2]["rows"][4]["hs2_87"] = "12x"
    bad = tmp_path / "hs2.json"
    bad.write_text(json.dumps(doc))
    rejected(wh, bad, 3, "bad number '12x'")


def test_monthly_jsonl_bad_number_and_country(wh, raw, tmp_path):
    lines = (raw / "census/japan_monthly_totals_2024_2025.jsonl").read_text().splitlines()
    obj = json.loads(lines[2])
    obj["row"]["duties"][3] = "1,282"
    bad = tmp_path / "totals.jsonl"
    bad.write_text("\n".join(lines[:2] + [json.dumps(obj)] + lines[3:]) + "\n")
    rejected(wh, bad, 3, "bad number '1,282'")
    obj = json.loads(lines[0])
    obj["row"]["country_code"] = "XXA"
    bad.write_text("\n".join([json.dumps(obj)] + lines[1:]) + "\n")
    rejected(wh, bad, 1, "unknown country 'XXA'")


# --- HTS JSON -------------------------------------------------------------------------------------


def test_hts_truncated_gzip(wh, raw, tmp_path):
    data = (raw / "hts/hts_2025_rev_17.json.gz").read_bytes()
    bad = tmp_path / "hts_2025_rev_17.json.gz"
    bad.write_bytes(data[: len(data) // 2])
    rejected(wh, bad, None, "truncated or corrupt gzip")


def test_hts_bad_number(wh, raw, tmp_path):
    doc = json.loads(gzip.decompress((raw / "hts/hts_2025_rev_17.json.gz").read_bytes()))
    doc[99]["htsno"] = "0102.2l.00"
    bad = tmp_path / "hts_2025_rev_17.json.gz"
    bad.write_bytes(gzip.compress(json.dumps(doc).encode()))
    rejected(wh, bad, 100, "bad HTS number '0102.2l.00'")


def test_hts_wrong_header(wh, raw, tmp_path):
    doc = json.loads(gzip.decompress((raw / "hts/hts_2025_rev_17.json.gz").read_bytes()))
    for e in doc:
        e["rate"] = e.pop("general")
    bad = tmp_path / "hts_2025_rev_17.json.gz"
    bad.write_bytes(gzip.compress(json.dumps(doc).encode()))
    rejected(wh, bad, 1, "wrong header")


# --- FRED, Comtrade, Japan customs ------------------------------------------------------------------


def test_fred_bad_number_and_header(wh, raw, tmp_path):
    lines = (raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv").read_text().splitlines()
    lines[41] = lines[41].split(",")[0] + ",1O9.5"
    bad = tmp_path / "DEXJPUS.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 42, "bad number '1O9.5'")
    bad.write_text("\n".join(["DATE;DEXJPUS"] + lines[1:]) + "\n")
    rejected(wh, bad, 1, "wrong header", kind="fred_csv")


def test_comtrade_unknown_partner(wh, raw, tmp_path):
    lines = (raw / "autos/us_auto_imports_8703_8704.csv").read_text().splitlines()
    f = lines[2].split(",")
    f[2] = "999"
    lines[2] = ",".join(f)
    bad = tmp_path / "comtrade.csv"
    bad.write_text("\n".join(lines) + "\n")
    rejected(wh, bad, 3, "unknown country '999'")


def test_japan_customs_unknown_country_and_bad_number(wh, tmp_path):
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    header = (["Year", "HS", "Country", "Unit1", "Unit2"] + [f"Quantity1-{m}" for m in months]
              + [f"Quantity2-{m}" for m in months] + [f"Value-{m}" for m in months])
    good = ["2025", "870323915", "304", "NO", "KG"] + ["1"] * 36
    badc = ["2025", "870323915", "9999", "NO", "KG"] + ["1"] * 36
    bad = tmp_path / "japan.csv"
    bad.write_text("\n".join(",".join(r) for r in (header, good, badc)) + "\n")
    rejected(wh, bad, 3, "unknown country '9999'", kind="japan_customs_csv", flow="imports")
    badn = good[:-1] + ["1.2.3"]
    bad.write_text("\n".join(",".join(r) for r in (header, good, badn)) + "\n")
    rejected(wh, bad, 3, "bad number '1.2.3' in column 'Value-Dec'", kind="japan_customs_csv", flow="imports")
    # without an 'Exp or Imp' column the flow must be given
    rejected(wh, bad, 1, "no 'Exp or Imp' column", kind="japan_customs_csv")


# --- Census page tables, HTS CSV, DataWeb Excel -------------------------------------------------------


def test_census_page_bad_number_and_balance(wh, raw, tmp_path):
    text = (raw / "census/census_japan_page_scrapes/trade_balance__us-balance-5880-2026__at_4c5de49.md").read_text()
    lines = text.splitlines()
    n = next(i for i, ln in enumerate(lines, 1) if ln.startswith("| 2025 | May |"))
    bad = tmp_path / "page.md"
    bad.write_text("\n".join(lines[: n - 1] + [lines[n - 1].replace("7131.6", "71,31.6")] + lines[n:]) + "\n")
    rejected(wh, bad, n, "bad number '71,31.6'")
    bad.write_text("\n".join(lines[: n - 1] + [lines[n - 1].replace("7131.6", "7231.6")] + lines[n:]) + "\n")
    rejected(wh, bad, n, "is not export - import")


def test_hts_csv_wrong_header(wh, raw, tmp_path):
    lines = (raw / "hts/hts_2025_basic_edition.csv").read_text(encoding="utf-8-sig").splitlines()[:50]
    bad = tmp_path / "hts_2025_basic_edition.csv"
    bad.write_text("\n".join([lines[0].replace("General Rate of Duty", "General")] + lines[1:]) + "\n")
    rejected(wh, bad, 1, "wrong header", kind="hts_csv")


def test_dataweb_xlsx_truncated(wh, raw, tmp_path):
    data = (raw / "census/dataweb_imports_2024_selected_hts10_with_quantities.xlsx").read_bytes()
    bad = tmp_path / "dataweb.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    rejected(wh, bad, None, "not a readable Excel file")
