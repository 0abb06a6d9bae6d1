"""What every reader shares: the warehouse column layouts, the parsed-file record, strict helpers.

Readers turn one file into Arrow tables whose columns are exactly the warehouse tables' columns
(``trade_flows``, ``exchange_rates``, ``price_indices``, ``hts_lines``, ``chapter99_lines``, ``hts_revisions``), so the
ingest step is a plain ``INSERT ... SELECT`` with no per-kind logic. Every problem becomes
``IngestError(path, line, reason)`` before anything is written.
"""
from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tariffscope.errors import IngestError, InputError
from tariffscope.ingest.numbers import NOT_A_NUMBER, NumberFormatError, first_below, parse_numbers

TRADE_FLOWS = pa.schema(
    [
        ("reporter", pa.string()),
        ("partner", pa.string()),
        ("flow", pa.string()),
        ("trade_regime", pa.string()),
        ("period", pa.string()),
        ("frequency", pa.string()),
        ("classification", pa.string()),
        ("product_code", pa.string()),
        ("product_level", pa.int32()),
        ("value", pa.float64()),
        ("quantity", pa.float64()),
        ("quantity_unit", pa.string()),
        ("calculated_duty", pa.float64()),
        ("value_basis", pa.string()),
        ("currency", pa.string()),
        ("source", pa.string()),
        ("vintage", pa.string()),
    ]
)
EXCHANGE_RATES = pa.schema(
    [
        ("base_currency", pa.string()),
        ("quote_currency", pa.string()),
        ("date", pa.date32()),
        ("frequency", pa.string()),
        ("rate", pa.float64()),
        ("source", pa.string()),
        ("vintage", pa.string()),
    ]
)
PRICE_INDICES = pa.schema(
    [
        ("period", pa.string()),
        ("origin", pa.string()),
        ("product", pa.string()),
        ("basis", pa.string()),
        ("currency", pa.string()),
        ("index", pa.float64()),
        ("source", pa.string()),
        ("vintage", pa.string()),
    ]
)
HTS_REVISIONS = pa.schema(
    [
        ("revision", pa.string()),
        ("year", pa.int32()),
        ("seq", pa.int32()),
        ("effective_date", pa.date32()),
        ("policy_effective_date", pa.date32()),
        ("policy_event", pa.string()),
        ("source_file", pa.string()),
        ("sha256", pa.string()),
    ]
)
HTS_LINES = pa.schema(
    [
        ("revision", pa.string()),
        ("hts_code", pa.string()),
        ("level", pa.int32()),
        ("indent", pa.int32()),
        ("description", pa.string()),
        ("units", pa.string()),
        ("general_text", pa.string()),
        ("special_text", pa.string()),
        ("other_text", pa.string()),
        ("footnotes", pa.string()),
        ("rate_form", pa.string()),
        ("ad_valorem", pa.float64()),
        ("specific_rate", pa.float64()),
        ("specific_unit", pa.string()),
        ("specific_rate_2", pa.float64()),
        ("specific_unit_2", pa.string()),
        ("parse_note", pa.string()),
    ]
)
CHAPTER99_LINES = pa.schema(
    [
        ("revision", pa.string()),
        ("heading", pa.string()),
        ("indent", pa.int32()),
        ("description", pa.string()),
        ("general_text", pa.string()),
        ("ad_valorem", pa.float64()),
        ("footnotes", pa.string()),
    ]
)
SCHEMAS: dict[str, pa.Schema] = {
    "trade_flows": TRADE_FLOWS,
    "exchange_rates": EXCHANGE_RATES,
    "price_indices": PRICE_INDICES,
    "hts_revisions": HTS_REVISIONS,
    "hts_lines": HTS_LINES,
    "chapter99_lines": CHAPTER99_LINES,
}

# Group codes used where a publisher reports an aggregate rather than a country.
GROUPS_BY_NAME = {
    "european union": "EU27",
    "world": "WLD",
    "total": "WLD",
    "world total": "WLD",
    "europe": "EUROPE",  # USA Trade Online world area "Europe" (EU + UK + EFTA + other Europe)
}


@dataclass
class ParsedFile:
    """One file read into warehouse-shaped tables, plus what the ``sources`` row needs."""

    kind: str
    path: Path
    tables: dict[str, pa.Table]
    source: str
    title: str
    publisher: str
    vintage: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.num_rows for t in self.tables.values())

    @property
    def main(self) -> pa.Table:
        return next(iter(self.tables.values()))


