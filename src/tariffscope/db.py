"""The warehouse: the only module that imports duckdb.

A DuckDB file under ``$TARIFFSCOPE_HOME`` with a versioned schema. ``connect()`` creates it on first use
and applies pending migrations; filling it with the embedded fact tables is an ingest, one layer up
(``tariffscope.ingest.warehouse.open_warehouse``): this module imports nothing of tariffscope but
``config`` and ``errors``. Writers change it only inside ``transaction()``: a whole ingest lands or
nothing does.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tariffscope import config
from tariffscope.errors import TariffscopeError, WarehouseError

Connection = duckdb.DuckDBPyConnection
# The base of every error DuckDB raises: front ends catch it to tell a damaged warehouse (see
# ``damage_message``) without importing duckdb themselves.
DatabaseError = duckdb.Error

REBUILD_HINT = "run 'tariffscope data rebuild' to re-create it from the embedded data and the logged ingests"
# How long a writer (or a reader of a warehouse being written) waits for another process's lock.
LOCK_TIMEOUT_ENV = "TARIFFSCOPE_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 60.0
# What DuckDB says when the bytes of the file are wrong, as opposed to a query being wrong.
_DAMAGE_MARKS = ("corrupt", "checksum", "not a valid duckdb database", "could not read enough bytes",
                 "invalid block", "serialization error", "failed to read database header", "wal file")

# Each migration is (version, description, statements). Append only; never edit a released one.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (
        1,
        "initial schema: flows, exchange rates, HTS lines, Chapter 99, sources, ingest log",
        [
            """CREATE TABLE ingest_log (
                ingest_id   INTEGER PRIMARY KEY,
                source_kind VARCHAR NOT NULL,      -- census_api, usatradeonline_csv, dataweb_csv, comtrade, hts_json, fred_csv, embedded, ...
                path        VARCHAR NOT NULL,
                sha256      VARCHAR NOT NULL UNIQUE,
                rows        BIGINT  NOT NULL,
                vintage     VARCHAR,
                started_at  TIMESTAMP NOT NULL,
                finished_at TIMESTAMP NOT NULL
            )""",
            """CREATE TABLE sources (
                source      VARCHAR PRIMARY KEY,   -- short id shown under every figure, e.g. 'census_hs10_imports_2024'
                title       VARCHAR NOT NULL,      -- what it is, for people
                publisher   VARCHAR,
                file        VARCHAR,               -- raw file(s) it was derived from
                sha256      VARCHAR,
                vintage     VARCHAR,               -- release / revision / pull date of the publisher's data
                build_date  VARCHAR,
                notes       VARCHAR
            )""",
            """CREATE TABLE trade_flows (
                reporter        VARCHAR NOT NULL,  -- ISO3 (USA)
                partner         VARCHAR NOT NULL,  -- ISO3, or a group code (EU27, WLD)
                flow            VARCHAR NOT NULL,  -- imports | exports
                trade_regime    VARCHAR NOT NULL,  -- general | consumption | total (exports)
                period          VARCHAR NOT NULL,  -- 'YYYY' (A) or 'YYYY-MM' (M)
                frequency       VARCHAR NOT NULL,  -- A | M
                classification  VARCHAR NOT NULL,  -- TOTAL | HS | HTS
                product_code    VARCHAR NOT NULL,  -- digits only; 'TOTAL' for all goods
                product_level   INTEGER NOT NULL,  -- 0 (total), 2, 4, 6, 8, 10
                value           DOUBLE  NOT NULL,
                quantity        DOUBLE,
                quantity_unit   VARCHAR,
                calculated_duty DOUBLE,            -- Census calculated duty (imports for consumption)
                value_basis     VARCHAR NOT NULL,  -- customs | cif | fas | fob | dutiable
                currency        VARCHAR NOT NULL,  -- USD, JPY ...
                source          VARCHAR NOT NULL,  -- sources.source
                vintage         VARCHAR,
                ingest_id       INTEGER
            )""",
            """CREATE TABLE exchange_rates (
                base_currency  VARCHAR NOT NULL,   -- USD
                quote_currency VARCHAR NOT NULL,   -- JPY: rate = JPY per 1 USD
                date           DATE    NOT NULL,   -- day (D) or first day of the month (M) / year (A)
                frequency      VARCHAR NOT NULL,
                rate           DOUBLE  NOT NULL,
                source         VARCHAR NOT NULL,
                vintage        VARCHAR,
                ingest_id      INTEGER
            )""",
            """CREATE TABLE hts_revisions (
                revision              VARCHAR PRIMARY KEY,  -- '2025_basic', '2025_rev_17', '2026_rev_10'
                year                  INTEGER NOT NULL,
                seq                   INTEGER NOT NULL,     -- order of revisions across years
                effective_date        DATE,                 -- publication / effective date of the revision
                policy_effective_date DATE,                 -- legal date of the policy change it carries, where different
                policy_event          VARCHAR,
                source_file           VARCHAR,
                sha256                VARCHAR
            )""",
            """CREATE TABLE hts_lines (
                revision          VARCHAR NOT NULL,
                hts_code          VARCHAR NOT NULL,  -- digits only, 4..10
                level             INTEGER NOT NULL,  -- number of digits
                indent            INTEGER,
                description       VARCHAR,
                units             VARCHAR,
                general_text      VARCHAR,           -- column 1 general, raw
                special_text      VARCHAR,
                other_text        VARCHAR,           -- column 2
                footnotes         VARCHAR,
                rate_form         VARCHAR,           -- free | ad_valorem | specific | compound | subheading_plus | none | unparsed
                ad_valorem        DOUBLE,            -- fraction
                specific_rate     DOUBLE,            -- per unit, USD
                specific_unit     VARCHAR,
                specific_rate_2   DOUBLE,            -- second specific component, if any
                specific_unit_2   VARCHAR,
                parse_note        VARCHAR,
                ingest_id         INTEGER
            )""",
            """CREATE TABLE chapter99_lines (
                revision     VARCHAR NOT NULL,
                heading      VARCHAR NOT NULL,       -- digits only, 9903xxxx
                indent       INTEGER,
                description  VARCHAR,
                general_text VARCHAR,                -- e.g. 'The duty provided in the applicable subheading + 25%'
                ad_valorem   DOUBLE,                 -- parsed add-on, fraction, where the text gives one
                footnotes    VARCHAR,
                ingest_id    INTEGER
            )""",
        ],
    ),
    (
        2,
        "ingest_replacements: each ingest that replaced an earlier version of the same file (source + file name)",
        [
            """CREATE TABLE ingest_replacements (
                new_ingest_id INTEGER NOT NULL,    -- ingest_log row of the version now loaded
                old_ingest_id INTEGER NOT NULL,    -- ingest_log row of the version whose rows were removed
                source        VARCHAR NOT NULL,
                file_name     VARCHAR NOT NULL,
                old_sha256    VARCHAR NOT NULL,
                new_sha256    VARCHAR NOT NULL,
                old_vintage   VARCHAR,
                new_vintage   VARCHAR,
                rows_removed  BIGINT  NOT NULL,
                rows_added    BIGINT  NOT NULL,
                replaced_at   TIMESTAMP NOT NULL
            )""",
        ],
    ),
    (
        3,
        "price_indices: a user's monthly price indices by origin x product (exporter or importer basis)",
        [
            """CREATE TABLE price_indices (
                period    VARCHAR NOT NULL,   -- 'YYYY-MM'
                origin    VARCHAR NOT NULL,   -- ISO3 of the exporting country
                product   VARCHAR NOT NULL,   -- HS prefix the index covers, digits
                basis     VARCHAR NOT NULL,   -- exporter (before duty) | importer (duty paid)
                currency  VARCHAR NOT NULL,   -- the index's currency: USD, JPY ...
                "index"   DOUBLE  NOT NULL,   -- > 0, any base
                source    VARCHAR NOT NULL,
                vintage   VARCHAR,
                ingest_id INTEGER
            )""",
        ],
    ),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


def migrate(con: Connection) -> int:
    """Apply every pending migration, each in its own transaction. Returns the schema version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
    )
    current = con.sql("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]
    for version, description, statements in MIGRATIONS:
        if version <= current:
            continue
        with transaction(con):
            for stmt in statements:
                con.execute(stmt)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [version, description, _dt.datetime.now(_dt.UTC).replace(tzinfo=None)],
            )
        current = version
    return current


