"""Reshaped USA Trade Online monthly values (``census/imports_hs{2,4}_ch84_85_87_monthly.json``).

``{"datasets": [{"id", "country", "valueLabel", "actualGranularity", "periods", "commodities",
"rows": [{"periodKey": "2024-01", "hs4_8703": 2516729672, ...}]}]}``: one dataset per partner and
granularity, one column per HS code. We read the monthly datasets (general imports, customs value);
each yearly dataset must equal the sum of its months (checked) and is not stored twice. Derived
partner groups ("Europe (without UK)", i.e. Europe minus the UK) are not stored: they are a
difference of two stored series.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import (
    TRADE_FLOWS,
    ParsedFile,
    default_source,
    make_table,
    map_column,
    read_text,
    sum_duplicates,
)
from tariffscope.ingest.numbers import NumberFormatError, as_number

KIND = "usato_json"
TITLE = "USA Trade Online monthly imports by HS code (reshaped JSON)"
PUBLISHER = "US Census Bureau (USA Trade Online)"
VALUE_LABELS = {"Customs Value (Gen) ($US)": ("imports", "general", "customs"),
                "Customs Value (Cons) ($US)": ("imports", "consumption", "customs")}


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    try:
        doc = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise IngestError(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("datasets"), list):
        raise IngestError(path, 1, "wrong header: expected an object with a 'datasets' list")
    cols: dict[str, list] = {k: [] for k in ("partner", "period", "code", "value", "flow", "regime", "basis")}
    monthly_sums: dict[tuple[str, str, str], float] = {}
    yearly: list[tuple[int, dict]] = []
    notes: list[str] = []
    skipped = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for di, ds in enumerate(doc["datasets"]):
        where = f"datasets[{di}]"
        for key in ("country", "valueLabel", "actualGranularity", "rows"):
            if key not in ds:
                raise IngestError(path, di + 1, f"wrong header: {where} has no {key!r}")
        if ds["valueLabel"] not in VALUE_LABELS:
            raise IngestError(path, di + 1, f"{where}: unknown valueLabel {ds['valueLabel']!r}")
        if "without" in ds["country"].lower():
            skipped.append(ds["country"])
            continue
        gran = ds["actualGranularity"]
        if gran == "yearly":
            yearly.append((di, ds))
            continue
        if gran != "monthly":
            raise IngestError(path, di + 1, f"{where}: unknown granularity {gran!r}")
        flow, regime, basis = VALUE_LABELS[ds["valueLabel"]]
        for ri, row in enumerate(ds["rows"]):
            period = row.get("periodKey")
            if not isinstance(period, str) or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period):
                raise IngestError(path, di + 1, f"{where}.rows[{ri}]: bad periodKey {period!r}")
            for k, v in row.items():
                m = re.fullmatch(r"hs\d+_(\d+)", k)
                if not m:
                    continue
                try:
                    v = as_number(v, minimum=0)
                except NumberFormatError as exc:
                    raise IngestError(path, di + 1, f"{where}.rows[{ri}].{k}: bad number {row[k]!r} ({exc.reason})") from None
                cell = (ds["country"], period, m.group(1), ds["valueLabel"])
                if cell in seen:  # the same partner, month and code twice: never summed or stored twice
                    raise IngestError(path, di + 1, f"duplicate value: {where}.rows[{ri}].{k} repeats {seen[cell]} "
                                                    f"({ds['country']}, {period}, HS {m.group(1)}); remove one of them")
                seen[cell] = f"{where}.rows[{ri}].{k}"
                cols["partner"].append(ds["country"])
                cols["period"].append(period)
                cols["code"].append(m.group(1))
                cols["value"].append(v)
                cols["flow"].append(flow)
                cols["regime"].append(regime)
                cols["basis"].append(basis)
                s = (ds["country"], period[:4], m.group(1))
                monthly_sums[s] = monthly_sums.get(s, 0.0) + float(v)
    for di, ds in yearly:  # the yearly datasets are sums of the monthly ones: check, don't store
        for ri, row in enumerate(ds["rows"]):
            year = str(row.get("periodKey", ""))[:4]
            for k, v in row.items():
                m = re.fullmatch(r"hs\d+_(\d+)", k)
                if m and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
                    raise IngestError(path, di + 1, f"datasets[{di}].rows[{ri}].{k}: bad number {v!r}")
                if m and abs(monthly_sums.get((ds["country"], year, m.group(1)), 0.0) - float(v)) > 0.5:
                    raise IngestError(path, di + 1, f"datasets[{di}] ({ds['country']} {year} {k}) = {v} but its months sum to {monthly_sums.get((ds['country'], year, m.group(1)), 0.0):.0f}")
    if skipped:
        notes.append(f"not stored (derived groups): {sorted(set(skipped))}")
    if yearly:
        notes.append(f"checked {len(yearly)} yearly datasets against the sum of their months")
    n = len(cols["value"])
    codes = pa.array(cols["code"], pa.string())
    flows = make_table(
        TRADE_FLOWS, n,
        dict(
            reporter="USA", partner=map_column(path, pa.array(cols["partner"], pa.string()), "name", 1),
            flow=pa.array(cols["flow"]), trade_regime=pa.array(cols["regime"]), period=pa.array(cols["period"]),
            frequency="M", classification="HS", product_code=codes,
            product_level=pa.array([len(c) for c in cols["code"]], pa.int32()), value=pa.array(cols["value"], pa.float64()),
            value_basis=pa.array(cols["basis"]), currency="USD", source=source or default_source(KIND, path), vintage=vintage,
        ),
    )
    flows = sum_duplicates(flows, notes)
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
