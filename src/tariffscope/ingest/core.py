"""``ingest(path)``: one file into the warehouse, whole or not at all, once.

1. The kind is detected from the extension and the first bytes (or given: ``kind=``).
2. The file's sha256 is looked up in ``ingest_log``: a file already ingested (and not since replaced)
   is a no-op that says when. (An HTS revision already loaded from the same file, e.g. with the
   embedded data, too.)
3. The reader turns the file into warehouse-shaped Arrow tables. Any problem is an
   ``IngestError(path, line, reason)`` raised before anything is written; so is a table that still
   holds a non-finite or negative figure or two rows with one natural key (``check_tables``).
4. One transaction inserts every table, the ``sources`` row and the ``ingest_log`` row. A new version
   of a file already ingested (same source, same file name, other bytes) replaces the old version's
   rows in that same transaction, updates the ``sources`` row and is recorded in
   ``ingest_replacements``: versions are never mixed. New rows whose key is already stored under the
   same source from another file are refused (two files would be mixed).

``data_status(con)`` summarizes what is loaded: per source its vintage, periods and row counts.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import gzip
import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from tariffscope import db
from tariffscope.errors import IngestError
from tariffscope.ingest import (
    census_api,
    census_monthly_jsonl,
    census_page_md,
    comtrade,
    dataweb_csv,
    dataweb_xlsx,
    fred_csv,
    hts_csv,
    hts_json,
    import_weights,
    japan_customs_csv,
    price_index_csv,
    usato_json,
    usatradeonline_csv,
)
from tariffscope.ingest.common import DUPLICATE_KEY, ParsedFile, check_chapter_span, csv_error_reason, first_duplicate
from tariffscope.ingest.warehouse import open_warehouse

READERS: dict[str, ModuleType] = {
    "census_api": census_api,
    "import_weights_csv": import_weights,
    "usatradeonline_csv": usatradeonline_csv,
    "dataweb_csv": dataweb_csv,
    "usato_json": usato_json,
    "census_monthly_jsonl": census_monthly_jsonl,
    "comtrade": comtrade,
    "hts_json": hts_json,
    "hts_csv": hts_csv,
    "dataweb_xlsx": dataweb_xlsx,
    "census_page_md": census_page_md,
    "fred_csv": fred_csv,
    "japan_customs_csv": japan_customs_csv,
    "price_index_csv": price_index_csv,
}
KINDS = tuple(READERS)


@dataclass
class IngestResult:
    """What one ``ingest`` did: ``status`` is 'ingested' or 'already'."""

    path: str
    kind: str
    source: str
    status: str
    ingest_id: int
    rows: dict[str, int] = field(default_factory=dict)
    vintage: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    ingested_at: str | None = None
    sha256: str = ""
    replaced: list[dict[str, Any]] = field(default_factory=list)  # earlier versions of this file whose rows were removed

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def message(self) -> str:
        if self.status == "already":
            return f"{Path(self.path).name}: already ingested on {self.ingested_at} ({self.source}, ingest {self.ingest_id}); nothing to do"
        parts = ", ".join(f"{n:,} {t}" for t, n in self.rows.items() if n)
        msg = f"{Path(self.path).name}: ingested {parts} as source {self.source} ({self.kind}, ingest {self.ingest_id}) in {self.seconds:.2f}s"
        for r in self.replaced:
            msg += (f"; replaced the earlier version of this file (ingest {r['old_ingest_id']}, sha256 {r['old_sha256'][:12]}, {r['rows_removed']:,} rows, "
                    f"vintage {r['old_vintage']})")
        return msg

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"message": self.message, "total_rows": self.total_rows}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{"table": t, "rows": n} for t, n in self.rows.items()])


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def detect_kind(path: str | Path) -> str:
    """The reader for a file, from its name and first bytes; IngestError if it cannot tell."""
    path = Path(path)
    name = path.name.lower()
    if not path.is_file():
        raise IngestError(path, None, "no such file")
    if name.endswith(".parquet"):
        return "census_api"
    if name.endswith(".xlsx"):
        return _detect_xlsx(path)
    head = _head(path)
    text = head.lstrip("\ufeff").lstrip()
    first = text.splitlines()[0] if text else ""
    if name.endswith((".jsonl", ".jsonl.gz")):
        return "census_monthly_jsonl"
    if name.endswith((".json", ".json.gz")):
        if text.startswith("[["):
            return "census_api"
        if text.startswith("[") and '"htsno"' in head:
            return "hts_json"
        if '"datasets"' in head:
            return "usato_json"
        if '"data"' in head and ("refYear" in head or "cmdCode" in head):
            return "comtrade"
        if text.startswith("{") and '"row"' in first:
            return "census_monthly_jsonl"
    if name.endswith(".md") and "US Census Bureau" in head and ("| Year |" in head):
        return "census_page_md"
    reference = _reference_file(name, first)
    if reference:
        raise IngestError(path, 1, reference)
    if name.endswith((".csv", ".csv.gz", ".txt")):
        if first.replace('"', "").startswith("HTS Number,Indent,Description"):
            return "hts_csv"
        if first.startswith('"Standard Report') or first.startswith("Standard Report"):
            return "usatradeonline_csv"
        if first.lower().startswith(("observation_date,", "date,")):
            return "fred_csv"
        if first.replace('"', "").startswith("hs10,gtap_code"):
            return "import_weights_csv"
        if "|" in first.split(",")[0] and first.split("|")[0].strip().lower() in dataweb_csv.FLOWS:
            return "dataweb_csv"
        if first.startswith("refYear"):
            return "comtrade"
        if first.replace('"', "").lower().startswith(("exp or imp,", "year,hs,country")):
            return "japan_customs_csv"
        if first.replace('"', "").replace(" ", "").lower().startswith("period,origin,product,index,basis"):
            return "price_index_csv"
        if first.startswith("Download Date"):
            raise IngestError(path, 1, "this is a DataWeb query-parameters file (how a download was made), not data")
    raise IngestError(path, 1, f"cannot tell what kind of file this is; pass --source with one of {', '.join(KINDS)}")


# Files in the raw data that are references, not data to load: say what they are for.
_REFERENCES = {
    "cty_code,iso3": "a country code list (Census -> ISO3): used by tariffscope.codes, not ingested",
    "ctY_code,iso3,country".lower(): "a country code list (Census -> ISO3): used by tariffscope.codes, not ingested",
    "code,geographical zone,country": "the Japan Customs country code list: used by tariffscope.codes, not ingested",
    "revision,effective_date": "HTS revision dates: read with each HTS revision (hts_json/hts_csv ingest), not ingested alone",
}


def _reference_file(name: str, first: str) -> str | None:
    low = first.replace('"', "").lower()
    for prefix, why in _REFERENCES.items():
        if low.startswith(prefix):
            return why
    if name.startswith("census_country_codes") or "Schedule C" in first or first.startswith("-----"):
        return "the Census Schedule C country list: used by tariffscope.codes, not ingested"
    if name.startswith("chapter99_us_notes"):
        return "the text of the Chapter 99 U.S. notes: read by the measure catalogue checks, not ingested"
    return None


def _detect_xlsx(path: Path) -> str:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
        names = wb.sheetnames
        wb.close()
    except Exception as exc:  # noqa: BLE001 - a damaged zip/xlsx: zipfile, openpyxl and KeyError types, not one base
        raise IngestError(path, None, f"not a readable Excel file ({exc})") from None
    if "Query Parameters" in names and "Customs Value" in names:
        return "dataweb_xlsx"
    if any(n.startswith("trade_tariff_database") for n in names):
        raise IngestError(path, None, "the USITC annual tariff database (HTS8 x 122 columns) is not read yet; "
                                      "the HTS JSON revisions carry the same MFN rates (ingest those)")
    raise IngestError(path, None, f"unknown Excel layout (sheets {names[:5]}): only DataWeb downloads "
                                  "(a 'Query Parameters' sheet and one sheet per data type) are read")


def _head(path: Path, n: int = 4096) -> str:
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read(n)
        else:
            with open(path, "rb") as f:
                data = f.read(n)
    except (OSError, EOFError) as exc:
        raise IngestError(path, 1, f"cannot read the start of the file ({exc})") from None
    return data.decode("utf-8", errors="replace")


def _already(con: db.Connection, sha: str) -> tuple[int, str, str] | None:
    """(ingest_id, when, what) if these bytes are already in the warehouse, else None.

    Bytes whose rows were since replaced by another version of the file are not 'already' there.
    """
    rows = con.execute(
        """SELECT ingest_id, finished_at, source_kind, path,
                  (SELECT min(finished_at) FROM ingest_log WHERE source_kind = 'embedded') AS embedded_at
           FROM ingest_log
           WHERE (sha256 = ? AND ingest_id NOT IN (SELECT old_ingest_id FROM ingest_replacements)) OR source_kind = 'embedded'
           ORDER BY source_kind = 'embedded' LIMIT 1""",
        [sha]).fetchall()
    if rows and rows[0][2] != "embedded":
        src = con.execute("SELECT source FROM sources WHERE sha256 = ? LIMIT 1", [sha]).fetchall()
        return int(rows[0][0]), _when(rows[0][1]), f"source {src[0][0] if src else rows[0][2]}"
    if rows:  # the embedded data are loaded: the raw files they were built from count as ingested
        source = _embedded_raw_files().get(sha)
        if source:
            return int(rows[0][0]), _when(rows[0][4]), f"part of the embedded source {source}"
        # an HTS revision loaded with the embedded data (or earlier) from these bytes
        rev = con.execute("SELECT revision FROM hts_revisions WHERE sha256 = ?", [sha]).fetchall()
        if rev:
            return 0, "an earlier run", f"HTS revision {rev[0][0]}"
    return None


@functools.cache
def _embedded_raw_files() -> dict[str, str]:
    from tariffscope.ingest import embedded

    return {f["sha256"]: t["source"] for t in embedded.provenance()["tables"].values() for f in t["files"]}


def _when(ts: Any) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC") if ts else "an earlier run"


def _default_vintage(kind: str, path: Path) -> str:
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()
    return f"{kind} file {path.name} as of {mtime} (file date; the publisher's release is not stated in the file)"


def ingest(path: str | Path, kind: str | None = None, con: db.Connection | None = None, source: str | None = None,
           **options: Any) -> IngestResult:
    """Ingest one file (``kind`` auto-detected unless given). Re-ingesting the same bytes is a no-op."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise IngestError(path, None, "no such file")
    return ingest_many([path], kind=kind, con=con, source=source, workers=1, **options)[0]