@contextlib.contextmanager
def transaction(con: Connection) -> Iterator[Connection]:
    """BEGIN ... COMMIT, or ROLLBACK on any exception: writes land whole or not at all."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    try:
        con.execute("COMMIT")
    except duckdb.Error as exc:  # DuckDB rolled the transaction back: say why in one line, not a traceback
        msg = write_failure_message(exc)
        if msg is None:
            raise
        raise WarehouseError(msg) from None


def connect(path: str | Path | None = None, read_only: bool = False) -> Connection:
    """A connection to the warehouse file (default ``$TARIFFSCOPE_HOME/warehouse.duckdb``), migrated.

    Does not load data; most callers want ``tariffscope.ingest.warehouse.open_warehouse()``.
    """
    path = Path(path) if path is not None else _default_path()
    if read_only:
        if not path.exists():
            raise TariffscopeError(f"no warehouse at {path}: run 'tariffscope data status' once to create it")
        return _quiet(_open(path, read_only=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _quiet(_open(path, read_only=False))
    try:
        migrate(con)
    except duckdb.Error as exc:
        con.close()
        msg = damage_message(exc, path)
        if msg is None:
            raise
        raise WarehouseError(msg) from None
    return con


def _default_path() -> Path:
    """``$TARIFFSCOPE_HOME/warehouse.duckdb``; a home that is a file or cannot be made is one clear error."""
    try:
        return config.warehouse_path()
    except OSError as exc:
        home = Path(os.environ.get("TARIFFSCOPE_HOME", "~/.tariffscope")).expanduser()
        what = "it is a file, not a folder" if home.is_file() else (exc.strerror or str(exc))
        raise WarehouseError(f"cannot use TARIFFSCOPE_HOME {home}: {what}; point TARIFFSCOPE_HOME at a folder") from None


def lock_timeout() -> float:
    """Seconds to wait for another process's lock: ``$TARIFFSCOPE_LOCK_TIMEOUT`` (default 60)."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV)
    if raw is None or raw == "":
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise TariffscopeError(f"{LOCK_TIMEOUT_ENV}={raw!r}: give seconds, e.g. 60") from None
    if not math.isfinite(value) or value < 0:
        raise TariffscopeError(f"{LOCK_TIMEOUT_ENV}={raw!r}: give a number of seconds from 0 up")
    return value


