"""Japan Ministry of Finance (Customs) trade statistics CSV: monthly, by 9-digit HS code and country.

Not yet met on a real file (none is reachable from here): written from the published layout and
tested on small files the tests write. Layout: one row per (year, HS 9-digit code, partner) with
``Year, HS, Country, Unit1, Unit2, Quantity1-Jan .. Quantity1-Dec, Quantity2-Jan .. Quantity2-Dec,
Value-Jan .. Value-Dec``; some downloads add a leading ``Exp or Imp`` column (1/Exp = exports,
2/Imp = imports) and year-total columns (``Quantity1-Year``, ``Value-Year``, checked against the
months and not stored). ``Country`` is the Japan Customs country code (USA = 304). Values are in
thousands of yen; we store yen (x 1000). Exports are valued FOB, imports CIF (Japan's practice).
Quantity 1 is stored with Unit1; Quantity 2 only when Unit1 is empty. Months with no value and no
quantity (blank or 0 in both) are not stored.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import TRADE_FLOWS, ParsedFile, default_source, iso3_for, make_table, read_text
from tariffscope.ingest.numbers import NOT_A_NUMBER, NumberFormatError, parse_number

KIND = "japan_customs_csv"
TITLE = "Japan trade statistics (Ministry of Finance, Customs), by HS 9-digit code and country"
PUBLISHER = "Ministry of Finance Japan, Customs"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
BASE = ["Year", "HS", "Country", "Unit1", "Unit2"]
FLOW_CODES = {"1": "exports", "exp": "exports", "export": "exports", "exports": "exports",
              "2": "imports", "imp": "imports", "import": "imports", "imports": "imports"}


def _num(path: Path, line: int, text: str, col: str) -> float | None:
    try:
        v = parse_number(text)
    except NumberFormatError as exc:
        why = "" if exc.reason == NOT_A_NUMBER else f" ({exc.reason})"
        raise IngestError(path, line, f"bad number {text!r} in column {col!r}{why}") from None
    if v is not None and v < 0:  # values and quantities alike
        raise IngestError(path, line, f"{col!r} is {v:g}, below 0: trade values and quantities are never negative")
    return v


def parse(path: str | Path, source: str | None = None, vintage: str | None = None, flow: str | None = None) -> ParsedFile:
    path = Path(path)
    rows = list(csv.reader(io.StringIO(read_text(path, whole_lines=True))))
    if not rows:
        raise IngestError(path, 1, "empty file")
    header = [h.strip() for h in rows[0]]
    has_flow = bool(header) and header[0].lower().replace(" ", "") in ("exporimp", "exp/imp")
    body_header = header[1:] if has_flow else header
    expected = BASE + [f"Quantity1-{m}" for m in MONTHS] + [f"Quantity2-{m}" for m in MONTHS] + [f"Value-{m}" for m in MONTHS]
    extras = [h for h in body_header if h not in expected]
    if [h for h in body_header if h in expected] != expected or any(not h.endswith("-Year") for h in extras):
        raise IngestError(path, 1, f"wrong header: expected [Exp or Imp,] {BASE[:3]}..., Quantity1-Jan..Dec, Quantity2-Jan..Dec, Value-Jan..Dec [, *-Year]; found {header}")
    if not has_flow and flow not in ("exports", "imports"):
        raise IngestError(path, 1, "the file has no 'Exp or Imp' column: pass flow='exports' or 'imports'")
    idx = {h: i for i, h in enumerate(header)}
    recs: dict[str, list] = {k: [] for k in ("flow", "partner", "period", "code", "value", "qty", "unit")}
    partners_seen: dict[str, int] = {}
    rows_seen: dict[tuple[str, str, str, str], int] = {}
    parsed_rows = []
    for ln, r in enumerate(rows[1:], start=2):
        if not r or all(not x.strip() for x in r):
            continue
        if len(r) != len(header):
            raise IngestError(path, ln, f"row has {len(r)} fields, header has {len(header)}")
        cell = dict(zip(header, r, strict=True))  # lengths checked just above
        fl = FLOW_CODES.get(r[0].strip().lower()) if has_flow else flow
        if fl is None:
            raise IngestError(path, ln, f"bad 'Exp or Imp' value {r[0]!r}")
        year, hs, country = cell["Year"].strip(), cell["HS"].strip().replace(".", ""), cell["Country"].strip()
        if not (year.isdigit() and len(year) == 4):
            raise IngestError(path, ln, f"bad year {year!r}")
        if not (hs.isdigit() and len(hs) in (6, 9)):
            raise IngestError(path, ln, f"bad HS code {cell['HS'].strip()!r}: expected Japan's 9-digit statistical code")
        partners_seen.setdefault(country, ln)
        parsed_rows.append((ln, r, fl, year, hs, country))
    pmap = iso3_for(path, list(partners_seen), "japan_customs", partners_seen)
    for ln, r, fl, year, hs, country in parsed_rows:
        cell = dict(zip(header, r, strict=True))
        unit1, unit2 = cell["Unit1"].strip() or None, cell["Unit2"].strip() or None
        vals = [_num(path, ln, cell[f"Value-{m}"], f"Value-{m}") for m in MONTHS]
        q1 = [_num(path, ln, cell[f"Quantity1-{m}"], f"Quantity1-{m}") for m in MONTHS]
        q2 = [_num(path, ln, cell[f"Quantity2-{m}"], f"Quantity2-{m}") for m in MONTHS]
        if "Value-Year" in idx:
            total = _num(path, ln, cell["Value-Year"], "Value-Year")
            if total is not None and abs(total - sum(v or 0 for v in vals)) > 0.5:
                raise IngestError(path, ln, f"Value-Year is {total} but the months sum to {sum(v or 0 for v in vals)}")
        key = (fl, year, hs, country)
        if key in rows_seen:  # stored twice, every month would count double
            raise IngestError(path, ln, f"duplicate row: line {ln} repeats {fl} {year} HS {hs} country {country} of line "
                                        f"{rows_seen[key]}; remove one of them")
        rows_seen[key] = ln
        qty, unit = (q1, unit1) if unit1 else (q2, unit2)
        for m in range(12):
            if not vals[m] and not qty[m]:
                continue
            recs["flow"].append(fl)
            recs["partner"].append(pmap[country])
            recs["period"].append(f"{year}-{m + 1:02d}")
            recs["code"].append(hs)
            recs["value"].append((vals[m] or 0.0) * 1000.0)
            recs["qty"].append(qty[m] if unit else None)
            recs["unit"].append(unit)
    n = len(recs["value"])
    flows = pa.array(recs["flow"], pa.string())
    flows_t = make_table(TRADE_FLOWS, n, dict(
        reporter="JPN", partner=pa.array(recs["partner"], pa.string()), flow=flows,
        trade_regime=pa.array(["total" if f == "exports" else "general" for f in recs["flow"]], pa.string()),
        period=pa.array(recs["period"], pa.string()), frequency="M", classification="HS",
        product_code=pa.array(recs["code"], pa.string()), product_level=pa.array([len(c) for c in recs["code"]], pa.int32()),
        value=pa.array(recs["value"], pa.float64()), quantity=pa.array(recs["qty"], pa.float64()),
        quantity_unit=pa.array(recs["unit"], pa.string()),
        value_basis=pa.array(["fob" if f == "exports" else "cif" for f in recs["flow"]], pa.string()),
        currency="JPY", source=source or default_source(KIND, path), vintage=vintage,
    ))
    return ParsedFile(KIND, path, {"trade_flows": flows_t}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage,
                      ["adapter written from the published layout; not yet tested on a real download"])


def read(path: str | Path, flow: str | None = None) -> pa.Table:
    return parse(path, flow=flow).tables["trade_flows"]
