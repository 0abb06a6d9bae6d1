"""UN Comtrade extracts, CSV or JSON (US imports of HS 8703/8704 in ``autos/``, or API downloads).

CSV shapes understood (one header each, a UTF-8 BOM allowed):

* API-style: ``refYear, reporterCode, partnerCode, cmdCode, cifvalue|primaryValue|fobvalue, qty,
  qtyUnitAbbr, netWgt`` (codes are UN M49; 842 = USA, 0 = World);
* ISO-style: ``refYear, partnerISO, partnerDesc, cmdCode, import_value_usd, quantity, net_weight_kg,
  unit_price_usd`` (reporter USA, imports);
* world totals: ``refYear, import_value_usd, quantity, net_weight_kg, ...`` (partner WLD). Such a
  file does not say which commodity it covers: pass ``cmd_code=`` or it is refused.

JSON: the Comtrade API response ``{"data": [{"refYear", "reporterCode", "partnerCode", "flowCode",
"cmdCode", "primaryValue"|"cifvalue", "qty", "qtyUnitAbbr", ...}]}``.

Quantities are kept in their unit (``u`` -> ``units``); net weight is not stored (one quantity per row).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from tariffscope.errors import IngestError
from tariffscope.ingest.common import (
    TRADE_FLOWS,
    ParsedFile,
    default_source,
    iso3_for,
    make_table,
    map_column,
    numbers,
    read_text,
    refuse_duplicates,
    sum_duplicates,
)

KIND = "comtrade"
TITLE = "UN Comtrade"
PUBLISHER = "United Nations Statistics Division (UN Comtrade)"
UNITS = {"u": "units", "kg": "kg", "": None, None: None}
VALUE_FIELDS = [("cifvalue", "cif"), ("primaryValue", "cif"), ("fobvalue", "fob"), ("import_value_usd", "cif")]
FLOWS = {"M": "imports", "X": "exports"}
# Comtrade reporter/partner codes that differ from UN M49 (territory-inclusive "USA", "France", ...).
COMTRADE_M49 = {"842": "840", "251": "250", "579": "578", "757": "756", "699": "356", "490": "158"}


def parse(path: str | Path, source: str | None = None, vintage: str | None = None, cmd_code: str | None = None) -> ParsedFile:
    path = Path(path)
    is_json = path.name.endswith((".json", ".json.gz"))
    text = read_text(path, whole_lines=not is_json)  # JSON is checked whole by its parser
    if is_json:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
        data = doc.get("data") if isinstance(doc, dict) else doc
        if not isinstance(data, list):
            raise IngestError(path, 1, "wrong header: expected {'data': [...]} as the Comtrade API returns")
        records = [{k: ("" if v is None else str(v)) for k, v in d.items()} for d in data]
        first = 1
        header = list(records[0].keys()) if records else []
        lines = list(range(1, len(records) + 1))
    else:
        reader = csv.reader(io.StringIO(text))
        rows = list(reader)
        if not rows:
            raise IngestError(path, 1, "empty file")
        header = [h.strip() for h in rows[0]]
        for i, r in enumerate(rows[1:], start=2):
            if len(r) != len(header):
                raise IngestError(path, i, f"row has {len(r)} fields, header has {len(header)}")
        records = [dict(zip(header, r, strict=False)) for r in rows[1:]]
        first = 2
        lines = list(range(2, len(records) + 2))
    vf = next(((f, b) for f, b in VALUE_FIELDS if f in header), None)
    if "refYear" not in header or vf is None:
        raise IngestError(path, 1, f"wrong header: need refYear and a value column ({[f for f, _ in VALUE_FIELDS]}); found {header}")
    n = len(records)

    def col(k: str) -> pa.Array:
        return pa.array([r.get(k, "") for r in records], pa.string())

    years = col("refYear")
    for i, y in enumerate(years.to_pylist()):
        if not (y.isdigit() and len(y) == 4):
            raise IngestError(path, lines[i], f"bad refYear {y!r}")
    if "partnerCode" in header:
        source_partner = pa.array([COMTRADE_M49.get(r["partnerCode"], r["partnerCode"]) for r in records], pa.string())
        partner = map_column(path, source_partner, "m49", first)
    elif "partnerISO" in header:
        source_partner = col("partnerISO")
        partner = map_column(path, source_partner, "name", first)
    else:
        partner = source_partner = pa.array(["WLD"] * n, pa.string())
    if "reporterCode" in header:
        reps = set(col("reporterCode").to_pylist())
        rmap = iso3_for(path, [COMTRADE_M49.get(r, r) for r in reps], "m49")
        reporter = pa.array([rmap[COMTRADE_M49.get(r["reporterCode"], r["reporterCode"])] for r in records], pa.string())
    else:
        reporter = "USA"
    flow = "imports"
    if "flowCode" in header:
        bad = [i for i, r in enumerate(records) if r["flowCode"] not in FLOWS]
        if bad:
            raise IngestError(path, lines[bad[0]], f"unknown flowCode {records[bad[0]]['flowCode']!r}")
        flow = pa.array([FLOWS[r["flowCode"]] for r in records], pa.string())
    if "cmdCode" in header:
        codes = col("cmdCode")
        for i, c in enumerate(codes.to_pylist()):
            if not (c.isdigit() and len(c) in (2, 4, 6)) and c != "TOTAL":
                raise IngestError(path, lines[i], f"bad cmdCode {c!r}")
    elif cmd_code:
        codes = pa.array([cmd_code] * n, pa.string())
    else:
        raise IngestError(path, 1, "no cmdCode column: say which HS code the values are for (cmd_code=...)")
    value = numbers(path, col(vf[0]), vf[0], first, minimum=0)
    if value.null_count:  # the warehouse needs a value on every row: a blank one is not zero
        raise IngestError(path, lines[pc.index(pc.is_null(value), True).as_py()], f"missing value in {vf[0]!r}")
    qcol = "qty" if "qty" in header else "quantity" if "quantity" in header else None
    qty = numbers(path, col(qcol), qcol, first, minimum=0) if qcol else None
    if "qtyUnitAbbr" in header:
        unit = pa.array([UNITS.get(r["qtyUnitAbbr"], r["qtyUnitAbbr"]) for r in records], pa.string())
    else:
        unit = "units" if qty is not None else None
    level = pa.array([0 if c == "TOTAL" else len(c) for c in codes.to_pylist()], pa.int32())
    flows = make_table(
        TRADE_FLOWS, n,
        dict(
            reporter=reporter, partner=partner, flow=flow, trade_regime="general", period=years, frequency="A",
            classification=pa.array(["TOTAL" if c == "TOTAL" else "HS" for c in codes.to_pylist()]), product_code=codes,
            product_level=level, value=value, quantity=qty, quantity_unit=unit, value_basis=vf[1], currency="USD",
            source=source or default_source(KIND, path), vintage=vintage,
        ),
    )
    notes: list[str] = []
    refuse_duplicates(path, flows, lines, source_partner)
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