def damage_message(exc: BaseException, path: str | Path | None = None) -> str | None:
    """The one-line explanation when ``exc`` says the warehouse file is damaged; None for other errors."""
    text = str(exc)
    if not any(m in text.lower() for m in _DAMAGE_MARKS):
        return None
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    where = f"the warehouse {path}" if path is not None else "the warehouse"
    return f"{where} is damaged ({first}): {REBUILD_HINT}"


# What the operating system says through DuckDB when a write cannot land (the text of strerror).
_WRITE_FAILURES = {"no space left on device": "no space left on the disk", "read-only file system":
                   "the file system is read-only", "disk quota exceeded": "the disk quota is used up",
                   "permission denied": "permission denied"}


def write_failure_message(exc: BaseException) -> str | None:
    """One line when ``exc`` is DuckDB failing to write the warehouse for an OS reason; None otherwise."""
    text = str(exc).lower()
    why = next((v for k, v in _WRITE_FAILURES.items() if k in text), None)
    if why is None:
        return None
    return f"the warehouse could not be written: {why} (nothing was stored; the warehouse is as it was)"


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def _open(path: Path, read_only: bool) -> Connection:
    """Open the file; while another process holds the lock, wait (up to ``lock_timeout()``) and retry."""
    deadline = time.monotonic() + lock_timeout()
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                if time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                raise WarehouseError(
                    f"the warehouse {path} is in use by another tariffscope process (one writer at a time; readers "
                    f"wait for it): gave up after {lock_timeout():g} s. Wait for it to finish, raise "
                    f"{LOCK_TIMEOUT_ENV}, or set TARIFFSCOPE_HOME to another folder"
                ) from None
            msg = damage_message(exc, path)
            if msg is not None:
                raise WarehouseError(msg) from None
            if isinstance(exc, duckdb.IOException):
                raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
            raise


def _quiet(con: Connection) -> Connection:
    # DuckDB's own progress bar would interleave with tariffscope's output (and JSON on stdout).
    con.execute("SET enable_progress_bar = false")
    return con


def memory() -> Connection:
    """An in-memory warehouse with the current schema (tests, scratch work)."""
    con = _quiet(duckdb.connect(":memory:"))
    migrate(con)
    return con


def query(con: Connection, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
    """Run a query and return an Arrow table."""
    if params:
        return con.sql(sql, params=list(params)).to_arrow_table()
    return con.sql(sql).to_arrow_table()


def table_counts(con: Connection) -> dict[str, int]:
    # con.sql(...).fetchall(): nothing left unfetched on the connection (duckdb 2.x refuses the next statement)
    names = [r[0] for r in con.sql("SELECT table_name FROM information_schema.tables WHERE table_schema='main'").fetchall()]
    return {n: con.sql(f'SELECT count(*) FROM "{n}"').fetchall()[0][0] for n in sorted(names)}


def check_tables(con: Connection) -> list[dict[str, Any]]:
    """Read every row of every table (DuckDB verifies each block's checksum as it reads).

    One entry per table: ``table``, ``rows``, ``ok``, ``error`` (the first line DuckDB gave) and
    ``non_finite`` (values of DOUBLE columns that are NaN or infinite: none may be stored).
    """
    names = [r[0] for r in con.sql(
        "SELECT table_name FROM information_schema.tables WHERE table_schema='main' ORDER BY 1").fetchall()]
    out: list[dict[str, Any]] = []
    for name in names:
        entry: dict[str, Any] = {"table": name, "rows": None, "ok": True, "error": None, "non_finite": 0}
        try:
            doubles = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema='main' AND table_name=? "
                "AND data_type IN ('DOUBLE', 'FLOAT', 'REAL')", [name]).fetchall()]
            # hash(t) reads every column of every row, so a damaged block anywhere is found
            bad = " + ".join(f'count(*) FILTER (WHERE NOT isfinite("{c}"))' for c in doubles) or "0"
            n, _, nonfinite = con.sql(f'SELECT count(*), sum(hash(t)), {bad} FROM "{name}" AS t').fetchall()[0]
            entry.update(rows=int(n), non_finite=int(nonfinite or 0))
            if entry["non_finite"]:
                entry.update(ok=False, error=f"{entry['non_finite']} NaN or infinite values")
        except duckdb.Error as exc:
            entry.update(ok=False, error=(str(exc).strip().splitlines() or [type(exc).__name__])[0])
        out.append(entry)
    return out
