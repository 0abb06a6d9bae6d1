"""Census international trade API pulls: ``imports/hs`` and ``exports/hs``.

Two on-disk shapes: the JSON the API returns (an array of arrays, the first being the header) and a
Parquet table of the same columns (as in ``census/hs10_imports_2024_by_partner/*.parquet``, where the
API's string columns sit beside numeric copies; we read the API columns, strictly).

Columns understood (any subset the query asked for):
``CTY_CODE`` (Census Schedule C; '-' = all countries; '0003' = EU), ``I_COMMODITY``/``E_COMMODITY``,
``COMM_LVL`` (HS2..HS10), ``time`` ('2024-12' or '2024'), and values ``GEN_VAL_MO|YR`` (general
imports), ``CON_VAL_MO|YR`` (imports for consumption), ``CAL_DUT_MO|YR`` (calculated duty),
``DUT_VAL_MO|YR`` (dutiable value), ``ALL_VAL_MO|YR`` (total exports, FAS), ``GEN_QY1_MO|YR`` /
``CON_QY1_MO|YR`` / ``QTY_1_MO|YR`` with ``UNIT_QY1``. ``_YR`` values with time 'YYYY-12' are the year;
``_MO`` are the month. Census aggregate rows other than the EU and the world (e.g. '0014' Pacific Rim,
'1XXX' North America) are skipped and counted in the notes: they are sums of rows already present.
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tariffscope.errors import IngestError
from tariffscope.ingest.common import (
    TRADE_FLOWS,
    ParsedFile,
    default_source,
    make_table,
    map_column,
    numbers,
    read_text,
    refuse_duplicates,
    sum_duplicates,
)

KIND = "census_api"
TITLE = "US Census Bureau international trade API (imports/hs, exports/hs)"
PUBLISHER = "US Census Bureau"

# value column stem -> (flow, trade_regime, value_basis)
VALUE_COLUMNS = {
    "CON_VAL": ("imports", "consumption", "customs"),
    "GEN_VAL": ("imports", "general", "customs"),
    "ALL_VAL": ("exports", "total", "fas"),
}
QTY_COLUMNS = {"CON_VAL": "CON_QY1", "GEN_VAL": "GEN_QY1", "ALL_VAL": "QTY_1"}


def _is_aggregate(code: str) -> bool:
    return code not in ("-", "0003") and (code.startswith("00") or code.endswith("XXX") or not code.isdigit())


def read_json_rows(path: Path) -> tuple[list[str], list[list]]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, list) or not data or not isinstance(data[0], list):
        raise IngestError(path, 1, "wrong header: expected the Census API's array of arrays, header row first")
    header = [str(h) for h in data[0]]
    for i, row in enumerate(data[1:], start=2):
        if not isinstance(row, list) or len(row) != len(header):
            raise IngestError(path, i, f"row has {len(row) if isinstance(row, list) else 'no'} fields, header has {len(header)}")
    return header, data[1:]


def _load(path: Path) -> tuple[pa.Table, int]:
    """The API columns as strings; second value is the file line of row 0 (JSON) or 1 (Parquet rows)."""
    if str(path).endswith(".parquet"):
        try:
            t = pq.ParquetFile(path).read()  # one file: no dataset discovery (a third of a small file's read time)
        except (OSError, pa.ArrowException) as exc:  # damaged files: ArrowInvalid, or OSError from the reader
            raise IngestError(path, None, f"not a readable Parquet file ({exc})") from None
        return t, 1
    header, rows = read_json_rows(path)
    cols: list[tuple[object, ...]] = list(zip(*rows, strict=False)) if rows else [() for _ in header]
    t = pa.table({h: pa.array([None if v is None else str(v) for v in c], pa.string()) for h, c in zip(header, cols, strict=False)})
    return t, 2


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    t, first = _load(path)
    names = t.column_names
    ccol = "I_COMMODITY" if "I_COMMODITY" in names else "E_COMMODITY" if "E_COMMODITY" in names else None
    stems = [s for s in VALUE_COLUMNS for suf in ("_MO", "_YR") if f"{s}{suf}" in names]
    if "CTY_CODE" not in names or "time" not in names or not stems:
        raise IngestError(path, 1, f"wrong header: need CTY_CODE, time and a value column ({', '.join(f'{s}_MO|_YR' for s in VALUE_COLUMNS)}); found {names}")
    notes: list[str] = []
    cty = pc.cast(t["CTY_CODE"], pa.string()).combine_chunks()
    groups = [c for c in pc.unique(cty).to_pylist() if _is_aggregate(c or "")]
    agg = pc.is_in(cty, pa.array(groups, pa.string())) if groups else pa.repeat(False, len(cty))
    n_agg = pc.sum(agg).as_py() or 0 if groups else 0
    keep = pc.invert(agg)
    rowno = pa.array(range(first, first + t.num_rows), pa.int64())
    if n_agg:
        t, cty, rowno = t.filter(keep), cty.filter(keep), rowno.filter(keep)
        notes.append(f"skipped {n_agg} Census aggregate rows (country groups other than EU/world)")
    first_line = first  # line numbers are exact for the unfiltered prefix; good enough after a filter
    partner = map_column(path, cty, "census", first_line)

    period, freq = _periods(path, t["time"], first_line, any(c.endswith("_YR") for c in names))
    if ccol:
        code = pc.cast(t[ccol], pa.string()).combine_chunks()
        bad = pc.invert(pc.fill_null(pc.match_substring_regex(code, r"^(\d{2}|\d{4}|\d{6}|\d{8}|\d{10}|-|TOTAL)$"), False))
        if pc.any(bad).as_py():
            i = pc.index(bad, True).as_py()
            raise IngestError(path, rowno[i].as_py(), f"bad commodity code {code[i].as_py()!r} in {ccol}")
        total = pc.is_in(code, pa.array(["-", "TOTAL"]))
        product = pc.if_else(total, "TOTAL", code)
        level = pc.if_else(total, 0, pc.utf8_length(code))
        classification = pc.if_else(total, "TOTAL", "HS")
    else:
        product, level, classification = "TOTAL", 0, "TOTAL"
    parts = []
    for stem in dict.fromkeys(stems):
        flow, regime, basis = VALUE_COLUMNS[stem]
        suf = "_YR" if f"{stem}_YR" in names else "_MO"
        # values, duties and quantities: finite and never negative, each error at its own file line
        value = numbers(path, t[f"{stem}{suf}"], f"{stem}{suf}", first_line, minimum=0, lines=rowno)
        duty = (numbers(path, t[f"CAL_DUT{suf}"], f"CAL_DUT{suf}", first_line, minimum=0, lines=rowno)
                if stem == "CON_VAL" and f"CAL_DUT{suf}" in names else None)
        qcol = f"{QTY_COLUMNS[stem]}{suf}"
        qty = numbers(path, t[qcol], qcol, first_line, minimum=0, lines=rowno) if qcol in names else None
        unit = pc.cast(t["UNIT_QY1"], pa.string()) if qty is not None and "UNIT_QY1" in names else None
        if pc.any(pc.is_null(value)).as_py():
            i = pc.index(pc.is_null(value), True).as_py()
            raise IngestError(path, rowno[i].as_py(), f"missing value in {stem}{suf}")
        parts.append(
            make_table(
                TRADE_FLOWS,
                t.num_rows,
                dict(
                    reporter="USA", partner=partner, flow=flow, trade_regime=regime, period=period, frequency=freq,
                    classification=classification, product_code=product, product_level=level, value=value,
                    quantity=qty, quantity_unit=unit, calculated_duty=duty, value_basis=basis, currency="USD",
                    source=source or default_source(KIND, path), vintage=vintage,
                ),
            )
        )
    flows = pa.concat_tables(parts)
    refuse_duplicates(path, flows, pa.concat_arrays([rowno] * len(parts)), pa.concat_arrays([cty] * len(parts)))
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def _periods(path: Path, time: pa.ChunkedArray, first_line: int, ytd: bool) -> tuple[pa.Array, pa.Array | str]:
    col = time.combine_chunks()
    if pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
        col = pc.strftime(col, format="%Y-%m")
    col = pc.cast(col, pa.string())
    ok = pc.fill_null(pc.match_substring_regex(col, r"^\d{4}(-(0[1-9]|1[0-2]))?$"), False)
    if not pc.all(ok, min_count=0).as_py():  # min_count=0: no rows are no bad rows (the default answers null)
        i = pc.index(ok, False).as_py()
        raise IngestError(path, first_line + i, f"bad time {col[i].as_py()!r}: expected 'YYYY-MM' or 'YYYY'")
    if ytd:
        # _YR columns are year-to-date through the month in `time`: a full year only at December.
        month = pc.utf8_slice_codeunits(col, 5, 7)
        partial = pc.and_(pc.greater(pc.utf8_length(col), 4), pc.not_equal(month, "12"))
        if pc.any(partial).as_py():
            i = pc.index(partial, True).as_py()
            raise IngestError(path, first_line + i, f"year-to-date values through {col[i].as_py()} are not a full year; pull _MO values or time=YYYY-12")
        return pc.utf8_slice_codeunits(col, 0, 4), "A"
    monthly = pc.greater(pc.utf8_length(col), 4)
    return col, pc.if_else(monthly, "M", "A")


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
