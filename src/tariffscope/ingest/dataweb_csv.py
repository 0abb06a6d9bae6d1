"""USITC DataWeb CSV exports (annual, one column per year).

Layout (as downloaded): a title line (``Total Exports|Annual Data``), ``Data Row Count,N``, the
header ``Data Type,HTS Number,Description,Country,2020,...``, the rows (``FAS Value,01,LIVE
ANIMALS,Afghanistan,4483.00,...``) and a last ``Total:`` row whose figures carry thousands
separators. We check the row count, check the total row against the sum of each year column and
skip it; a year column that is zero throughout (e.g. 2025 in a download made before the year's data
existed) is dropped and said so in the notes: zero there means "not yet published", not "no trade".
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

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
from tariffscope.ingest.numbers import NumberFormatError, parse_number

KIND = "dataweb_csv"
TITLE = "USITC DataWeb trade data"
PUBLISHER = "US International Trade Commission (DataWeb)"
FLOWS = {
    "total exports": ("exports", "total"),
    "domestic exports": ("exports", "domestic"),
    "general imports": ("imports", "general"),
    "imports for consumption": ("imports", "consumption"),
}
BASIS = {"fas value": "fas", "customs value": "customs", "cif value": "cif", "dutiable value": "dutiable", "fob value": "fob"}


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    rows = list(csv.reader(io.StringIO(read_text(path, whole_lines=True))))
    if len(rows) < 4 or not rows[0]:
        raise IngestError(path, 1, "wrong header: expected DataWeb title line, 'Data Row Count', then the column header")
    title = rows[0][0].split("|")
    flow_key = title[0].strip().lower()
    if flow_key not in FLOWS:
        raise IngestError(path, 1, f"wrong header: unknown trade flow {title[0]!r} (expected one of {list(FLOWS)})")
    flow, regime = FLOWS[flow_key]
    if len(title) > 1 and "annual" not in title[1].lower():
        raise IngestError(path, 1, f"only annual DataWeb downloads are supported, found {title[1]!r}")
    if rows[1][:1] != ["Data Row Count"]:
        raise IngestError(path, 2, f"wrong header: expected 'Data Row Count', found {rows[1][:2]}")
    header = [h.strip() for h in rows[2]]
    if header[:4] != ["Data Type", "HTS Number", "Description", "Country"] or len(header) < 5:
        raise IngestError(path, 3, f"wrong header: expected Data Type, HTS Number, Description, Country, years...; found {header}")
    years = header[4:]
    for y in years:
        if not re.fullmatch(r"\d{4}", y):
            raise IngestError(path, 3, f"wrong header: year column {y!r} is not a year")
    body = rows[3:]
    total_row = None
    if body and body[-1] and body[-1][0].strip().lower().startswith("total"):
        total_row = body.pop()
    declared = rows[1][1].replace(",", "").strip() if len(rows[1]) > 1 else ""
    if declared.isdigit() and int(declared) != len(body):
        raise IngestError(path, 3 + len(body), f"file says {declared} data rows but has {len(body)} (truncated?)")
    if total_row is None:  # DataWeb ends every download with its 'Total:' row: without it the file was cut short
        raise IngestError(path, len(rows), "no 'Total:' row at the end: the file looks truncated; download it again")
    for i, r in enumerate(body, start=4):
        if len(r) != len(header):
            raise IngestError(path, i, f"row has {len(r)} fields, header has {len(header)}")
    cols = list(zip(*body, strict=False))
    dtype = sorted(set(c.strip().lower() for c in cols[0]))
    if len(dtype) != 1 or dtype[0] not in BASIS:
        raise IngestError(path, 4, f"unsupported Data Type(s) {dtype}: expected one of {list(BASIS)}")
    basis = BASIS[dtype[0]]
    codes = pa.array([c.strip() for c in cols[1]], pa.string())
    bad = pc.invert(pc.match_substring_regex(codes, r"^(\d{2}|\d{4}|\d{6}|\d{8}|\d{10})$"))
    if pc.any(bad).as_py():
        i = pc.index(bad, True).as_py()
        raise IngestError(path, i + 4, f"bad HTS number {codes[i].as_py()!r}")
    partner = map_column(path, pa.array(cols[3], pa.string()), "name", 4)
    notes, parts = [], []
    for j, year in enumerate(years):
        value = numbers(path, pa.array(cols[4 + j], pa.string()), year, 4, minimum=0)
        col_sum = pc.sum(value).as_py() or 0.0
        if total_row is not None:
            try:
                declared_total = parse_number(total_row[4 + j]) or 0.0
            except (NumberFormatError, IndexError):
                raise IngestError(path, len(rows), f"bad number in the total row for {year}") from None
            if abs(declared_total - col_sum) > 1.0 + 1e-9 * abs(declared_total):
                raise IngestError(path, len(rows), f"total row for {year} is {declared_total:,.0f} but the rows sum to {col_sum:,.0f}")
        if col_sum == 0 and pc.all(pc.equal(value, 0)).as_py():
            notes.append(f"dropped year {year}: zero for every row (not yet published when downloaded)")
            continue
        parts.append(
            make_table(
                TRADE_FLOWS, len(body),
                dict(
                    reporter="USA", partner=partner, flow=flow, trade_regime=regime, period=year, frequency="A",
                    classification="HS", product_code=codes, product_level=pc.utf8_length(codes), value=value,
                    value_basis=basis, currency="USD", source=source or default_source(KIND, path), vintage=vintage,
                ),
            )
        )
    flows = pa.concat_tables(parts) if parts else TRADE_FLOWS.empty_table()
    refuse_duplicates(path, flows, pa.array(list(range(4, len(body) + 4)) * len(parts), pa.int64()),
                      pa.array(list(cols[3]) * len(parts), pa.string()))
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
