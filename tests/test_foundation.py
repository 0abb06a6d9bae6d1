from __future__ import annotations

import tariffscope as ts
from tariffscope import db


def test_public_api_is_listed():
    for name in ts.__all__:
        assert hasattr(ts, name), name


def test_migrations_create_schema_once(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    assert db.migrate(con) == db.SCHEMA_VERSION
    counts = db.table_counts(con)
    for table in ["trade_flows", "exchange_rates", "hts_lines", "chapter99_lines", "ingest_log", "sources"]:
        assert table in counts
    assert counts["schema_version"] == db.SCHEMA_VERSION


def test_transaction_rolls_back_on_error(tmp_path):
    con = db.connect(tmp_path / "w.duckdb")
    try:
        with db.transaction(con):
            con.execute("INSERT INTO sources (source, title) VALUES ('x', 'y')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert con.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


def test_warehouse_locked_by_another_process_is_one_clear_error(tmp_path, monkeypatch):
    import subprocess
    import sys

    import pytest

    from tariffscope.errors import TariffscopeError

    path = tmp_path / "w.duckdb"
    db.connect(path).close()
    monkeypatch.setenv("TARIFFSCOPE_LOCK_TIMEOUT", "0.5")  # a writer now waits for the lock; not 30 s here
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(TariffscopeError, match="in use by another tariffscope process"):
            db.connect(path)
    finally:
        holder.kill()
        holder.wait()
