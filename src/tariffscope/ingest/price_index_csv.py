"""A user's price index CSV: monthly prices of one origin's product, for calibrating exporter absorption.

Layout (one header line, then one row per month and series)::

    period,origin,product,index,basis[,currency]
    2024-05,JPN,8703,100.0,exporter,JPY

``period`` is a month (YYYY-MM); ``origin`` a country (ISO3, name or code tariffscope knows); ``product``
the HS prefix the index covers (2-10 digits); ``index`` a positive number (any base: only changes are
used); ``basis`` ``exporter`` (the exporter's price before US duty: FOB or customs value, e.g. a national
export price index) or ``importer`` (the duty-paid price in the US). ``currency`` (optional, default USD)
is the currency the index is expressed in; a non-dollar index is converted with the warehouse's monthly
exchange rates when it is used.

The file is read whole or not at all: every problem (wrong header, bad month, unknown origin, an index
that is not a finite positive number, two rows for one (origin, product, basis, period), a file cut short)
is an ``IngestError`` naming the file and line, and nothing is returned or written. ``parse`` gives the
``price_indices`` table for ``tariffscope data ingest`` (one transaction, with the file's source and
vintage); ``read`` gives the rows for ``tariffscope calibrate pass-through --prices FILE`` without storing them.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from tariffscope.errors import IngestError
from tariffscope.ingest.common import PRICE_INDICES, ParsedFile, default_source, iso3_for, make_table, read_text
from tariffscope.ingest.numbers import NOT_A_NUMBER, NumberFormatError, parse_number

KIND = "price_index_csv"
TITLE = "Price indices by origin x product (user file)"
PUBLISHER = "user supplied"
COLUMNS = ("period", "origin", "product", "index", "basis")
OPTIONAL = ("currency",)
BASES = ("exporter", "importer")


@dataclass(frozen=True)
class PriceRow:
    period: str      # YYYY-MM
    origin: str      # ISO3
    product: str     # HS prefix, digits
    index: float     # > 0
    basis: str       # exporter | importer
    currency: str    # ISO 4217, upper case
    line: int        # line in the file, for messages


@dataclass
class PriceIndexFile:
    """The validated rows of one price index file (or of one warehouse source)."""

    path: str
    rows: list[PriceRow] = field(default_factory=list)
    source: str | None = None    # the warehouse source id, when read from the warehouse
    vintage: str | None = None

    def series(self, origin: str, product: str, basis: str | None = None) -> list[PriceRow]:
        """Rows of one origin x product (and basis, when given), in period order."""
        return sorted((r for r in self.rows if r.origin == origin and r.product == product
                       and (basis is None or r.basis == basis)), key=lambda r: r.period)

    def keys(self) -> list[str]:
        """The series the file holds, as 'ORIGIN PRODUCT basis'."""
        return sorted({f"{r.origin} {r.product} {r.basis}" for r in self.rows})


def _month(path: Path, line: int, text: str) -> str:
    t = text.strip()
    try:
        if len(t) != 7 or t[4] != "-":
            raise ValueError
        dt.date(int(t[:4]), int(t[5:7]), 1)
    except ValueError:
        raise IngestError(path, line, f"bad period {text!r}: a month YYYY-MM") from None
    return t


def parse(path: str | Path, source: str | None = None, vintage: str | None = None) -> ParsedFile:
    """The file as the warehouse's ``price_indices`` table (IngestError on the first problem, naming its line)."""
    path = Path(path)
    rows = read(path).rows
    src = source or default_source(KIND, path)
    table = make_table(PRICE_INDICES, len(rows), dict(
        period=pa.array([r.period for r in rows], pa.string()), origin=pa.array([r.origin for r in rows], pa.string()),
        product=pa.array([r.product for r in rows], pa.string()), basis=pa.array([r.basis for r in rows], pa.string()),
        currency=pa.array([r.currency for r in rows], pa.string()), index=pa.array([r.index for r in rows], pa.float64()),
        source=src, vintage=vintage))
    series = sorted({f"{r.origin} {r.product} {r.basis}" for r in rows})
    return ParsedFile(KIND, path, {"price_indices": table}, src, TITLE, PUBLISHER, vintage,
                      [f"series: {', '.join(series)}"])