# Readers that record the file's digest themselves (hts_revisions.sha256): given the one computed here.
_TAKES_SHA = frozenset({"hts_json", "hts_csv"})


def files_in(paths: Sequence[str | Path]) -> list[Path]:
    """The files to ingest: each path as given, a directory as the files directly in it (sorted by name,
    hidden files and the reference files a directory of raw data holds left out)."""
    out: list[Path] = []
    for p in map(Path, paths):
        p = p.expanduser()
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            found = [f for f in found if not _is_reference(f)]
            if not found:
                raise IngestError(p, None, "a directory with no data files in it")
            out += found
        else:
            out.append(p)
    return out


def _is_reference(path: Path) -> bool:
    """A file a data directory holds beside the data that is no data to load (revision dates, code lists)."""
    try:
        detect_kind(path)
    except IngestError as exc:
        return exc.line == 1 and ("not ingested" in exc.reason or "query-parameters" in exc.reason)
    return False


def _prepare(path: Path, kind: str, sha: str, source: str | None, options: dict[str, Any]) -> ParsedFile:
    """Read and check one file (no warehouse): the tables to write, or IngestError. Runs in a worker
    thread for batches, so it touches no shared state but the readers' caches."""
    opts = dict(options, sha256=sha) if kind in _TAKES_SHA else options
    try:
        parsed = READERS[kind].parse(path, source=source, **opts)
    except csv.Error as exc:  # raised by the csv module inside any reader (a field over its size limit)
        raise IngestError(path, None, csv_error_reason(exc)) from None
    if not any(t.num_rows for t in parsed.tables.values()):  # a header alone: an empty query or a cut download
        raise IngestError(path, None, "no data rows: the file holds a header but no figures; nothing to store")
    if parsed.vintage is None:
        parsed.vintage = _default_vintage(kind, path)
        for name, tbl in parsed.tables.items():
            if "vintage" in tbl.column_names:
                i = tbl.column_names.index("vintage")
                parsed.tables[name] = tbl.set_column(i, "vintage", pa.repeat(pa.scalar(parsed.vintage), tbl.num_rows))
    check_tables(path, parsed)
    return parsed


