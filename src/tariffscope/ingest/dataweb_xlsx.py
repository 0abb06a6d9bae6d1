"""USITC DataWeb Excel downloads (``census/dataweb_imports_2024_selected_hts10_with_quantities.xlsx``).

One sheet per data type (``Customs Value``, ``First Unit of Quantity``, ``Second Unit of Quantity``,
``Dutiable Value``, ``Calculated Duties``, ``CIF Import Value``, ...) with columns ``Data Type,
Country, Year, HTS Number, Description, Quantity Description, <value>`` plus a ``Query Parameters``
sheet (trade flow, download date). Stored rows, one per (country, year, HTS10):

* value basis ``customs``: customs value, with the first unit of quantity (its unit from
  ``Quantity Description``) and the calculated duty;
* value basis ``dutiable`` and ``cif``: the dutiable value and the CIF import value.

Landed duty-paid value and charges/insurance/freight are derivable from these and not stored.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import TRADE_FLOWS, ParsedFile, default_source, make_table, map_column, sum_duplicates
from tariffscope.ingest.numbers import NumberFormatError, as_number, parse_number

KIND = "dataweb_xlsx"
TITLE = "USITC DataWeb trade data (Excel download)"
PUBLISHER = "US International Trade Commission (DataWeb)"
FLOWS = {"imports for consumption": ("imports", "consumption"), "general imports": ("imports", "general"),
         "total exports": ("exports", "total"), "domestic exports": ("exports", "domestic")}
USED = ("Customs Value", "First Unit of Quantity", "Calculated Duties", "Dutiable Value", "CIF Import Value")
HEAD = ["Data Type", "Country", "Year", "HTS Number", "Description", "Quantity Description"]


def _sheet(path: Path, ws) -> tuple[list, list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        raise IngestError(path, 1, f"sheet {ws.title!r} is empty")
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    if header[:6] != HEAD or len(header) < 7:
        raise IngestError(path, 1, f"wrong header in sheet {ws.title!r}: expected {HEAD} + value; found {header}")
    return header, rows[1:]


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    import openpyxl

    path = Path(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zipfile and openpyxl raise many unrelated types for damaged files
        raise IngestError(path, None, f"not a readable Excel file ({exc})") from None
    sheets = {ws.title: ws for ws in wb.worksheets}
    params = {}
    if "Query Parameters" in sheets:
        for r in sheets["Query Parameters"].iter_rows(values_only=True):
            if r and r[0]:
                params[str(r[0]).strip()] = r[1]
    flow_text = str(params.get("Trade Flow", "")).strip().lower()
    if flow_text not in FLOWS:
        raise IngestError(path, None, f"sheet 'Query Parameters': unknown or missing Trade Flow {params.get('Trade Flow')!r}")
    flow, regime = FLOWS[flow_text]
    d = params.get("Download Date")
    if vintage is None and d is not None:
        vintage = f"USITC DataWeb download of {d.date().isoformat() if isinstance(d, dt.datetime) else d}"
    if "Customs Value" not in sheets:
        raise IngestError(path, None, "no 'Customs Value' sheet")
    data: dict[str, dict[tuple, tuple]] = {}
    for name, ws in sheets.items():
        if name not in USED:
            continue
        header, rows = _sheet(path, ws)
        vals: dict[tuple[str, str, str], tuple[float, object, int]] = {}  # key -> (value, unit text, line)
        for i, r in enumerate(rows, start=2):
            if all(v is None for v in r):
                continue
            if str(r[0] or "").strip().lower().startswith("total"):
                # the total row: check it against the rows, then skip it
                try:
                    declared = parse_number(str(r[6])) or 0.0
                except NumberFormatError:
                    raise IngestError(path, i, f"sheet {name!r}: bad number {r[6]!r} in the total row") from None
                got = sum(v[0] for v in vals.values())
                if abs(declared - got) > 1.0 + 1e-9 * abs(declared):
                    raise IngestError(path, i, f"sheet {name!r}: total row is {declared:,.0f} but the rows sum to {got:,.0f}")
                continue
            country, year, hts, qdesc, v = r[1], r[2], str(r[3] or "").strip(), r[5], r[6]
            if not (hts.isdigit() and len(hts) in (2, 4, 6, 8, 10)):
                raise IngestError(path, i, f"sheet {name!r}: bad HTS Number {r[3]!r}")
            if not isinstance(year, int):
                raise IngestError(path, i, f"sheet {name!r}: bad Year {year!r}")
            try:  # values and quantities alike: finite and never negative
                v = as_number(r[6], minimum=0)
            except NumberFormatError as exc:
                raise IngestError(path, i, f"sheet {name!r}: bad number {r[6]!r} ({exc.reason})") from None
            key = (str(country), str(year), hts)
            if key in vals:  # a second row would silently overwrite the first
                raise IngestError(path, i, f"sheet {name!r}: duplicate row: line {i} repeats the key of line {vals[key][2]} "
                                           f"({country}, {year}, HTS {hts}); remove the extra row")
            vals[key] = (v, qdesc, i)
        data[name] = vals
    customs = data["Customs Value"]
    qty = data.get("First Unit of Quantity", {})
    duty = data.get("Calculated Duties", {})
    recs = []
    for key, (v, _qdesc, line) in customs.items():
        q = qty.get(key)
        unit = str(q[1]).strip() if q and q[1] else None
        recs.append((key, "customs", v, q[0] if q else None, unit, duty[key][0] if key in duty else None, line))
    for sheet, basis in (("Dutiable Value", "dutiable"), ("CIF Import Value", "cif")):
        for key, (v, _q, line) in data.get(sheet, {}).items():
            recs.append((key, basis, v, None, None, None, line))
    if not recs:
        raise IngestError(path, None, "no data rows")
    countries = pa.array([r[0][0] for r in recs], pa.string())
    partner = map_column(path, countries, "name", 2)
    codes = [r[0][2] for r in recs]
    flows = make_table(TRADE_FLOWS, len(recs), dict(
        reporter="USA", partner=partner, flow=flow, trade_regime=regime, period=pa.array([r[0][1] for r in recs]),
        frequency="A", classification="HS", product_code=pa.array(codes), product_level=pa.array([len(c) for c in codes], pa.int32()),
        value=pa.array([r[2] for r in recs], pa.float64()), quantity=pa.array([r[3] for r in recs], pa.float64()),
        quantity_unit=pa.array([r[4] for r in recs], pa.string()), calculated_duty=pa.array([r[5] for r in recs], pa.float64()),
        value_basis=pa.array([r[1] for r in recs]), currency="USD", source=source or default_source(KIND, path), vintage=vintage))
    notes = ["landed duty-paid value and charges/insurance/freight not stored (derivable)"]
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