def make_table(schema: pa.Schema, n: int, columns: Mapping[str, Any]) -> pa.Table:
    """Build a table of ``n`` rows in ``schema``: arrays are used as is, scalars broadcast, missing -> null."""
    arrays = []
    for f in schema:
        v = columns.get(f.name)
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            arr = v.combine_chunks() if isinstance(v, pa.ChunkedArray) else v
            if arr.type != f.type:
                arr = pc.cast(arr, f.type)
            if len(arr) != n:
                raise ValueError(f"column {f.name}: {len(arr)} values for {n} rows")
        elif isinstance(v, (list, tuple)):
            arr = pa.array(v, type=f.type)
        else:
            arr = pa.repeat(pa.scalar(v, f.type), n) if v is not None else pa.nulls(n, f.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=schema)


def numbers(path: Path, column: pa.Array | pa.ChunkedArray, name: str, first_line: int, blank: tuple[str, ...] = (),
            minimum: float | None = None, lines: pa.Array | None = None) -> pa.Array:
    """Strict numeric column: finite numbers (and ``>= minimum`` when given), nulls for blanks.

    A bad cell becomes IngestError naming the file line: ``lines[i]`` when given (rows filtered out
    before), else ``first_line + i``.
    """

    def line(i: int) -> int:
        return int(lines[i].as_py()) if lines is not None else first_line + i

    try:
        out = parse_numbers(column, blank=blank)
    except NumberFormatError as exc:
        why = "" if exc.reason == NOT_A_NUMBER else f": {exc.reason}; every stored figure must be a finite number"
        raise IngestError(path, line(exc.index or 0), f"bad number {exc.text!r} in column {name!r}{why}") from None
    if minimum is not None:
        i = first_below(out, minimum)
        if i is not None:
            raise IngestError(path, line(i), f"{name!r} is {out[i].as_py():,g}, below {minimum:g}: trade values, "
                                             "duties and quantities are never negative; correct the cell")
    return out


def check_header(path: Path, line: int, got: Iterable[str], expected: Iterable[str]) -> None:
    got_l, exp_l = [g.strip() for g in got], list(expected)
    if got_l != exp_l:
        raise IngestError(path, line, f"wrong header: expected {exp_l}, found {got_l}")


def require_columns(path: Path, line: int, got: Iterable[str], needed: Iterable[str]) -> None:
    have = set(got)
    missing = [c for c in needed if c not in have]
    if missing:
        raise IngestError(path, line, f"wrong header: missing column(s) {missing}; found {sorted(have)}")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it ends in .gz; a truncated or corrupt gzip names the line reached.

    Every gzip member is read (``cat a.gz b.gz`` is one valid gzip file); bytes after the last member
    that are not another member are an error, not silently dropped.
    """
    raw = Path(path).read_bytes()
    if not str(path).endswith(".gz"):
        return raw
    out = io.BytesIO()
    rest = raw
    try:
        while True:
            d = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
            for i in range(0, len(rest), 1 << 20):
                out.write(d.decompress(rest[i : i + (1 << 20)]))
                if d.eof:
                    break
            if not d.eof:
                raise EOFError("compressed stream ends before the end-of-stream marker")
            rest = d.unused_data + rest[i + (1 << 20):]
            if not rest.strip(b"\0"):  # some writers pad the last member with zero bytes
                break
    except (zlib.error, EOFError) as exc:
        got = out.getvalue()
        line = got.count(b"\n") + 1
        raise IngestError(path, line, f"truncated or corrupt gzip ({exc}); {len(got):,} bytes decompressed") from None
    return out.getvalue()


def read_text(path: Path, encoding: str = "utf-8-sig", whole_lines: bool = False) -> str:
    """The file as text. ``whole_lines``: a line-based file (CSV, JSON lines, Markdown) must end with a
    newline, so one cut inside its last line (a number cut to fewer digits) is refused, not stored."""
    data = read_bytes(path)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(path, line, f"not {encoding} text ({exc.reason})") from None
    if whole_lines:
        require_final_newline(path, data)
    return text


def csv_error_reason(exc: Exception) -> str:
    """One line for an error Python's csv module raised (a field over its size limit, a NUL byte...)."""
    import csv

    text = str(exc)
    if "field larger than field limit" in text:
        return (f"a field is longer than {csv.field_size_limit():,} characters: this is not a CSV file tariffscope "
                "reads (or it is damaged: an unmatched quote makes the rest of the file one field)")
    return f"not a readable CSV file ({text})"


def require_final_newline(path: Path, data: bytes) -> None:
    """IngestError unless ``data`` (a text file's bytes) is empty or ends with a line end."""
    if data and not data.endswith((b"\n", b"\r")):
        line = data.count(b"\n") + 1
        raise IngestError(path, line, "the file ends inside this line (no line end after it): it looks truncated; "
                                      "copy or download it again (if it is complete, end it with a newline)")