def _prepare_all(jobs: list[tuple[Path, str, str, str | None, dict[str, Any]]], workers: int | None) -> list[ParsedFile]:
    """Every file of a batch read and checked, in order; in up to ``workers`` threads (default: one per
    core, at most 4). Threads, not processes: the readers spend their time in DuckDB, Arrow and zlib,
    which run without the GIL, and a thread costs nothing to start (a spawned process cost a second or
    more of imports). The first refused file (in batch order) is the error."""
    n = workers if workers is not None else min(4, os.cpu_count() or 1)
    if n <= 1 or len(jobs) < 2:
        return [_prepare(*j) for j in jobs]
    import concurrent.futures as cf

    with cf.ThreadPoolExecutor(max_workers=min(n, len(jobs)), thread_name_prefix="tariffscope-ingest") as pool:
        futures = [pool.submit(_prepare, *j) for j in jobs]
        try:
            return [f.result() for f in futures]
        finally:  # a refused file: the files not started yet are not read
            for f in futures:
                f.cancel()


def ingest_many(paths: Sequence[str | Path], kind: str | None = None,
                con: db.Connection | None = None, source: str | None = None, workers: int | None = None,
                **options: Any) -> list[IngestResult]:
    """Ingest files (a directory: the files in it) in **one transaction**: all of them or none.

    Every file is detected, hashed once and read and checked (in worker threads) before anything is
    written; then one transaction writes each file's tables with its own
    ``ingest_log`` row, ``sources`` row and replacement record, exactly as ``ingest`` of each file in
    turn would, and commits once. A refused file (here or inside the transaction) refuses the batch,
    naming the file; the warehouse is then as it was. Files already ingested are 'already'.
    """
    t0 = time.perf_counter()
    files = files_in(paths)
    if kind is not None and kind not in READERS:
        raise IngestError(files[0] if files else "", None, f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    for f in files:
        if not f.is_file():
            raise IngestError(f, None, "no such file")
    kinds = [kind or detect_kind(f) for f in files]
    own = con is None
    con = con if con is not None else open_warehouse(read_only=False)  # the one writer
    try:
        shas = [sha256_file(f) for f in files]  # the one checksum pass
        results: list[IngestResult | None] = [None] * len(files)
        first_of: dict[str, int] = {}
        jobs, todo = [], []
        for i, (f, k, sha) in enumerate(zip(files, kinds, shas, strict=True)):
            prev = _already(con, sha)
            if prev is not None:
                results[i] = IngestResult(str(f), k, prev[2], "already", prev[0], seconds=time.perf_counter() - t0,
                                          ingested_at=prev[1], sha256=sha)
            elif sha in first_of:  # the same bytes twice in one batch: once
                continue
            else:
                first_of[sha] = i
                jobs.append((f, k, sha, source, options))
                todo.append(i)
        parsed_all = _prepare_all(jobs, workers)
        if parsed_all:
            con.execute("SET enable_progress_bar = false")  # a library call prints nothing
            with db.transaction(con):
                pending = _Pending()
                for i, parsed in zip(todo, parsed_all, strict=True):
                    if parsed.source in pending.sources:  # its earlier file's rows must be in place to be replaced
                        pending.flush(con)
                    results[i] = _write(con, files[i], kinds[i], shas[i], parsed, t0, pending)
                pending.flush(con)
        for i, r in enumerate(results):
            if r is None:  # a repeat within the batch: it is the file written above
                w = results[first_of[shas[i]]]
                assert w is not None, "the first of equal files was written above"
                results[i] = IngestResult(str(files[i]), kinds[i], w.source, "already", w.ingest_id,
                                          seconds=time.perf_counter() - t0, ingested_at=w.ingested_at, sha256=shas[i])
        return [r for r in results if r is not None]
    finally:
        if own:
            con.close()


class _Pending:
    """Rows of a batch's files held back to be inserted together (one INSERT per table, not one per file),
    and the mixing checks that need them in place. Flushed before a file of a source already pending,
    and at the end of the batch, inside its transaction."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[pa.Table]] = {}
        self.checks: list[tuple[Path, str, int]] = []
        self.sources: set[str] = set()

    def add(self, table: str, arrow: pa.Table, ingest_id: int) -> None:
        if arrow.num_rows:
            tagged = arrow.append_column("ingest_id", pa.repeat(pa.scalar(ingest_id, pa.int32()), arrow.num_rows))
            self.rows.setdefault((table, str(tagged.schema)), []).append(tagged)

    def flush(self, con: db.Connection) -> None:
        for (table, _), parts in self.rows.items():
            _insert(con, table, pa.concat_tables(parts), None)
        for path, source, ingest_id in self.checks:
            _refuse_mixing(con, path, source, ingest_id)
        self.rows, self.checks, self.sources = {}, [], set()


def _write(con: db.Connection, path: Path, kind: str, sha: str, parsed: ParsedFile, t0: float,
           pending: _Pending | None = None) -> IngestResult:
    """One file's rows, ``sources``/``ingest_log`` rows and replacement records, inside the caller's
    transaction; with ``pending``, its rows and mixing check wait there for the batch's flush."""
    if "hts_revisions" in parsed.tables:
        rev = parsed.tables["hts_revisions"]["revision"][0].as_py()
        if con.execute("SELECT 1 FROM hts_revisions WHERE revision = ?", [rev]).fetchall():
            raise IngestError(path, None, f"HTS revision {rev} is already loaded from a different file; it is not replaced silently")
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
    # these bytes were loaded once and later replaced: their old log row gives way (ingest_replacements keeps it)
    con.execute("DELETE FROM ingest_log WHERE sha256 = ?", [sha])
    # Every writer (ingest, the embedded loader) files a source's rows with its sources row: a source
    # without one has no earlier rows to replace or mix with, and its checks (table scans) are skipped.
    known = bool(con.execute("SELECT 1 FROM sources WHERE source = ?", [parsed.source]).fetchall())
    replaced = _remove_earlier_versions(con, parsed.source, path.name) if known else []
    rows = {}
    for table, arrow in parsed.tables.items():
        rows[table] = arrow.num_rows
        if table == "hts_revisions":  # now: the next file of the batch checks its revision against it
            _insert(con, table, arrow, None)
        elif pending is not None:
            pending.add(table, arrow, int(ingest_id))
        else:
            _insert(con, table, arrow, ingest_id)
    if pending is not None:
        if known:
            pending.checks.append((path, parsed.source, int(ingest_id)))
        pending.sources.add(parsed.source)
    elif known:
        _refuse_mixing(con, path, parsed.source, int(ingest_id))
    source_row = [parsed.title, parsed.publisher, str(path), sha, parsed.vintage, started.date().isoformat(),
                  "; ".join(parsed.notes) or None]
    if not known:
        con.execute("INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [parsed.source, *source_row])
    elif replaced:  # the source now describes the new version (file, sha, vintage), not the one removed
        con.execute("UPDATE sources SET title = ?, publisher = ?, file = ?, sha256 = ?, vintage = ?, build_date = ?, "
                    "notes = ? WHERE source = ?", [*source_row, parsed.source])
    con.execute(
        "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [ingest_id, kind, str(path), sha, parsed.rows, parsed.vintage, started,
         dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )
    for r in replaced:
        r.update(new_ingest_id=int(ingest_id), new_sha256=sha, new_vintage=parsed.vintage, rows_added=parsed.rows)
        con.execute("INSERT INTO ingest_replacements VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [r["new_ingest_id"], r["old_ingest_id"], parsed.source, path.name, r["old_sha256"], sha,
                     r["old_vintage"], parsed.vintage, r["rows_removed"], parsed.rows, started])
    return IngestResult(str(path), kind, parsed.source, "ingested", int(ingest_id), rows, parsed.vintage,
                        parsed.notes, time.perf_counter() - t0, started.strftime("%Y-%m-%d %H:%M UTC"), sha, replaced)


# Tables whose rows a user ingest files under a source (HTS revisions are keyed by revision instead).
_SOURCE_TABLES = ("trade_flows", "exchange_rates", "price_indices")
# The natural key of each warehouse table: one row per key within a source / revision.
NATURAL_KEYS: dict[str, list[str]] = {
    "trade_flows": ["source", *DUPLICATE_KEY],
    "exchange_rates": ["source", "base_currency", "quote_currency", "date", "frequency"],
    "price_indices": ["source", "origin", "product", "basis", "period"],
    "hts_lines": ["revision", "hts_code"],
    "chapter99_lines": ["revision", "heading"],
    "hts_revisions": ["revision"],
}
# Figures with a domain: (table, column, smallest allowed, strictly greater?).
_DOMAINS = [("trade_flows", "value", 0.0, False), ("trade_flows", "quantity", 0.0, False),
            ("trade_flows", "calculated_duty", 0.0, False), ("exchange_rates", "rate", 0.0, True),
            ("price_indices", "index", 0.0, True)]


def check_tables(path: Path, parsed: ParsedFile) -> None:
    """The last check before writing, whatever the reader: every float finite, values and quantities
    not negative, rates positive, no natural key twice, an HTS revision whole. Readers refuse these with the
    file line first; this catches what a reader let through, naming the table row."""
    import pyarrow.compute as pc

    _check_whole_revision(path, parsed)

    for name, tbl in parsed.tables.items():
        for col in tbl.schema:
            if not pa.types.is_floating(col.type) or tbl.num_rows == 0:
                continue
            bad = pc.invert(pc.fill_null(pc.is_finite(tbl[col.name]), True))
            if pc.any(bad).as_py():
                i = pc.index(bad, True).as_py()
                raise IngestError(path, None, f"{name} row {i + 1}: {col.name} is {tbl[col.name][i].as_py()}; every stored "
                                              "figure must be a finite number: correct the file")
        for table, col, low, strict in _DOMAINS:
            if table == name and tbl.num_rows:
                out = pc.fill_null((pc.less_equal if strict else pc.less)(tbl[col], low), False)
                if pc.any(out).as_py():
                    i = pc.index(out, True).as_py()
                    raise IngestError(path, None, f"{name} row {i + 1}: {col} is {tbl[col][i].as_py()}, must be "
                                                  f"{'>' if strict else '>='} {low:g}: correct the file")
        key = NATURAL_KEYS.get(name)
        if key and all(k in tbl.column_names for k in key):
            dup = first_duplicate(tbl, key)
            if dup is not None:
                what = ", ".join(f"{k} {dup[k]}" for k in key)
                raise IngestError(path, None, f"{name}: {dup['count_all']} rows with one key ({what}); duplicates are "
                                              "neither summed nor stored twice: remove the extra rows")


def _check_whole_revision(path: Path, parsed: ParsedFile) -> None:
    """IngestError unless an HTS revision's numbered lines run from chapter 01 to chapter 99: half of a JSON
    export cut at a record boundary is still valid JSON, and stored it would pass for a complete revision."""
    import pyarrow.compute as pc

    if "hts_revisions" not in parsed.tables:
        return
    lines, ch99 = parsed.tables.get("hts_lines"), parsed.tables.get("chapter99_lines")
    codes = [t.column(c) for t, c in ((lines, "hts_code"), (ch99, "heading")) if t is not None and t.num_rows]
    if not codes:
        raise IngestError(path, None, "no numbered HTS lines: an HTS revision runs from chapter 01 to chapter 99")
    check_chapter_span(path, min(str(pc.min(c).as_py()) for c in codes), max(str(pc.max(c).as_py()) for c in codes))



def _remove_earlier_versions(con: db.Connection, source: str, file_name: str) -> list[dict[str, Any]]:
    """Delete the rows of earlier ingests of this file (same source, same file name); describe each one."""
    ids = " UNION ".join(f"SELECT DISTINCT ingest_id FROM {t} WHERE source = $source" for t in _SOURCE_TABLES)
    earlier = con.execute(
        f"""SELECT l.ingest_id, l.sha256, l.vintage, l.path FROM ingest_log l
            WHERE l.source_kind <> 'embedded' AND l.ingest_id IN ({ids})
              AND regexp_extract(l.path, '[^/\\\\]+$') = $name ORDER BY l.ingest_id""",
        {"source": source, "name": file_name}).fetchall()
    out = []
    for ingest_id, sha, vintage, old_path in earlier:
        removed = sum(con.execute(f"DELETE FROM {t} WHERE source = ? AND ingest_id = ?", [source, ingest_id]).fetchall()[0][0]
                      for t in _SOURCE_TABLES)
        out.append(dict(old_ingest_id=int(ingest_id), old_sha256=sha, old_vintage=vintage, old_path=old_path,
                        rows_removed=int(removed)))
    return out


def _refuse_mixing(con: db.Connection, path: Path, source: str, ingest_id: int) -> None:
    """IngestError (the transaction rolls back) if a new row's key is already stored under this source
    from another file: two files of one source may cover different keys, never the same ones."""
    for table in _SOURCE_TABLES:
        key = [k for k in NATURAL_KEYS[table] if k != "source"]
        if not con.execute(f"SELECT 1 FROM {table} WHERE source = ? AND ingest_id IS DISTINCT FROM ? LIMIT 1",
                           [source, ingest_id]).fetchall():
            continue
        cols = ", ".join(f"n.{k}" for k in key)
        hit = con.execute(
            f"""SELECT {cols}, o.ingest_id, l.path FROM {table} n JOIN {table} o USING ({", ".join(key)})
                LEFT JOIN ingest_log l ON l.ingest_id = o.ingest_id
                WHERE n.source = $s AND o.source = $s AND n.ingest_id = $i AND o.ingest_id IS DISTINCT FROM $i LIMIT 1""",
            {"s": source, "i": ingest_id}).fetchall()
        if hit:
            what = ", ".join(f"{k} {v}" for k, v in zip(key, hit[0], strict=False))
            other = f"{hit[0][-1]} (ingest {hit[0][-2]})" if hit[0][-1] else f"ingest {hit[0][-2]}"
            raise IngestError(path, None, f"source {source} already holds {table} rows for the same keys from {other} (e.g. {what}); "
                                          "the two files would be mixed: give the new version the old file's name to replace it, "
                                          "or file it under another source id (--source-id)")


def _insert(con: db.Connection, table: str, arrow: pa.Table, ingest_id: int | None) -> None:
    if arrow.num_rows == 0:
        return
    name = f"_ingest_{table}"
    con.register(name, arrow)
    try:
        cols = ", ".join(f'"{c}"' for c in arrow.column_names)
        if ingest_id is None:
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
        else:
            con.execute(f"INSERT INTO {table} ({cols}, ingest_id) SELECT {cols}, {int(ingest_id)} FROM {name}")
    finally:
        # An aborted transaction refuses even this; the error above is the one to see.
        with contextlib.suppress(Exception):
            con.unregister(name)


# --- status ------------------------------------------------------------------------------------


@dataclass
class DataStatus:
    """What the warehouse holds, one row per source; ``replacements`` lists every file version that
    replaced an earlier one (oldest first), also under its source as ``replaced``."""

    warehouse: str
    schema_version: int
    sources: list[dict[str, Any]]
    tables: dict[str, int]
    replacements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.sources)


