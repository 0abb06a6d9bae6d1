"""``ingest(path)``: one file into the warehouse, whole or not at all, once.

1. The kind is detected from the extension and the first bytes (or given: ``kind=``).
2. The file's sha256 is looked up in ``ingest_log``: a file already ingested is a no-op that says
   when. (An HTS revision already loaded from the same file, e.g. with the embedded data, too.)
3. The reader turns the file into warehouse-shaped Arrow tables. Any problem is an
   ``IngestError(path, line, reason)`` raised before anything is written.
4. One transaction inserts every table, the ``sources`` row and the ``ingest_log`` row.

``data_status(con)`` summarizes what is loaded: per source its vintage, periods and row counts.
"""
from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import time
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
    usatradeonline_csv,
    usato_json,
)
from tariffscope.ingest.common import ParsedFile
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

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def message(self) -> str:
        if self.status == "already":
            return f"{Path(self.path).name}: already ingested on {self.ingested_at} ({self.source}, ingest {self.ingest_id}); nothing to do"
        parts = ", ".join(f"{n:,} {t}" for t, n in self.rows.items() if n)
        return f"{Path(self.path).name}: ingested {parts} as source {self.source} ({self.kind}, ingest {self.ingest_id}) in {self.seconds:.2f}s"

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
    except Exception as exc:  # a damaged zip/xlsx
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
    """(ingest_id, when, what) if these bytes are already in the warehouse, else None."""
    rows = con.execute(
        """SELECT ingest_id, finished_at, source_kind, path,
                  (SELECT min(finished_at) FROM ingest_log WHERE source_kind = 'embedded') AS embedded_at
           FROM ingest_log WHERE sha256 = ? OR source_kind = 'embedded' ORDER BY source_kind = 'embedded' LIMIT 1""",
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
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).date().isoformat()
    return f"{kind} file {path.name} as of {mtime} (file date; the publisher's release is not stated in the file)"


def ingest(path: str | Path, kind: str | None = None, con: db.Connection | None = None, source: str | None = None,
           **options: Any) -> IngestResult:
    """Ingest one file (``kind`` auto-detected unless given). Re-ingesting the same bytes is a no-op."""
    t0 = time.perf_counter()
    path = Path(path).expanduser()
    if not path.is_file():
        raise IngestError(path, None, "no such file")
    if kind is not None and kind not in READERS:
        raise IngestError(path, None, f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    kind = kind or detect_kind(path)
    own = con is None
    con = con if con is not None else open_warehouse()
    try:
        sha = sha256_file(path)
        prev = _already(con, sha)
        if prev is not None:
            return IngestResult(str(path), kind, prev[2], "already", prev[0], seconds=time.perf_counter() - t0,
                                ingested_at=prev[1], sha256=sha)
        parsed = READERS[kind].parse(path, source=source, **options)
        if parsed.vintage is None:
            parsed.vintage = _default_vintage(kind, path)
            for name, tbl in parsed.tables.items():
                if "vintage" in tbl.column_names:
                    i = tbl.column_names.index("vintage")
                    parsed.tables[name] = tbl.set_column(i, "vintage", pa.repeat(pa.scalar(parsed.vintage), tbl.num_rows))
        if "hts_revisions" in parsed.tables:
            rev = parsed.tables["hts_revisions"]["revision"][0].as_py()
            if con.execute("SELECT 1 FROM hts_revisions WHERE revision = ?", [rev]).fetchall():
                raise IngestError(path, None, f"HTS revision {rev} is already loaded from a different file; it is not replaced silently")
        started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        con.execute("SET enable_progress_bar = false")  # a library call prints nothing
        with db.transaction(con):
            ingest_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
            rows = {}
            for table, arrow in parsed.tables.items():
                rows[table] = arrow.num_rows
                _insert(con, table, arrow, None if table == "hts_revisions" else ingest_id)
            if not con.execute("SELECT 1 FROM sources WHERE source = ?", [parsed.source]).fetchall():
                con.execute(
                    "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [parsed.source, parsed.title, parsed.publisher, str(path), sha, parsed.vintage,
                     started.date().isoformat(), "; ".join(parsed.notes) or None],
                )
            con.execute(
                "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [ingest_id, kind, str(path), sha, parsed.rows, parsed.vintage, started,
                 dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)],
            )
        return IngestResult(str(path), kind, parsed.source, "ingested", int(ingest_id), rows, parsed.vintage,
                            parsed.notes, time.perf_counter() - t0, started.strftime("%Y-%m-%d %H:%M UTC"), sha)
    finally:
        if own:
            con.close()


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
        try:
            con.unregister(name)
        except Exception:  # noqa: BLE001 - an aborted transaction refuses even this; the error above is the one to see
            pass


# --- status ------------------------------------------------------------------------------------


@dataclass
class DataStatus:
    """What the warehouse holds, one row per source."""

    warehouse: str
    schema_version: int
    sources: list[dict[str, Any]]
    tables: dict[str, int]

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
hts AS (
    SELECT 'usitc_hts' AS source, 'hts_lines', count(*),
           (SELECT revision FROM hts_revisions ORDER BY seq LIMIT 1),
           (SELECT revision FROM hts_revisions ORDER BY seq DESC LIMIT 1),
           (SELECT count(*) FROM hts_revisions)::VARCHAR || ' revisions'
    FROM hts_lines HAVING count(*) > 0),
c99 AS (
    SELECT 'usitc_hts', 'chapter99_lines', count(*), NULL, NULL, NULL FROM chapter99_lines HAVING count(*) > 0),
counts AS (SELECT * FROM flows UNION ALL SELECT * FROM fx UNION ALL SELECT * FROM hts UNION ALL SELECT * FROM c99)
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
        version = con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0]
        path = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
        return DataStatus(str(path[0][0]) if path and path[0][0] else ":memory:", int(version),
                          list(merged.values()), db.table_counts(con))
    finally:
        if own:
            con.close()
