"""USA Trade Online "Standard Report" CSV exports.

Layout: two title lines (``"Standard Report - Imports"``, ``"Current date: 05/31/2026 5:48 AM ..."``),
then a header such as ``"Commodity","Country","Time","Customs Value (Gen) ($US)",`` (note the trailing
empty column), then rows like ``"87 Vehicles, ...","Japan","May 2025","3,009,123,456"``. Values carry
thousands separators; countries are names (mapped to ISO3; USA Trade Online world areas such as
"Europe" keep a group code); periods are "May 2025" (monthly) or "2025" (annual). The vintage is the
report's "Current date".
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

KIND = "usatradeonline_csv"
TITLE = "USA Trade Online standard report"
PUBLISHER = "US Census Bureau (USA Trade Online)"

# value column -> (flow, trade_regime, value_basis, is_duty)
VALUE_COLUMNS = {
    "Customs Value (Gen) ($US)": ("imports", "general", "customs"),
    "Customs Value (Cons) ($US)": ("imports", "consumption", "customs"),
    "General Customs Value ($US)": ("imports", "general", "customs"),
    "Total Exports Value ($US)": ("exports", "total", "fas"),
    "FAS Value ($US)": ("exports", "total", "fas"),
}
DUTY_COLUMNS = ("Calculated Duty ($US)",)
MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"], 1)}


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    rows = list(csv.reader(io.StringIO(read_text(path, whole_lines=True))))
    if len(rows) < 3 or not rows[0] or not rows[0][0].startswith("Standard Report"):
        raise IngestError(path, 1, "wrong header: expected the title line 'Standard Report - Imports|Exports'")
    m = re.search(r"(\d{2})/(\d{2})/(\d{4})", rows[1][0] if rows[1] else "")
    if vintage is None and m:
        vintage = f"USA Trade Online report of {m.group(3)}-{m.group(1)}-{m.group(2)}"
    header = [h.strip() for h in rows[2]]
    while header and header[-1] == "":
        header.pop()  # USA Trade Online ends every line with a comma
    if header[:3] != ["Commodity", "Country", "Time"] or len(header) < 4:
        raise IngestError(path, 3, f"wrong header: expected 'Commodity','Country','Time', value columns; found {header}")
    value_cols = [h for h in header[3:] if h in VALUE_COLUMNS]
    unknown = [h for h in header[3:] if h not in VALUE_COLUMNS and h not in DUTY_COLUMNS]
    if len(value_cols) != 1 or unknown:
        raise IngestError(path, 3, f"wrong header: need exactly one of {list(VALUE_COLUMNS)}; unknown columns {unknown}")
    body = rows[3:]
    width = len(header)
    for i, r in enumerate(body, start=4):
        if len(r) < width or any(x.strip() for x in r[width:]):
            raise IngestError(path, i, f"row has {len(r)} fields, expected {width} (+ the trailing empty one)")
    cols = list(zip(*body, strict=False)) if body else [()] * width
    commodity = [c.strip() for c in cols[0]]
    codes, levels = [], []
    for i, c in enumerate(commodity, start=4):
        mm = re.match(r"^(\d{2,10})\b", c)
        if c.lower().startswith("total") or c == "":
            codes.append("TOTAL")
            levels.append(0)
        elif mm and len(mm.group(1)) in (2, 4, 6, 8, 10):
            codes.append(mm.group(1))
            levels.append(len(mm.group(1)))
        else:
            raise IngestError(path, i, f"bad commodity {c!r}: expected an HS code then its description")
    period, freq = [], []
    cache: dict[str, tuple[str, str]] = {}
    for i, tm in enumerate(cols[2], start=4):
        if tm not in cache:
            cache[tm] = _period(path, i, tm)
        p, f = cache[tm]
        period.append(p)
        freq.append(f)
    n = len(body)
    partner = map_column(path, pa.array(cols[1], pa.string()), "name", 4)
    flow, regime, basis = VALUE_COLUMNS[value_cols[0]]
    vi = header.index(value_cols[0])
    value = numbers(path, pa.array(cols[vi], pa.string()), value_cols[0], 4, minimum=0)
    if pc.any(pc.is_null(value)).as_py():
        raise IngestError(path, pc.index(pc.is_null(value), True).as_py() + 4, f"missing value in {value_cols[0]!r}")
    duty = None
    for d in DUTY_COLUMNS:
        if d in header:
            duty = numbers(path, pa.array(cols[header.index(d)], pa.string()), d, 4, minimum=0)
    flows = make_table(
        TRADE_FLOWS, n,
        dict(
            reporter="USA", partner=partner, flow=flow, trade_regime=regime, period=pa.array(period), frequency=pa.array(freq),
            classification=pa.array(["TOTAL" if c == "TOTAL" else "HS" for c in codes]), product_code=pa.array(codes),
            product_level=pa.array(levels, pa.int32()), value=value, calculated_duty=duty, value_basis=basis,
            currency="USD", source=source or default_source(KIND, path), vintage=vintage,
        ),
    )
    notes: list[str] = []
    refuse_duplicates(path, flows, pa.array(range(4, n + 4), pa.int64()), pa.array(cols[1], pa.string()) if n else None)
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def _period(path: Path, line: int, text: str) -> tuple[str, str]:
    t = text.strip()
    if re.fullmatch(r"\d{4}", t):
        return t, "A"
    m = re.fullmatch(r"([A-Za-z]+)\.?\s+(\d{4})", t)
    if m:
        name = m.group(1).lower()
        month = MONTHS.get(name) or next((v for k, v in MONTHS.items() if len(name) >= 3 and k.startswith(name)), None)
        if month:
            return f"{m.group(2)}-{month:02d}", "M"
    raise IngestError(path, line, f"bad period {text!r}: expected 'May 2025' or '2025'")


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]


