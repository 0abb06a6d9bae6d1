"""FRED exchange-rate series as CSV (``observation_date,SERIES``), e.g. DEXJPUS (daily) and EXJPUS (monthly).

Blank values and FRED's '.' mark days without a fixing (holidays) and are skipped (counted in the
notes), as are blank lines. Rates are stored as quote currency per one unit of base currency, in the
publisher's direction: DEXJPUS is yen per US dollar (base USD, quote JPY); DEXUSEU is dollars per
euro (base EUR, quote USD). Daily series start with ``DEX``; monthly averages with ``EX``; monthly
dates must be the first of the month.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import EXCHANGE_RATES, ParsedFile, default_source, make_table, read_text
from tariffscope.ingest.numbers import NOT_A_NUMBER, NumberFormatError, parse_number

KIND = "fred_csv"
PUBLISHER = "Board of Governors of the Federal Reserve System (H.10), via FRED"
# series suffix -> (base, quote)
PAIRS = {
    "JPUS": ("USD", "JPY"), "CAUS": ("USD", "CAD"), "CHUS": ("USD", "CNY"), "MXUS": ("USD", "MXN"),
    "KOUS": ("USD", "KRW"), "SZUS": ("USD", "CHF"), "INUS": ("USD", "INR"), "TAUS": ("USD", "TWD"),
    "USEU": ("EUR", "USD"), "USUK": ("GBP", "USD"), "USAL": ("AUD", "USD"),
}


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    path = Path(path)
    rows = list(csv.reader(io.StringIO(read_text(path, whole_lines=True))))
    if not rows or len(rows[0]) != 2 or rows[0][0].strip().lower() not in ("observation_date", "date"):
        found = rows[0] if rows else []
        raise IngestError(path, 1, f"wrong header: expected 'observation_date,<SERIES>', found {found}")
    series = rows[0][1].strip()
    if series.startswith("DEX"):
        freq, pair = "D", series[3:]
    elif series.startswith("EX"):
        freq, pair = "M", series[2:]
    else:
        raise IngestError(path, 1, f"wrong header: {series!r} is not a FRED exchange-rate series "
                                   "(DEXxxxx daily, EXxxxx monthly)")
    if pair not in PAIRS:
        raise IngestError(path, 1, f"unknown currency pair in series {series!r}; known: {sorted(PAIRS)}")
    base, quote = PAIRS[pair]
    dates, rates, blanks = [], [], 0
    prev = None
    for ln, r in enumerate(rows[1:], start=2):
        if not r or all(not x.strip() for x in r):
            continue
        if len(r) != 2:
            raise IngestError(path, ln, f"row has {len(r)} fields, expected 2")
        try:
            d = dt.date.fromisoformat(r[0].strip())
        except ValueError:
            raise IngestError(path, ln, f"bad date {r[0]!r}") from None
        if freq == "M" and d.day != 1:
            raise IngestError(path, ln, f"monthly series {series} has a date that is not the 1st: {d}")
        if prev is not None and d <= prev:
            raise IngestError(path, ln, f"dates out of order or repeated: {d} after {prev}")
        prev = d
        try:
            v = parse_number(r[1], blank=(".",))
        except NumberFormatError as exc:
            why = "" if exc.reason == NOT_A_NUMBER else f" ({exc.reason})"
            raise IngestError(path, ln, f"bad number {r[1]!r} in column {series!r}{why}") from None
        if v is None:
            blanks += 1
            continue
        if v <= 0:
            raise IngestError(path, ln, f"exchange rate must be positive, found {v}")
        dates.append(d)
        rates.append(v)
    if not dates:
        raise IngestError(path, len(rows), "no observations")
    src = source or default_source(KIND, path)
    if vintage is None:
        vintage = f"FRED {series}, observations through {dates[-1]}"
    table = make_table(EXCHANGE_RATES, len(dates), dict(
        base_currency=base, quote_currency=quote, date=pa.array(dates, pa.date32()), frequency=freq,
        rate=pa.array(rates, pa.float64()), source=src, vintage=vintage))
    notes = [f"skipped {blanks} blank observations (holidays)"] if blanks else []
    title = f"FRED {series}: {quote} per {base}, {'daily noon buying rates' if freq == 'D' else 'monthly average'}"
    return ParsedFile(KIND, path, {"exchange_rates": table}, src, title, PUBLISHER, vintage, notes)


def read(path: str | Path) -> pa.Table:
    return parse(path).tables["exchange_rates"]