def gzip_ok(path: Path) -> None:
    """Fail early (with a line number) on a truncated .gz before handing it to a fast reader."""
    if str(path).endswith(".gz"):
        read_bytes(path)


def default_source(kind: str, path: Path) -> str:
    stem = Path(path).name
    for ext in (".gz", ".json", ".jsonl", ".csv", ".parquet", ".txt", ".md", ".xlsx"):
        stem = stem.removesuffix(ext)
    return f"{kind}:{stem}"


# --- country mapping: one call each, delegating to tariffscope.codes.countries -----------------------


def iso3_for(path: Path, values: Iterable[str], by: str, lines: Mapping[str, int] | None = None) -> dict[str, str]:
    """Map distinct country identifiers to ISO3 (or a group code); unknown -> IngestError at its first line.

    ``by`` is 'census' (Census Schedule C code), 'name', 'm49' or 'japan_customs'.
    """
    out: dict[str, str] = {}
    for v in values:
        if v in out:
            continue
        key = (v or "").strip()
        group = GROUPS_BY_NAME.get(key.lower()) if by == "name" else None
        if by == "census" and key in ("-", ""):
            group = "WLD"
        if by == "m49" and key in ("0", "000"):
            group = "WLD"
        if group:
            out[v] = group
            continue
        try:
            out[v] = _resolve(key, by)
        except InputError as exc:
            line = (lines or {}).get(v)
            raise IngestError(path, line, f"unknown country {v!r} ({by} code/name): {exc}") from None
    return out


def _resolve(key: str, by: str) -> str:
    from tariffscope.codes import countries as c  # the code lists shipped with the package

    if by == "name":
        return c.resolve_country(key).iso3
    found = {"census": c.from_census, "m49": c.from_m49, "japan_customs": c.from_japan_customs}[by](key)
    if found is None:
        raise InputError(f"no country with {by} code {key!r}")
    return found.iso3


