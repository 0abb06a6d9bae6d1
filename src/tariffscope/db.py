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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tariffscope import config
from tariffscope.errors import TariffscopeError

Connection = duckdb.DuckDBPyConnection

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
                [version, description, _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)],
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
    con.execute("COMMIT")


def connect(path: str | Path | None = None, read_only: bool = False) -> Connection:
    """A connection to the warehouse file (default ``$TARIFFSCOPE_HOME/warehouse.duckdb``), migrated.

    Does not load data; most callers want ``tariffscope.ingest.warehouse.open_warehouse()``.
    """
    path = Path(path) if path is not None else config.warehouse_path()
    if read_only:
        if not path.exists():
            raise TariffscopeError(f"no warehouse at {path}: run 'tariffscope data status' once to create it")
        return _quiet(_open(path, read_only=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _quiet(_open(path, read_only=False))
    migrate(con)
    return con


def _open(path: Path, read_only: bool) -> Connection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise TariffscopeError(
                f"the warehouse {path} is in use by another tariffscope process (DuckDB allows one writer): "
                "wait for it to finish, or set TARIFFSCOPE_HOME to another folder"
            ) from None
        raise TariffscopeError(f"cannot open the warehouse {path}: {exc}") from None


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