_STATUS_SQL = """
WITH flows AS (
    SELECT source, 'trade_flows' AS tbl, count(*) AS n, min(period) AS first, max(period) AS last,
           string_agg(DISTINCT flow, ', ' ORDER BY flow) AS what
    FROM trade_flows GROUP BY source),
fx AS (
    SELECT source, 'exchange_rates', count(*), min(date)::VARCHAR, max(date)::VARCHAR,
           string_agg(DISTINCT quote_currency || ' per ' || base_currency, ', ')
    FROM exchange_rates GROUP BY source),
px AS (
    SELECT source, 'price_indices', count(*), min(period), max(period),
           string_agg(DISTINCT origin || ' ' || product || ' ' || basis, ', ')
    FROM price_indices GROUP BY source),
hts AS (
    SELECT 'usitc_hts' AS source, 'hts_lines', count(*),
           (SELECT revision FROM hts_revisions ORDER BY seq LIMIT 1),
           (SELECT revision FROM hts_revisions ORDER BY seq DESC LIMIT 1),
           (SELECT count(*) FROM hts_revisions)::VARCHAR || ' revisions'
    FROM hts_lines HAVING count(*) > 0),
c99 AS (
    SELECT 'usitc_hts', 'chapter99_lines', count(*), NULL, NULL, NULL FROM chapter99_lines HAVING count(*) > 0),
counts AS (SELECT * FROM flows UNION ALL SELECT * FROM fx UNION ALL SELECT * FROM px UNION ALL SELECT * FROM hts
           UNION ALL SELECT * FROM c99)
SELECT c.source, c.tbl, c.n, c.first, c.last, c.what, s.title, s.publisher, s.vintage, s.build_date, s.file
FROM counts c LEFT JOIN sources s USING (source)
ORDER BY c.source, c.tbl
"""