def map_column(path: Path, column: pa.Array | pa.ChunkedArray, by: str, first_line: int) -> pa.Array:
    """Vectorized country mapping of a string column: distinct values resolved once, then a take.

    Unknown values raise IngestError at the line of their first occurrence.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    column = pc.cast(column, pa.string())
    uniq = pc.unique(column)
    values = uniq.to_pylist()
    try:
        mapping = iso3_for(path, values, by)
    except IngestError as exc:
        bad = next(v for v in values if v not in _mapped_ok(path, values, by))
        line = first_line + pc.index(column, bad).as_py()
        raise IngestError(path, line, exc.reason) from None
    idx = pc.index_in(column, value_set=uniq)
    return pc.take(pa.array([mapping[v] for v in values], pa.string()), idx)


def _mapped_ok(path: Path, values: list, by: str) -> set:
    ok = set()
    for v in values:
        try:
            iso3_for(path, [v], by)
            ok.add(v)
        except IngestError:
            pass
    return ok


FLOW_KEY = ["reporter", "partner", "flow", "trade_regime", "period", "frequency", "classification", "product_code",
            "value_basis", "currency", "quantity_unit"]


# A file's natural key for a flow: one value per partner, product, period, flow and value basis
# (the quantity unit is an attribute of the value, not part of what it measures).
DUPLICATE_KEY = [c for c in FLOW_KEY if c != "quantity_unit"]


def keys_unique(table: pa.Table, key: list[str]) -> bool:
    """Whether no two rows of ``table`` share ``key`` (nulls equal, as in a group-by).

    Columns holding one value in every row cannot tell rows apart and are left out of the key first
    (most of a file's key is constant: one reporter, flow, period, basis...); a key of one column is then
    checked by counting its distinct values, and only a wider one needs the multi-column group-by, which
    took most of an ingest's checking time.
    """
    if table.num_rows < 2:
        return True
    varying = [k for k in key if not _constant(table[k])]
    if not varying:
        return False
    if len(varying) == 1:
        return pc.count_distinct(table[varying[0]], mode="all").as_py() == table.num_rows
    return table.select(varying).group_by(varying, use_threads=False).aggregate([]).num_rows == table.num_rows


def _constant(col: pa.ChunkedArray) -> bool:
    """One value (or null) in every row: a min/max pass, cheaper than counting distinct values."""
    nulls = col.null_count
    if nulls == len(col):
        return True
    if nulls:
        return False
    mm = pc.min_max(col)
    return mm["min"] == mm["max"]


def refuse_duplicates(path: Path, flows: pa.Table, lines: pa.Array | list[int], partner: pa.Array | None = None) -> None:
    """Two rows of one file with the same natural key are an IngestError naming both lines.

    ``partner`` is the partner as the file spells it (a Census code, a name), so two different
    source partners that map to one ISO3 (Gaza Strip and West Bank -> PSE) are not duplicates:
    ``sum_duplicates`` adds those up afterwards. Anything else repeated is neither summed nor
    stored twice: a second copy of a row would double the figure.
    """
    if flows.num_rows < 2:
        return
    keys = flows.select(DUPLICATE_KEY)
    if partner is not None:
        p = partner.combine_chunks() if isinstance(partner, pa.ChunkedArray) else partner
        keys = keys.set_column(keys.column_names.index("partner"), "partner", pc.cast(p, pa.string()))
    if keys_unique(keys, DUPLICATE_KEY):
        return
    keys = keys.append_column("line_", pa.array(lines, pa.int64()) if not isinstance(lines, pa.Array) else pc.cast(lines, pa.int64()))
    g = keys.group_by(DUPLICATE_KEY, use_threads=False).aggregate([("line_", "min"), ("line_", "max"), ("line_", "count")])
    g = g.filter(pc.greater(g["line__count"], 1))
    j = pc.index(g["line__max"], pc.min(g["line__max"])).as_py()  # the repeat met first in the file
    r = {c: g[c][j].as_py() for c in g.column_names}
    what = f"partner {r['partner']!r}, product {r['product_code']}, period {r['period']}, {r['flow']} ({r['value_basis']} value)"
    more = f" ({r['line__count']} rows in all)" if r["line__count"] > 2 else ""
    raise IngestError(path, r["line__max"], f"duplicate row: line {r['line__max']} repeats the key of line {r['line__min']}{more}: "
                                            f"{what}; duplicates are neither summed nor stored twice: remove the extra row")


def first_duplicate(table: pa.Table, key: list[str]) -> dict[str, Any] | None:
    """The key values and count of the first key that occurs more than once in ``table``, or None."""
    if keys_unique(table, key):
        return None
    g = table.select(key).group_by(key, use_threads=False).aggregate([([], "count_all")])
    g = g.filter(pc.greater(g["count_all"], 1))
    return {c: g[c][0].as_py() for c in g.column_names}


def sum_duplicates(flows: pa.Table, notes: list[str]) -> pa.Table:
    """Rows that share a key after country mapping (Gaza Strip and West Bank -> PSE) are summed, and said so.

    Call ``refuse_duplicates`` first: only rows of different source partners may be summed here.
    """
    if flows.num_rows == 0:
        return flows
    # Cheap pre-check: without two source rows mapped to one partner for the same product and period,
    # keys are as unique as the publisher made them.
    if pc.count_distinct(flows["partner"]).as_py() <= 1:
        return flows
    if keys_unique(flows, FLOW_KEY):
        return flows
    const = ["product_level", "source", "vintage"]
    g = flows.group_by(FLOW_KEY + const, use_threads=False).aggregate(
        [("value", "sum"), ("quantity", "sum"), ("calculated_duty", "sum")]
    )
    g = g.rename_columns({"value_sum": "value", "quantity_sum": "quantity", "calculated_duty_sum": "calculated_duty"})
    # sum of all-null quantities/duties must stay null, not 0
    for c in ("quantity", "calculated_duty"):
        if flows[c].null_count == flows.num_rows:
            g = g.set_column(g.column_names.index(c), c, pa.nulls(g.num_rows, pa.float64()))
    notes.append(f"summed {flows.num_rows - g.num_rows} rows whose partner names/codes map to the same ISO3 (e.g. Gaza Strip and West Bank -> PSE)")
    return g.select(TRADE_FLOWS.names).cast(TRADE_FLOWS)


def check_chapter_span(path: Path, first: str, last: str, first_line: int | None = None,
                       last_line: int | None = None) -> None:
    """IngestError unless a revision's first HTS number is in chapter 01 and its last in chapter 99 (a cut file
    ends early); the line numbers, when the reader knows them, go into the error."""
    if not first.startswith("01"):
        raise IngestError(path, first_line, f"the first HTS number is {first} (chapter {first[:2]}): a full revision "
                                            "starts in chapter 01; the file looks truncated; download the whole revision again")
    if not last.startswith("99"):
        raise IngestError(path, last_line, f"the last HTS number is {last} (chapter {last[:2]}): a full revision "
                                           "ends in chapter 99; the file looks truncated; download the whole revision again")
