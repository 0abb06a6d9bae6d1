"""Monthly country totals as JSON lines (``census/japan_monthly_totals_2024_2025.jsonl``).

Each line is ``{"source_path": ".../trade_by_country/2024.json" | ".../duties_by_country/2024.json",
"commit": ..., "row": {...}}``:

* ``trade_by_country`` rows: ``exports`` / ``imports`` (12 monthly values, USD millions, Census basis,
  not seasonally adjusted; exports are total exports f.a.s., imports general imports, customs value)
  plus ``exports_year`` / ``imports_year``;
* ``duties_by_country`` rows: ``duties`` (calculated duty, USD) and ``import_value`` (imports for
  consumption, customs value, USD) by month, plus ``*_year``.

Every row is checked: 12 finite, non-negative months summing to the year field. Two rows for the
same country and year (even a line repeated verbatim) are an error naming both lines: a repeat
usually means two extracts were joined, and which copy is right is for the user to say. The file
must end with a line end (a last line cut short is refused).
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import TRADE_FLOWS, ParsedFile, default_source, iso3_for, make_table, read_text
from tariffscope.ingest.numbers import NumberFormatError, as_number

KIND = "census_monthly_jsonl"
TITLE = "Census monthly goods trade and calculated duties by country (JSON lines)"
PUBLISHER = "US Census Bureau (country trade series; international trade API imports/hs)"


def _months(path: Path, line: int, row: dict, key: str, year_key: str, tol: float) -> list[float]:
    vals = row.get(key)
    if not isinstance(vals, list) or len(vals) != 12:
        raise IngestError(path, line, f"{key!r} must be a list of 12 monthly values")
    for v in vals + ([row[year_key]] if row.get(year_key) is not None else []):
        try:
            as_number(v, minimum=0)
        except NumberFormatError as exc:
            raise IngestError(path, line, f"bad number {v!r} in {key!r} ({exc.reason})") from None
    total = row.get(year_key)
    if isinstance(total, (int, float)) and abs(sum(vals) - total) > tol:
        raise IngestError(path, line, f"{key!r} months sum to {sum(vals):,.1f} but {year_key!r} is {total:,.1f}")
    return [float(v) for v in vals]


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    recs: list[dict] = []
    seen: dict[tuple, tuple[int, str]] = {}
    notes: list[str] = []
    for ln, text in enumerate(read_text(path, whole_lines=True).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(path, ln, f"not valid JSON ({exc.msg})") from None
        row, sp = obj.get("row") if isinstance(obj, dict) else None, str(obj.get("source_path", "")) if isinstance(obj, dict) else ""
        if not isinstance(row, dict) or "country_code" not in row or "year" not in row:
            raise IngestError(path, ln, "wrong header: expected {'source_path', 'row': {'country_code', 'year', ...}}")
        kind = "trade" if "trade_by_country" in sp or "exports" in row else "duties" if "duties_by_country" in sp or "duties" in row else None
        if kind is None:
            raise IngestError(path, ln, f"unknown row type (source_path {sp!r})")
        key = (kind, row["country_code"], row["year"])
        canon = json.dumps(row, sort_keys=True)
        if key in seen:
            how = "repeats it verbatim" if seen[key][1] == canon else "has different figures"
            raise IngestError(path, ln, f"duplicate row: line {ln} is a second {kind} row for {row['country_code']} {row['year']} "
                                        f"(first at line {seen[key][0]}; it {how}); keep one of them")
        seen[key] = (ln, canon)
        year = row["year"]
        if not isinstance(year, int) or not 1900 < year < 2100:
            raise IngestError(path, ln, f"bad year {year!r}")
        partner = iso3_for(path, [str(row["country_code"])], "name", {str(row["country_code"]): ln})[str(row["country_code"])]
        if kind == "trade":
            # USD millions with one decimal: the months may differ from the year by rounding (0.1 per month).
            for flow, regime, basis, k in (("exports", "total", "fas", "exports"), ("imports", "general", "customs", "imports")):
                vals = _months(path, ln, row, k, f"{k}_year", 0.6)
                for m, v in enumerate(vals, 1):
                    recs.append(dict(partner=partner, flow=flow, trade_regime=regime, period=f"{year}-{m:02d}", value=round(v * 1e6), calculated_duty=None, value_basis=basis))
        else:
            duty = _months(path, ln, row, "duties", "duties_year", 1.0)
            value = _months(path, ln, row, "import_value", "import_value_year", 1.0)
            for m, (d, v) in enumerate(zip(duty, value, strict=False), 1):
                recs.append(dict(partner=partner, flow="imports", trade_regime="consumption", period=f"{year}-{m:02d}", value=v, calculated_duty=d, value_basis="customs"))
    if not recs:
        raise IngestError(path, 1, "no rows")
    cols = {k: pa.array([r[k] for r in recs]) for k in recs[0]}
    flows = make_table(
        TRADE_FLOWS, len(recs),
        dict(cols, reporter="USA", frequency="M", classification="TOTAL", product_code="TOTAL", product_level=0,
             currency="USD", source=source or default_source(KIND, path), vintage=vintage),
    )
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