def read(path: str | Path) -> PriceIndexFile:
    """Read and check the whole file (IngestError on the first problem, naming its line); nothing is stored."""
    path = Path(path)
    if not path.is_file():
        raise IngestError(path, None, "no such file")
    rows = list(csv.reader(io.StringIO(read_text(path, whole_lines=True))))
    if not rows or not any(x.strip() for x in rows[0]):
        raise IngestError(path, 1, f"empty file: expected the header {','.join(COLUMNS)}[,currency]")
    header = [h.strip().lower() for h in rows[0]]
    if tuple(header[:5]) != COLUMNS or any(h not in OPTIONAL for h in header[5:]) or len(set(header)) != len(header):
        raise IngestError(path, 1, f"wrong header: expected {','.join(COLUMNS)}[,currency]; found {','.join(rows[0])}")
    has_currency = "currency" in header
    parsed: list[tuple[int, list[str]]] = []
    origin_lines: dict[str, int] = {}
    for ln, r in enumerate(rows[1:], start=2):
        if not r or all(not x.strip() for x in r):
            continue
        if len(r) != len(header):
            raise IngestError(path, ln, f"row has {len(r)} fields, header has {len(header)}")
        parsed.append((ln, r))
        origin_lines.setdefault(r[1].strip(), ln)
    if not parsed:
        raise IngestError(path, len(rows), "no rows after the header")
    iso = iso3_for(path, list(origin_lines), "name", origin_lines)
    out: list[PriceRow] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for ln, r in parsed:
        cell = dict(zip(header, r, strict=True))  # lengths checked above
        period = _month(path, ln, cell["period"])
        origin = iso[r[1].strip()]
        product = cell["product"].strip().replace(".", "")
        if not (product.isdigit() and 2 <= len(product) <= 10):
            raise IngestError(path, ln, f"bad product {cell['product']!r}: an HS prefix of 2 to 10 digits")
        try:
            value = parse_number(cell["index"])
        except NumberFormatError as exc:
            why = "" if exc.reason == NOT_A_NUMBER else f" ({exc.reason})"
            raise IngestError(path, ln, f"bad number {cell['index']!r} in column 'index'{why}") from None
        if value is None:
            raise IngestError(path, ln, "the index is blank: every row needs a value")
        if not value > 0:  # log changes of the index are used: zero or negative has none
            raise IngestError(path, ln, f"index is {value:g}: a price index must be above 0")
        basis = cell["basis"].strip().lower()
        if basis not in BASES:
            raise IngestError(path, ln, f"bad basis {cell['basis']!r}: 'exporter' (pre-duty, e.g. FOB) or 'importer' (duty-paid)")
        currency = (cell.get("currency") or "").strip().upper() if has_currency else ""
        currency = currency or "USD"
        if not (len(currency) == 3 and currency.isalpha()):
            raise IngestError(path, ln, f"bad currency {cell['currency']!r}: a three-letter code (USD, JPY, ...)")
        key = (origin, product, basis, period)
        if key in seen:  # two values for one month: which one is the price is not ours to guess
            raise IngestError(path, ln, f"duplicate row: {origin} {product} {basis} {period} is also on line {seen[key]}; "
                                        "remove one of them")
        seen[key] = ln
        out.append(PriceRow(period, origin, product, float(value), basis, currency, ln))
    currencies: dict[tuple[str, str, str], set[str]] = {}
    for p in out:
        currencies.setdefault((p.origin, p.product, p.basis), set()).add(p.currency)
    for (o, pr, b), cur in currencies.items():
        if len(cur) > 1:  # one index series is in one currency, or its changes mix in exchange-rate moves
            raise IngestError(path, None, f"series {o} {pr} {b} mixes currencies {sorted(cur)}: one series, one currency")
    return PriceIndexFile(str(path), out)