def data_status(con: db.Connection | None = None) -> DataStatus:
    """Sources loaded, with vintage, periods covered and row counts per table."""
    own = con is None
    con = con if con is not None else open_warehouse()
    try:
        rows = con.execute(_STATUS_SQL).fetchall()
        merged: dict[str, dict[str, Any]] = {}
        for source, tbl, n, first, last, what, title, publisher, vintage, build_date, file in rows:
            d = merged.setdefault(source, dict(source=source, title=title, publisher=publisher, vintage=vintage,
                                               file=file, loaded=build_date, periods=None, contents=None, rows={}))
            d["rows"][tbl] = int(n)
            if first is not None and d["periods"] is None:
                d["periods"] = first if first == last else f"{first} .. {last}"
                d["contents"] = what
        cols = ["source", "file_name", "old_ingest_id", "new_ingest_id", "old_vintage", "new_vintage", "rows_removed",
                "rows_added", "replaced_at"]
        replacements = [dict(zip(cols, r, strict=True)) for r in con.execute(
            f"SELECT {', '.join(cols)} FROM ingest_replacements ORDER BY replaced_at, new_ingest_id").fetchall()]
        for r in replacements:
            r["replaced_at"] = _when(r["replaced_at"])
            if r["source"] in merged:
                merged[r["source"]].setdefault("replaced", []).append(
                    f"{r['file_name']}: ingest {r['old_ingest_id']} ({r['rows_removed']:,} rows, {r['old_vintage']}) replaced by "
                    f"ingest {r['new_ingest_id']} on {r['replaced_at']}")
        version = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        return DataStatus(str(path[0][0]) if path and path[0][0] else ":memory:", int(version),
                          list(merged.values()), db.table_counts(con), replacements)
    finally:
        if own:
            con.close()
