"""Census "trade in goods with <country>" page tables saved as Markdown (``census/census_japan_page_scrapes/*.md``).

Two layouts, as scraped from https://www.census.gov/foreign-trade/balance/c5880.html:

* ``## Annual Summary``: ``| Year | Total Export (M USD) | Total Import (M USD) | Balance (M USD) |``
* ``## Monthly Trade Balance``: ``| Year | Month | Export (M USD) | Import (M USD) | Balance (M USD) | Type |``

Exports are total exports (f.a.s.), imports general imports (customs value), USD millions, not
seasonally adjusted (the country series). The page is revised in place, so the vintage is the
``Fetched`` timestamp in the header: two scrapes of one page are two vintages of the same series.
Each row's balance is checked against export - import (to 0.2 mn, the rounding of the page).
"""
from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import TRADE_FLOWS, ParsedFile, default_source, iso3_for, make_table, read_text
from tariffscope.ingest.numbers import NOT_A_NUMBER, NumberFormatError, parse_number

KIND = "census_page_md"
TITLE = "Census trade in goods with a country (balance page tables)"
PUBLISHER = "US Census Bureau (foreign-trade/balance country pages)"
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
ANNUAL = ["Year", "Total Export (M USD)", "Total Import (M USD)", "Balance (M USD)"]
MONTHLY = ["Year", "Month", "Export (M USD)", "Import (M USD)", "Balance (M USD)", "Type"]


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    lines = read_text(path, whole_lines=True).splitlines()
    partner_code = fetched = None
    for ln in lines[:20]:
        m = re.search(r"\*\*Partner\*\*:\s*.*\((\d{4})\)", ln)
        partner_code = m.group(1) if m else partner_code
        m = re.search(r"\*\*Fetched\*\*:\s*(\S+)", ln)
        fetched = m.group(1) if m else fetched
    if partner_code is None:
        raise IngestError(path, 1, "wrong header: no '**Partner**: <name> (<Census code>)' line")
    partner = iso3_for(path, [partner_code], "census")[partner_code]
    if vintage is None:
        vintage = f"census.gov balance page fetched {fetched}" if fetched else None
    recs = []
    header = None
    seen: dict[str, int] = {}
    for i, ln in enumerate(lines, start=1):
        if not ln.startswith("|"):
            header = None if not ln.strip() else header
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if header is None:
            if cells not in (ANNUAL, MONTHLY):
                raise IngestError(path, i, f"wrong header: expected {ANNUAL} or {MONTHLY}, found {cells}")
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue  # the |---|---| rule
        if len(cells) != len(header):
            raise IngestError(path, i, f"row has {len(cells)} cells, header has {len(header)}")
        year = cells[0]
        if not re.fullmatch(r"\d{4}", year):
            raise IngestError(path, i, f"bad year {year!r}")
        if header is MONTHLY or header == MONTHLY:
            month = cells[1].lower()
            if month not in MONTHS:
                raise IngestError(path, i, f"bad month {cells[1]!r}")
            period, freq, nums = f"{year}-{MONTHS.index(month) + 1:02d}", "M", cells[2:5]
        else:
            period, freq, nums = year, "A", cells[1:4]
        try:
            exp, imp, bal = (parse_number(x) for x in nums)
        except NumberFormatError as exc:
            why = "" if exc.reason == NOT_A_NUMBER else f" ({exc.reason})"
            raise IngestError(path, i, f"bad number {exc.text!r}{why}") from None
        if exp is None or imp is None or bal is None:
            raise IngestError(path, i, "missing value")
        if exp < 0 or imp < 0:
            raise IngestError(path, i, f"negative export or import ({exp}, {imp}): trade values are never negative")
        if period in seen:  # stored twice, a month would count double in every sum
            raise IngestError(path, i, f"duplicate row: line {i} repeats period {period} of line {seen[period]}; remove one of them")
        seen[period] = i
        if abs((exp - imp) - bal) > 0.2:
            raise IngestError(path, i, f"balance {bal} is not export - import ({exp} - {imp})")
        recs += [("exports", "total", "fas", period, freq, exp), ("imports", "general", "customs", period, freq, imp)]
    if not recs:
        raise IngestError(path, len(lines), "no table rows found")
    cols = list(zip(*recs, strict=False))
    flows = make_table(TRADE_FLOWS, len(recs), dict(
        reporter="USA", partner=partner, flow=pa.array(cols[0]), trade_regime=pa.array(cols[1]), value_basis=pa.array(cols[2]),
        period=pa.array(cols[3]), frequency=pa.array(cols[4]), value=pa.array([round(v * 1e6) for v in cols[5]], pa.float64()),
        classification="TOTAL", product_code="TOTAL", product_level=0, currency="USD",
        source=source or default_source(KIND, path), vintage=vintage))
    return ParsedFile(KIND, path, {"trade_flows": flows}, source or default_source(KIND, path), TITLE, PUBLISHER, vintage,
                      ["USD millions on the page (x 1e6 here); the page is revised in place: the vintage is the fetch time"])


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["trade_flows"]
