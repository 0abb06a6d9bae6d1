"""Load the package's embedded fact tables into a warehouse, once, without any network.

``ensure_loaded(con)`` is called by ``ingest.warehouse.open_warehouse()``. The embedded Parquet files (built by
``scripts/build_embedded_data.py``, described in ``provenance.json``) go in with one
``INSERT ... SELECT FROM read_parquet(...)`` each, all in ONE transaction, with a ``sources`` row per
source id and an ``ingest_log`` row per table (``source_kind='embedded'``, the Parquet file's sha256).
HTS lines are stored as runs over revision ``seq`` and expanded here to one row per revision.

If the package's embedded data change (a rebuild), the old embedded rows are replaced in the same
transaction; rows ingested by the user are never touched.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tariffscope import config, db
from tariffscope.errors import TariffscopeError
from tariffscope.ingest import hts_json

KIND = "embedded"
_log = logging.getLogger(__name__)


@functools.cache
def provenance() -> dict[str, Any]:
    path = config.EMBEDDED_DIR / "provenance.json"
    if not path.is_file():
        raise TariffscopeError(f"embedded data missing: {path} (run 'make embedded-data')")
    return json.loads(path.read_text())


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _file_summary(files: list[dict]) -> str:
    paths = [f["path"] for f in files]
    if len(paths) <= 3:
        return ", ".join(paths)
    parent = str(Path(paths[0]).parent)
    return f"{parent}/ ({len(paths)} files: {Path(paths[0]).name} .. {Path(paths[-1]).name})"


def loaded(con: db.Connection) -> bool:
    """True when every embedded table of this package version is in the warehouse."""
    want = {t["parquet_sha256"] for t in provenance()["tables"].values()}
    have = {r[0] for r in con.execute("SELECT sha256 FROM ingest_log WHERE source_kind = ?", [KIND]).fetchall()}
    return want <= have


def ensure_loaded(con: db.Connection) -> bool:
    """Load the embedded tables if they are not there yet. Returns True if it loaded anything."""
    if loaded(con):
        return False
    prov = provenance()
    tables = prov["tables"]
    base = config.EMBEDDED_DIR
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("SET enable_progress_bar = false")  # a library call prints nothing
    pool = ThreadPoolExecutor(max_workers=1)
    hts_files = [base / n for n, t in tables.items() if t["table"] in ("hts_lines", "chapter99_lines")]
    rates = pool.submit(_rate_table, hts_files)
    try:
        return _load(con, prov, tables, base, now, rates)
    finally:
        pool.shutdown(wait=True)


def _rate_table(paths: list[Path]):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    texts: set = set()
    for p in paths:
        texts.update(pc.unique(pq.read_table(p, columns=["general_text"])["general_text"]).to_pylist())
    return hts_json.rate_table(list(texts))


def _load(con: db.Connection, prov: dict, tables: dict, base: Path, now: dt.datetime, rates) -> bool:
    with db.transaction(con):
        _drop_previous(con)
        next_id = con.execute("SELECT coalesce(max(ingest_id), 0) + 1 FROM ingest_log").fetchall()[0][0]
        revisions = _sql_path(base / "hts_revisions.parquet")
        # sources: one row per source id (the HTS tables share 'usitc_hts')
        by_source: dict[str, list[dict]] = {}
        for t in tables.values():
            by_source.setdefault(t["source"], []).append(t)
        for source, ts in sorted(by_source.items()):
            t0 = ts[0]
            files = [f for t in ts for f in t["files"]]
            notes = "; ".join(dict.fromkeys(n for t in ts for n in t["notes"]))
            periods = ", ".join(dict.fromkeys(t["periods"] for t in ts))
            con.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [source, t0["title"], t0["publisher"], _file_summary(files),
                 files[0]["sha256"] if len(files) == 1 else "per file: see provenance.json",
                 t0["vintage"], t0["build_date"], f"periods {periods}" + (f"; {notes}" if notes else "")],
            )
        # hts_revisions first (the line runs expand against their seq); the HTS lines last, so that
        # parsing their rate texts (pure Python, in a thread) overlaps the other tables' inserts
        rank = {"hts_revisions": 0, "hts_lines": 2, "chapter99_lines": 2}
        order = sorted(tables, key=lambda n: (rank.get(tables[n]["table"], 1), n))
        for name in order:
            t = tables[name]
            t_start = time.perf_counter()
            path = _sql_path(base / name)
            target = t["table"]
            if target == "hts_revisions":
                con.execute(f"INSERT INTO hts_revisions SELECT * FROM read_parquet({path})")
            elif target in ("hts_lines", "chapter99_lines"):
                cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()]
                content = [c for c in cols if c not in ("first_seq", "last_seq")]
                # the rate texts are parsed once per distinct text, by the installed parser
                con.register("_embedded_rates", rates.result())
                if target == "hts_lines":
                    parsed = {c: f'l."{c}"' for c in hts_json.RATE_COLUMNS}
                else:
                    parsed = {"ad_valorem": "l.ch99_ad_valorem"}
                names = content + list(parsed)
                sel = ", ".join([f'l."{c}"' for c in content] + list(parsed.values()))
                con.execute(
                    f"""INSERT INTO {target} (revision, {", ".join(f'"{c}"' for c in names)}, ingest_id)
                        SELECT r.revision, {sel}, {next_id}
                        FROM (SELECT l.*, p.* FROM read_parquet({path}) l   -- parse per run, then expand
                              LEFT JOIN _embedded_rates p ON p.rate_key = coalesce(l.general_text, '')) l
                        JOIN read_parquet({revisions}) r ON r.seq BETWEEN l.first_seq AND l.last_seq"""
                )
                con.unregister("_embedded_rates")
            else:
                con.execute(f"INSERT INTO {target} SELECT *, {next_id} FROM read_parquet({path})")
            _log.debug("loaded %s in %.2fs", name, time.perf_counter() - t_start)
            con.execute(
                "INSERT INTO ingest_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [next_id, KIND, f"embedded/{name}", t["parquet_sha256"], t["rows"], t["vintage"], now,
                 dt.datetime.now(dt.UTC).replace(tzinfo=None)],
            )
            next_id += 1
    return True


def _drop_previous(con: db.Connection) -> None:
    """Remove embedded rows of an older package build (same transaction as the reload)."""
    old = [r[0] for r in con.execute("SELECT ingest_id FROM ingest_log WHERE source_kind = ?", [KIND]).fetchall()]
    if not old:
        return
    ids = ", ".join(str(int(i)) for i in old)
    for table in ("trade_flows", "exchange_rates", "hts_lines", "chapter99_lines"):
        con.execute(f"DELETE FROM {table} WHERE ingest_id IN ({ids})")
    path = _sql_path(config.EMBEDDED_DIR / "hts_revisions.parquet")
    con.execute(f"DELETE FROM hts_revisions WHERE revision IN (SELECT revision FROM read_parquet({path}))")
    sources = {t["source"] for t in provenance()["tables"].values()}
    con.execute(f"DELETE FROM sources WHERE source IN ({', '.join('?' for _ in sources)})", sorted(sources))
    con.execute(f"DELETE FROM ingest_log WHERE ingest_id IN ({ids})")
