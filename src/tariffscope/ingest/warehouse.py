"""Opening the warehouse ready to use: connected and migrated (``db``), filled with the embedded data.

``db`` is the lowest layer and knows connections and schema only; filling a new warehouse with the
package's embedded fact tables is an ingest (``ingest.embedded``). This module composes the two, one
layer above ``db``, so that ``db`` never imports ``ingest``. Everything that needs the data (the domain,
the API, the front ends through ``api.open_warehouse``) opens the warehouse here.

Readers open the file read-only once it is ready, so any number of them run together and alongside
``serve``; only a warehouse that still needs its schema or embedded data is opened for writing, once.
``rebuild`` re-creates a damaged warehouse from the embedded data and the ingests its log recorded.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tariffscope import db
from tariffscope.errors import TariffscopeError, WarehouseError
from tariffscope.ingest import embedded


def open_warehouse(path: str | Path | None = None, read_only: bool | None = None) -> db.Connection:
    """Connect, migrate, and on first use load the embedded fact tables shipped with the package.

    ``read_only=True`` opens an existing warehouse as it is (nothing loaded, nothing written);
    ``read_only=False`` opens it for writing (ingests). ``None`` (a reader) opens it read-only when it is
    ready, else sets it up once for writing and then reopens it read-only.
    """
    if read_only:
        return _deterministic(db.connect(path, read_only=True))
    if read_only is False:
        con = db.connect(path)
        embedded.ensure_loaded(con)
        return con
    target = Path(path) if path is not None else db._default_path()
    if target.exists():
        reader = _reader(target)
        if reader is not None:
            return reader
    con = db.connect(target)
    try:
        embedded.ensure_loaded(con)
    finally:
        con.close()
    return _reader(target) or db.connect(target)


def _reader(path: Path) -> db.Connection | None:
    """A read-only connection when the warehouse is current; None when it needs setting up first."""
    try:
        con = db.connect(path, read_only=True)
    except WarehouseError:
        raise
    except db.DatabaseError as exc:
        # this process already holds the file open for writing (DuckDB refuses a second configuration)
        if "different configuration" in str(exc):
            return _writer_if_ready(path)
        raise
    try:
        version = con.sql("SELECT coalesce(max(version), 0) FROM schema_version").fetchall()[0][0]
        if version == db.SCHEMA_VERSION and embedded.loaded(con):
            return _deterministic(con)
    except db.DatabaseError as exc:
        con.close()
        msg = db.damage_message(exc, path)
        if msg is not None:
            raise WarehouseError(msg) from None
        return None  # no schema_version table yet: set it up for writing
    con.close()
    return None


def _deterministic(con: db.Connection) -> db.Connection:
    """One DuckDB thread per reader: a parallel sum of doubles adds in a different order on each run, so the
    last digits of a total moved between runs; the warehouse is small, the readers' queries stay fast."""
    con.execute("SET threads = 1")
    return con


def _writer_if_ready(path: Path) -> db.Connection | None:
    con = db.connect(path)
    if embedded.loaded(con):
        return _deterministic(con)  # read through the process's writer, summed as a reader sums
    con.close()
    return None


@dataclass
class RebuildReport:
    """What ``rebuild`` did: where the old file went and which logged ingests came back."""

    warehouse: str
    moved_to: str | None
    reingested: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def logged_ingests(path: Path) -> tuple[list[dict[str, Any]], str | None]:
    """The user ingests recorded in a (possibly damaged) warehouse, oldest first, with their source ids.

    Returns (ingests, note); the note says why none could be read.
    """
    if not path.exists():
        return [], None
    try:
        con = db.connect(path, read_only=True)
    except (TariffscopeError, db.DatabaseError):
        return [], "the old file cannot be opened, so its ingest log is lost: ingest your own files again"
    try:
        rows = con.sql("SELECT ingest_id, source_kind, path, sha256 FROM ingest_log "
                       f"WHERE source_kind <> '{embedded.KIND}' ORDER BY ingest_id").fetchall()
        try:
            by_file: dict[str, list[str]] = {}
            for source, file in con.sql("SELECT source, file FROM sources WHERE file IS NOT NULL").fetchall():
                by_file.setdefault(file, []).append(source)
        except db.DatabaseError:
            by_file = {}
    except db.DatabaseError:
        return [], "the old ingest log is damaged too: ingest your own files again"
    finally:
        con.close()
    out = []
    for ingest_id, kind, file, sha in rows:
        sources = by_file.get(file, [])
        out.append({"ingest_id": int(ingest_id), "kind": kind, "path": file, "sha256": sha,
                    "source": sources[0] if len(sources) == 1 else None})
    return out, None


def rebuild(path: str | Path | None = None) -> RebuildReport:
    """Move the warehouse aside and re-create it: embedded data, then every logged ingest whose file is there.

    The old file is kept beside the new one (``warehouse.duckdb.damaged-<UTC time>``), never deleted.
    """
    from tariffscope.ingest.core import ingest, sha256_file

    target = Path(path) if path is not None else db._default_path()
    ingests, note = logged_ingests(target)
    moved = None
    if target.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        moved_path = target.with_name(f"{target.name}.damaged-{stamp}")
        os.replace(target, moved_path)
        wal = target.with_name(target.name + ".wal")
        if wal.exists():
            os.replace(wal, moved_path.with_name(moved_path.name + ".wal"))
        moved = str(moved_path)
    report = RebuildReport(str(target), moved, notes=[note] if note else [])
    con = open_warehouse(target, read_only=False)
    try:
        seen: set[str] = set()
        for item in ingests:
            file = Path(item["path"])
            if item["path"] in seen:
                continue  # a file replaced by a later version: its latest bytes are ingested once
            seen.add(item["path"])
            if not file.is_file():
                report.skipped.append({**item, "reason": "file no longer there"})
                continue
            try:
                res = ingest(file, kind=item["kind"], con=con, source=item["source"])
            except TariffscopeError as exc:
                report.skipped.append({**item, "reason": str(exc)})
                continue
            changed = sha256_file(file) != item["sha256"]
            report.reingested.append({**item, "status": res.status, "rows": res.rows,
                                      "note": "the file changed since it was logged: its current bytes were ingested"
                                      if changed else None})
    finally:
        con.close()
    return report
