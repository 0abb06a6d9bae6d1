"""No wrong data stored (issue 15): a new version of a file replaces the old one (logged), duplicate
rows, non-finite or negative figures and truncated files are refused with file, line and reason,
and a refused file leaves the warehouse byte-for-byte unchanged (hashed after a CHECKPOINT).

Every case starts from a real file of the raw data (copied, then changed, in a tmp dir) or, for the
Japan customs reader that has no real file, from a small synthetic one.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tariffscope import db
from tariffscope.errors import IngestError, InputError
from tariffscope.ingest import core
from tariffscope.ingest.numbers import NumberFormatError, as_number, parse_number, parse_numbers

pytestmark = pytest.mark.raw

FRED = "fx/DEXJPUS_daily_2021-05_2026-05.csv"
WEIGHTS = "census/import_weights_hs10_country_2024.csv.gz"
COMTRADE = "autos/us_auto_imports_8703_8704.csv"
USATO = "census/usatradeonline_imports_hs2_monthly/india.csv"
DATAWEB = "census/dataweb_exports_fas_hs2_by_country_2020_2024.csv"
PAGE = "census/census_japan_page_scrapes/trade_balance__us-balance-5880-2026__at_4c5de49.md"
JSONL = "census/japan_monthly_totals_2024_2025.jsonl"
USATO_JSON = "census/imports_hs2_ch84_85_87_monthly.json"
CENSUS = "census/hs10_imports_2024_by_partner/5880.parquet"
HTS_CSV = "hts/hts_2025_basic_edition.csv"


@pytest.fixture()
def wh(tmp_path):
    """A fresh warehouse file (no embedded data: small and fast) holding one ingest to protect."""
    path = tmp_path / "w.duckdb"
    con = db.connect(path)
    yield con, path
    con.close()


def digest(con, path) -> str:
    con.execute("CHECKPOINT")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(wh, bad, reason, line=None, **options) -> IngestError:
    """``bad`` is refused with ``reason`` (at ``line``), its path in the message, nothing written."""
    con, path = wh
    before = digest(con, path)
    with pytest.raises(IngestError) as ei:
        core.ingest(bad, con=con, **options)
    err = ei.value
    assert err.path == str(bad) and str(bad) in str(err)
    assert reason in err.reason, str(err)
    if line is not None:
        assert err.line == line and f"line {line}" in str(err), str(err)
    assert "\n" not in str(err)
    assert digest(con, path) == before
    return err


def lines_of(raw, rel) -> list[str]:
    return (raw / rel).read_text(encoding="utf-8-sig").splitlines()


def write(path, lines, end="\n"):
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


def weights_lines(raw, n: int) -> list[str]:
    with gzip.open(raw / WEIGHTS, "rt") as f:
        return [next(f).rstrip("\n") for _ in range(n)]


def set_field(line: str, col: int, value: str) -> str:
    fields = next(csv.reader([line]))
    fields[col] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    return buf.getvalue()


def fx(con, source=None) -> list[tuple]:
    where = "WHERE source = ?" if source else ""
    return con.execute(f"SELECT source, date, rate FROM exchange_rates {where} ORDER BY date", [source] if source else []).fetchall()


# --- 1. a new version of a file replaces the old one, atomically, and is logged --------------------


def test_changed_fred_file_replaces_the_old_rows(wh, raw, tmp_path):
    con, _ = wh
    lines = lines_of(raw, FRED)
    f = write(tmp_path / "DEXJPUS_daily_2021-05_2026-05.csv", lines)
    first = core.ingest(f, con=con)
    n = first.rows["exchange_rates"]
    i = next(k for k, ln in enumerate(lines) if ln.startswith("2024-06-03,"))
    old_rate = float(lines[i].split(",")[1])
    lines[i] = "2024-06-03,155.55"
    write(f, lines)
    second = core.ingest(f, con=con)
    assert second.status == "ingested" and second.replaced and second.replaced[0]["old_ingest_id"] == first.ingest_id
    assert "replaced the earlier version of this file" in second.message
    got = con.execute("SELECT count(*), count(DISTINCT date) FROM exchange_rates").fetchall()[0]
    assert got == (n, n)  # one row per date, not the old and the new
    assert con.execute("SELECT rate FROM exchange_rates WHERE date = '2024-06-03'").fetchall() == [(155.55,)]
    assert old_rate != 155.55
    # the sources row describes the version loaded, and the replacement is logged and shown
    assert con.execute("SELECT sha256 FROM sources WHERE source = ?", [second.source]).fetchall() == [(second.sha256,)]
    st = core.data_status(con)
    assert [(r["old_ingest_id"], r["new_ingest_id"], r["rows_removed"]) for r in st.replacements] == [(first.ingest_id, second.ingest_id, n)]
    assert "replaced by ingest" in st.sources[0]["replaced"][0]
    # the same bytes again: a no-op
    before = digest(*wh)
    assert core.ingest(f, con=con).status == "already"
    assert digest(*wh) == before
    # the first version again (A -> B -> A): it replaces B, it is not 'already there'
    write(f, lines_of(raw, FRED))
    third = core.ingest(f, con=con)
    assert third.status == "ingested" and third.replaced[0]["old_ingest_id"] == second.ingest_id
    assert con.execute("SELECT rate FROM exchange_rates WHERE date = '2024-06-03'").fetchall() == [(old_rate,)]
    assert con.execute("SELECT count(*) FROM exchange_rates").fetchall()[0][0] == n


def test_import_weights_half_then_whole_holds_the_whole_once(wh, raw, tmp_path):
    con, _ = wh
    lines = weights_lines(raw, 401)
    f = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    f.write_bytes(gzip.compress(("\n".join(lines[:201]) + "\n").encode()))
    core.ingest(f, con=con)
    f.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    res = core.ingest(f, con=con)
    whole = sum(float(ln.rsplit(",", 1)[1]) for ln in lines[1:])
    n, total = con.execute("SELECT count(*), sum(value) FROM trade_flows").fetchall()[0]
    assert n == res.rows["trade_flows"] and total == pytest.approx(whole, rel=1e-12)
    assert res.replaced[0]["rows_removed"] == 200


def test_failed_replacement_keeps_the_old_version(wh, raw, tmp_path):
    con, _ = wh
    lines = lines_of(raw, FRED)
    f = write(tmp_path / "DEXJPUS_daily_2021-05_2026-05.csv", lines)
    core.ingest(f, con=con)
    before = fx(con)
    lines[700] = lines[700].split(",")[0] + ",1e999"
    write(f, lines)
    refused(wh, f, "not a finite number", line=701)
    assert fx(con) == before


def test_two_files_of_one_source_are_never_mixed(wh, raw, tmp_path):
    """Rows whose keys another file of the same source holds are refused, even after the
    replacement has already removed rows in the transaction: the rollback restores them."""
    con, _ = wh
    lines = lines_of(raw, FRED)
    a = write(tmp_path / "a.csv", lines[:600])  # first half of the dates
    b = write(tmp_path / "b.csv", [lines[0]] + lines[600:])  # the rest
    core.ingest(a, con=con, source="fx_jpy")
    core.ingest(b, con=con, source="fx_jpy")
    assert con.execute("SELECT count(*) = count(DISTINCT date) FROM exchange_rates").fetchall() == [(True,)]
    before = fx(con)
    # a new version of a.csv that also covers b.csv's dates: the old a rows are deleted, then the mix is refused
    write(a, lines)
    err = refused(wh, a, "the two files would be mixed", source="fx_jpy")
    assert "b.csv" in err.reason and "--source-id" in err.reason
    assert fx(con) == before
    # a whole copy under another name, same source: refused too
    refused(wh, write(tmp_path / "c.csv", lines), "already holds exchange_rates rows", source="fx_jpy")
    # under its own source it is a separate vintage, stored whole
    res = core.ingest(tmp_path / "c.csv", con=con, source="fx_jpy_v2")
    assert con.execute("SELECT count(*) FROM exchange_rates WHERE source = 'fx_jpy_v2'").fetchall()[0][0] == res.rows["exchange_rates"]


# --- 2. duplicate rows on the natural key: an error naming both lines ------------------------------


def test_comtrade_duplicate_row_is_not_summed(wh, raw, tmp_path):
    lines = lines_of(raw, COMTRADE)
    bad = write(tmp_path / "comtrade.csv", lines[:6] + [lines[3]] + lines[6:])
    err = refused(wh, bad, "duplicate row: line 7 repeats the key of line 4", line=7)
    assert "remove the extra row" in err.reason


def test_import_weights_duplicate_row_is_not_summed(wh, raw, tmp_path):
    lines = weights_lines(raw, 300)
    bad = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    bad.write_bytes(gzip.compress(("\n".join(lines + [lines[42]]) + "\n").encode()))
    refused(wh, bad, "line 301 repeats the key of line 43", line=301)


def test_partners_that_map_to_one_iso3_are_still_summed(wh, tmp_path):
    """Gaza Strip (5082) and West Bank (5083) are one ISO3 (PSE): added up, said so, not refused."""
    con, _ = wh
    f = write(tmp_path / "import_weights_hs10_country_2024.csv", [
        "hs10,gtap_code,cty_code,imports", "0101210010,ctl,5082,100", "0101210010,ctl,5083,250", "0101210010,ctl,5880,7"])
    res = core.ingest(f, con=con)
    assert any("summed 1 rows" in n for n in res.notes)
    assert con.execute("SELECT partner, value FROM trade_flows ORDER BY partner").fetchall() == [("JPN", 7.0), ("PSE", 350.0)]


def test_census_parquet_usatradeonline_page_jsonl_duplicates(wh, raw, tmp_path):
    t = pq.read_table(raw / CENSUS)
    dup = tmp_path / "5880.parquet"
    pq.write_table(pa.concat_tables([t.slice(0, 10), t.slice(4, 1)]), dup)
    refused(wh, dup, "line 11 repeats the key of line 5", line=11)

    lines = lines_of(raw, USATO)
    refused(wh, write(tmp_path / "india.csv", lines[:12] + [lines[5]]), "line 13 repeats the key of line 6", line=13)

    lines = lines_of(raw, PAGE)
    n = next(i for i, ln in enumerate(lines, 1) if ln.startswith("| 2025 | May |"))
    refused(wh, write(tmp_path / "page.md", lines[:n] + [lines[n - 1]] + lines[n:]), f"repeats period 2025-05 of line {n}", line=n + 1)

    lines = lines_of(raw, JSONL)
    refused(wh, write(tmp_path / "totals.jsonl", lines + [lines[1]]), "it repeats it verbatim", line=len(lines) + 1)


def test_usato_json_and_japan_customs_duplicates(wh, raw, tmp_path):
    doc = json.loads((raw / USATO_JSON).read_text())
    i = next(k for k, d in enumerate(doc["datasets"]) if d["actualGranularity"] == "monthly")
    doc["datasets"][i]["rows"].append(dict(doc["datasets"][i]["rows"][0]))
    bad = tmp_path / "hs2.json"
    bad.write_text(json.dumps(doc))
    refused(wh, bad, "duplicate value", line=i + 1)

    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    header = (["Year", "HS", "Country", "Unit1", "Unit2"] + [f"Quantity1-{m}" for m in months]
              + [f"Quantity2-{m}" for m in months] + [f"Value-{m}" for m in months])
    row = ["2025", "870323915", "304", "NO", "KG"] + ["1"] * 36
    japan = write(tmp_path / "japan.csv", [",".join(header), ",".join(row), ",".join(row)])
    refused(wh, japan, "line 3 repeats imports 2025 HS 870323915", line=3, kind="japan_customs_csv", flow="imports")


def test_dataweb_csv_duplicate_row(wh, raw, tmp_path):
    lines = lines_of(raw, DATAWEB)
    k = 40
    body = lines[3:-1] + [lines[k - 1]]
    head = [lines[0], f"Data Row Count,{len(body)}" + lines[1][lines[1].index(",", 15):], lines[2]]
    # the Total row and the row count are made to agree, so only the duplicate check can see it
    total = next(csv.reader([lines[-1]]))
    extra = next(csv.reader([lines[k - 1]]))
    for j in range(4, len(total)):
        total[j] = f"{parse_number(total[j]) + float(extra[j]):,.2f}"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(total)
    bad = write(tmp_path / "dataweb.csv", head + body + [buf.getvalue()])
    refused(wh, bad, f"repeats the key of line {k}", line=len(head) + len(body))


# --- 3. every figure finite and in its domain -----------------------------------------------------


def test_numbers_refuse_infinity_and_nan():
    for text in ("1e999", "-1e400", "1,000e400"):
        with pytest.raises(NumberFormatError, match="not a finite number"):
            parse_number(text)
    with pytest.raises(NumberFormatError) as ei:
        parse_numbers(pa.array(["1", "2", "1e999"]))
    assert ei.value.index == 2 and "finite" in ei.value.reason
    for arr in (pa.array([1.0, math.nan]), pa.array([1.0, math.inf]), pa.array([-math.inf, 1.0])):
        with pytest.raises(NumberFormatError):
            parse_numbers(arr)
    for v in (math.inf, math.nan, True, "12", 10**400):
        with pytest.raises(NumberFormatError):
            as_number(v)
    with pytest.raises(NumberFormatError, match="below 0"):
        as_number(-1, minimum=0)
    assert as_number(12, minimum=0) == 12.0 and parse_number("1e300") == 1e300


def _fred_1e999(raw, tmp_path):
    lines = lines_of(raw, FRED)
    lines[20] = lines[20].split(",")[0] + ",1e999"
    return write(tmp_path / "DEXJPUS.csv", lines), 21, "not a finite number"


def _weights_1e999(raw, tmp_path):
    lines = weights_lines(raw, 50)
    lines[30] = lines[30].rsplit(",", 1)[0] + ",1e999"
    f = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    f.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return f, 31, "not a finite number"


def _comtrade_1e999(raw, tmp_path):
    lines = lines_of(raw, COMTRADE)
    lines[5] = set_field(lines[5], 4, "1e999")
    return write(tmp_path / "comtrade.csv", lines), 6, "not a finite number"


def _usato_1e999(raw, tmp_path):
    lines = lines_of(raw, USATO)
    lines[8] = set_field(lines[8], 3, "1e999")
    return write(tmp_path / "india.csv", lines), 9, "not a finite number"


def _dataweb_1e999(raw, tmp_path):
    lines = lines_of(raw, DATAWEB)
    lines[9] = set_field(lines[9], 5, "1e999")
    return write(tmp_path / "dataweb.csv", lines), 10, "not a finite number"


def _census_json_1e999(raw, tmp_path):
    rows = [["CTY_CODE", "I_COMMODITY", "CON_VAL_MO", "CAL_DUT_MO", "time"],
            ["5880", "8703230140", "100", "2", "2025-05"], ["5880", "8703230150", "1e999", "0", "2025-05"]]
    f = tmp_path / "imports.json"
    f.write_text(json.dumps(rows))
    return f, 3, "not a finite number"


def _census_parquet_1e999(raw, tmp_path):
    t = pq.read_table(raw / CENSUS).slice(0, 20)
    vals = t["CAL_DUT_YR"].to_pylist()
    vals[7] = "1e999"
    f = tmp_path / "5880.parquet"
    pq.write_table(t.set_column(t.column_names.index("CAL_DUT_YR"), "CAL_DUT_YR", pa.array(vals, pa.string())), f)
    return f, 8, "not a finite number"


def _jsonl_1e999(raw, tmp_path):
    lines = lines_of(raw, JSONL)
    obj = json.loads(lines[1])
    key = "duties" if "duties" in obj["row"] else "exports"
    obj["row"][key][0] = 12345.5
    lines[1] = json.dumps(obj).replace(f'"{key}": [12345.5', f'"{key}": [1e999', 1)  # json.dumps cannot write 1e999
    return write(tmp_path / "totals.jsonl", lines), 2, "not a finite number"


def _usato_json_1e999(raw, tmp_path):
    doc = json.loads((raw / USATO_JSON).read_text())
    i = next(k for k, d in enumerate(doc["datasets"]) if d["actualGranularity"] == "monthly")
    k = next(c for c in doc["datasets"][i]["rows"][3] if c.startswith("hs"))
    doc["datasets"][i]["rows"][3][k] = 12345
    f = tmp_path / "hs2.json"
    f.write_text(json.dumps(doc).replace(f'"{k}": 12345', f'"{k}": 1e999', 1))
    return f, i + 1, "not a finite number"


def _page_1e999(raw, tmp_path):
    lines = lines_of(raw, PAGE)
    n = next(i for i, ln in enumerate(lines, 1) if ln.startswith("| 2025 | May |"))
    lines[n - 1] = lines[n - 1].replace("7131.6", "1e999")
    return write(tmp_path / "page.md", lines), n, "not a finite number"


@pytest.mark.parametrize("make", [_fred_1e999, _weights_1e999, _comtrade_1e999, _usato_1e999, _dataweb_1e999,
                                  _census_json_1e999, _census_parquet_1e999, _jsonl_1e999, _usato_json_1e999, _page_1e999],
                         ids=lambda f: f.__name__.strip("_").removesuffix("_1e999"))
def test_1e999_is_refused_by_every_reader(wh, raw, tmp_path, make):
    bad, line, reason = make(raw, tmp_path)
    refused(wh, bad, reason, line=line)


def test_negative_values_and_quantities_are_refused(wh, raw, tmp_path):
    lines = weights_lines(raw, 50)
    lines[10] = lines[10].rsplit(",", 1)[0] + ",-5"
    bad = write(tmp_path / "import_weights_hs10_country_2024.csv", lines)
    refused(wh, bad, "'imports' is -5, below 0", line=11)
    lines = lines_of(raw, COMTRADE)
    lines[4] = set_field(lines[4], 5, "(1,000)")  # qty, accounting negative
    refused(wh, write(tmp_path / "comtrade.csv", lines), "'qty' is -1,000, below 0", line=5)


def test_checks_before_writing_catch_what_a_reader_lets_through(tmp_path):
    """The last check in core (any reader, e.g. one another module owns) refuses non-finite figures and duplicate keys."""
    from tariffscope.ingest.common import EXCHANGE_RATES, ParsedFile, make_table

    def parsed(rates, dates):
        t = make_table(EXCHANGE_RATES, len(rates), dict(base_currency="USD", quote_currency="JPY", frequency="D",
                                                        date=pa.array(dates, pa.date32()), rate=pa.array(rates), source="s"))
        return ParsedFile("fred_csv", tmp_path / "x.csv", {"exchange_rates": t}, "s", "t", "p")

    import datetime as dt
    d1, d2 = dt.date(2025, 1, 2), dt.date(2025, 1, 3)
    with pytest.raises(IngestError, match="rate is inf"):
        core.check_tables(tmp_path / "x.csv", parsed([150.0, math.inf], [d1, d2]))
    with pytest.raises(IngestError, match="must be > 0"):
        core.check_tables(tmp_path / "x.csv", parsed([150.0, 0.0], [d1, d2]))
    with pytest.raises(IngestError, match="2 rows with one key"):
        core.check_tables(tmp_path / "x.csv", parsed([150.0, 151.0], [d1, d1]))
    core.check_tables(tmp_path / "x.csv", parsed([150.0, 151.0], [d1, d2]))


def test_duty_refuses_infinite_and_nan_inputs(warehouse):
    from tariffscope import api
    from tariffscope.cli import main

    for kw in (dict(customs_value=math.inf), dict(customs_value=math.nan), dict(customs_value=True),
               dict(customs_value=1000.0, quantity=math.nan), dict(customs_value=1000.0, quantity=math.inf)):
        with pytest.raises(InputError, match="must be a finite number"):
            api.duty("8703230140", "JPN", "2025-06-15", con=warehouse, **kw)
    assert api.duty("8703230140", "JPN", "2025-06-15", customs_value=1000.0, quantity=1.0, con=warehouse).total_duty > 0
    assert main(["duty", "8703230140", "--origin", "JPN", "--date", "2025-06-15", "--value", "inf"]) == 1
    assert main(["duty", "8703230140", "--origin", "JPN", "--date", "2025-06-15", "--value", "1000", "--quantity", "nan"]) == 1


# --- 4. truncated files -------------------------------------------------------------------------------


@pytest.mark.parametrize("rel,name", [(FRED, "DEXJPUS.csv"), (COMTRADE, "comtrade.csv"), (USATO, "india.csv"),
                                      (JSONL, "totals.jsonl"), (PAGE, "page.md")])
def test_file_cut_inside_its_last_line_is_refused(wh, raw, tmp_path, rel, name):
    data = (raw / rel).read_bytes().rstrip(b"\n")
    bad = tmp_path / name
    bad.write_bytes(data[:-2])  # cut inside the last figure: '151.23' would be stored as '151.'
    refused(wh, bad, "it looks truncated", line=data.count(b"\n") + 1)


def test_fred_cut_inside_a_number_stores_nothing(wh, raw, tmp_path):
    lines = lines_of(raw, FRED)
    last = lines[-1]
    bad = tmp_path / "DEXJPUS.csv"
    bad.write_text("\n".join(lines[:-1] + [last[:-2]]))
    refused(wh, bad, "no line end after it", line=len(lines))


def test_gzip_with_a_cut_csv_inside_is_refused(wh, raw, tmp_path):
    lines = weights_lines(raw, 100)
    text = "\n".join(lines)
    bad = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    bad.write_bytes(gzip.compress(text[:-3].encode()))  # a whole gzip stream of a cut CSV
    refused(wh, bad, "it looks truncated", line=100)


def test_gzip_of_several_members_is_read_whole(wh, raw, tmp_path):
    con, _ = wh
    lines = weights_lines(raw, 100)
    f = tmp_path / "import_weights_hs10_country_2024.csv.gz"
    f.write_bytes(gzip.compress(("\n".join(lines[:40]) + "\n").encode()) + gzip.compress(("\n".join(lines[40:]) + "\n").encode()))
    res = core.ingest(f, con=con)
    assert res.rows["trade_flows"] == 99
    f2 = tmp_path / "x" / "import_weights_hs10_country_2024.csv.gz"
    f2.parent.mkdir()
    f2.write_bytes(gzip.compress(("\n".join(lines[:40]) + "\n").encode()) + b"garbage")
    refused(wh, f2, "truncated or corrupt gzip", kind="import_weights_csv")


def test_half_an_hts_csv_is_not_a_revision(wh, raw, tmp_path):
    lines = lines_of(raw, HTS_CSV)
    half = lines[: len(lines) // 2]
    while half[-1].count('"') % 2:  # end on a whole record (descriptions may span lines)
        half.pop()
    bad = write(tmp_path / "hts_2025_basic_edition.csv", half)
    last = next(i for i in range(len(half), 0, -1) if half[i - 1].startswith('"') and half[i - 1][1:2].isdigit())
    err = refused(wh, bad, "a full revision ends in chapter 99", line=last)
    assert "looks truncated" in err.reason


def test_dataweb_without_its_total_row_is_refused(wh, raw, tmp_path):
    lines = lines_of(raw, DATAWEB)
    refused(wh, write(tmp_path / "dataweb.csv", lines[:-1]), "no 'Total:' row")


def test_truncated_json_and_parquet_are_refused(wh, raw, tmp_path):
    data = (raw / USATO_JSON).read_bytes()
    bad = tmp_path / "hs2.json"
    bad.write_bytes(data[: len(data) * 2 // 3])
    refused(wh, bad, "not valid JSON", kind="usato_json")
    data = (raw / CENSUS).read_bytes()
    bad = tmp_path / "5880.parquet"
    bad.write_bytes(data[: len(data) - 100])
    refused(wh, bad, "not a readable Parquet file")


# --- FX: one vintage per month, never an average across vintages -----------------------------------


def test_fx_uses_the_latest_vintage_not_an_average(wh, raw, tmp_path):
    """An edited DEXJPUS filed as its own source beside the original: each month's rate comes from one
    of them (the latest ingest that has the month), and the note names the one not used."""
    from tariffscope.trade._common import lagged_daily_rate, monthly_rates

    con, _ = wh
    lines = lines_of(raw, FRED)
    old = core.ingest(write(tmp_path / "DEXJPUS_daily_2021-05_2026-05.csv", lines), con=con)
    june = [ln for ln in lines[1:] if ln.startswith("2024-06-") and ln.split(",")[1].strip()]
    old_june = sum(float(ln.split(",")[1]) for ln in june) / len(june)
    before = monthly_rates(con, "JPY", ["2024-06"])
    assert before.rate["2024-06"] == pytest.approx(old_june, rel=1e-12) and before.source["2024-06"] == old.source
    # the newer vintage: June 2024 only, every rate 10 yen higher
    edited = [lines[0]] + [f"{ln.split(',')[0]},{float(ln.split(',')[1]) + 10:.4f}" for ln in june]
    new = core.ingest(write(tmp_path / "DEXJPUS_revised_june.csv", edited), con=con)
    assert new.source != old.source and new.ingest_id > old.ingest_id
    r = monthly_rates(con, "JPY", ["2024-05", "2024-06"])
    before_may = r.rate["2024-05"]
    assert r.rate["2024-06"] == pytest.approx(old_june + 10, rel=1e-9)  # the mixed average was old_june + 5
    assert r.source == {"2024-05": old.source, "2024-06": new.source}  # May: only the old vintage has it
    notes = r.sources_used(["2024-05", "2024-06"])
    assert notes[new.source] == f"JPY per USD, daily rates averaged by month; the latest ingest of the series (not mixed with {old.source})"
    assert lagged_daily_rate(con, "JPY", "2024-06", lag_days=0) == pytest.approx(old_june + 10, rel=1e-9)
    # a later whole vintage (May 2024 one yen lower) is the latest for every month it has
    later = [ln if not ln.startswith("2024-05-") or not ln.split(",")[1].strip()
             else f"{ln.split(',')[0]},{float(ln.split(',')[1]) - 1:.4f}" for ln in lines]
    third = core.ingest(write(tmp_path / "DEXJPUS_later.csv", later), con=con)
    r = monthly_rates(con, "JPY", ["2024-05", "2024-06"])
    assert r.source == {"2024-05": third.source, "2024-06": third.source}
    assert r.rate["2024-06"] == pytest.approx(old_june, rel=1e-12)
    assert r.rate["2024-05"] == pytest.approx(before_may - 1, rel=1e-9)
