"""The warehouse under damage and contention: a damaged file is named with the way out (``data
rebuild``), ``data status --check`` reads every table, readers open read-only and run beside each
other and beside a writer's lock, and a writer waits for the lock with a timeout and a clear message.

Lock tests use child processes: DuckDB shares one database instance inside a process, so locks only
show between processes.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tariffscope.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse) -> Path:
    """A home of its own holding a copy of the session's ready warehouse."""
    from tariffscope import config

    h = tmp_path / "home"
    h.mkdir()
    src = config.warehouse_path()
    warehouse.execute("CHECKPOINT")  # everything in the file, nothing left in the WAL
    shutil.copy(src, h / "warehouse.duckdb")
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(h))
    return h


def _damage(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        for off in range(300_000, size, 1_000_000):  # blocks of the data tables, not the header
            fh.seek(off)
            fh.write(b"\xff" * 512)


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return err


@pytest.mark.raw
def test_damaged_warehouse_says_so_and_rebuild_restores_it(home: Path, tmp_path: Path, raw: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "DEXJPUS_first.csv"  # a user ingest the log must bring back
    mine.write_text("".join((raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv").open().readlines()[:40]))
    assert main(["data", "ingest", str(mine)]) == 0
    capsys.readouterr()
    _damage(home / "warehouse.duckdb")

    assert main(["balance", "--format", "json"]) == 1
    err = _err(capsys)
    assert "is damaged" in err and "tariffscope data rebuild" in err and len(err.strip().splitlines()) == 1
    assert main(["data", "status", "--check", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    import json

    report = json.loads(out)
    assert not report["ok"] and any(not t["ok"] for t in report["tables"])
    assert "failed the check" in err and "data rebuild" in err

    assert main(["data", "rebuild", "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr()[0])
    assert rep["moved_to"] and Path(rep["moved_to"]).exists()  # the damaged file is kept, never deleted
    assert [Path(r["path"]).name for r in rep["reingested"]] == [mine.name]
    assert rep["reingested"][0]["source"] == "fred_csv:DEXJPUS_first"
    assert main(["data", "status", "--check"]) == 0
    assert "all" in capsys.readouterr()[0]
    assert main(["data", "status", "--format", "json"]) == 0
    status = json.loads(capsys.readouterr()[0])
    assert any(s["source"] == "fred_csv:DEXJPUS_first" for s in status["sources"])


def test_not_a_duckdb_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "warehouse.duckdb").write_bytes(b"garbage\n")
    assert main(["data", "status"]) == 1
    assert "is damaged" in _err(capsys)
    assert main(["data", "rebuild"]) == 0
    assert "cannot be opened" in capsys.readouterr()[0]
    assert main(["data", "status", "--check"]) == 0


def test_check_counts_non_finite_values() -> None:
    from tariffscope import db

    con = db.memory()
    con.execute("INSERT INTO exchange_rates VALUES ('USD', 'JPY', DATE '2025-01-02', 'D', 'inf'::DOUBLE, 's', NULL, 1)")
    bad = {r["table"]: r for r in db.check_tables(con) if not r["ok"]}
    assert list(bad) == ["exchange_rates"] and bad["exchange_rates"]["non_finite"] == 1


def _child(code: str, home: Path, **env: str) -> subprocess.Popen[str]:
    e = {**os.environ, "TARIFFSCOPE_HOME": str(home), "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
         **env}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=e, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


HOLD_WRITE = """
    import sys, time
    from tariffscope.ingest.warehouse import open_warehouse
    con = open_warehouse(read_only=False)
    print("held", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so (a fixed sleep raced slow starts under load)
    con.close()
"""
READ = """
    from tariffscope.ingest.warehouse import open_warehouse
    con = open_warehouse()
    ro = con.sql("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    n = con.sql("SELECT count(*) FROM trade_flows").fetchall()[0][0]
    print(ro, n > 0)
"""


def test_readers_open_read_only_and_run_together(home: Path) -> None:
    holder = _child(READ.replace('print(ro, n > 0)', 'print("held", flush=True); import time; time.sleep(4)'), home)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    readers = [_child(READ, home, TARIFFSCOPE_LOCK_TIMEOUT="0") for _ in range(2)]
    outs = [r.communicate(timeout=120) for r in readers]
    holder.wait(timeout=60)
    for (out, err), r in zip(outs, readers, strict=True):
        assert r.returncode == 0, err
        assert out.split() == ["True", "True"]  # read-only, and it sees the data


def test_writer_waits_for_the_lock_then_says_so(home: Path) -> None:
    holder = _child(HOLD_WRITE, home)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    t0 = time.monotonic()
    impatient = _child(HOLD_WRITE.replace("print(\"held\", flush=True)", "pass"), home, TARIFFSCOPE_LOCK_TIMEOUT="0.5")
    out, err = impatient.communicate(timeout=120)
    assert impatient.returncode != 0
    assert "in use by another tariffscope process" in err and "TARIFFSCOPE_LOCK_TIMEOUT" in err
    assert time.monotonic() - t0 >= 0.5
    patient = _child(READ, home, TARIFFSCOPE_LOCK_TIMEOUT="60")  # a reader waits for the writer, then reads
    time.sleep(1.0)
    assert patient.poll() is None  # still waiting for the writer
    assert holder.stdin is not None
    holder.stdin.write("release\n")
    holder.stdin.close()
    out, err = patient.communicate(timeout=120)
    holder.wait(timeout=60)
    assert patient.returncode == 0, err
    assert out.split() == ["True", "True"]


def test_lock_timeout_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from tariffscope import db
    from tariffscope.errors import TariffscopeError

    for bad in ("abc", "-1", "inf", "nan"):
        monkeypatch.setenv("TARIFFSCOPE_LOCK_TIMEOUT", bad)
        with pytest.raises(TariffscopeError, match="TARIFFSCOPE_LOCK_TIMEOUT"):
            db.lock_timeout()
    monkeypatch.setenv("TARIFFSCOPE_LOCK_TIMEOUT", "2.5")
    assert db.lock_timeout() == 2.5


@pytest.mark.raw
def test_read_only_home_still_serves_reads(home: Path, tmp_path: Path, raw: Path) -> None:
    # a read-only file system (a bind mount remounted read-only in a private mount namespace: needs root)
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("cannot make a private mount namespace here (unshare -m needs root)")
    mine = tmp_path / "DEXJPUS_first.csv"  # a file a writer would ingest: refused in one line, nothing written
    mine.write_text("".join((raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv").open().readlines()[:40]))
    code = "import sys; from tariffscope.cli import main; sys.exit(main(sys.argv[1:]))"
    script = (f"mount --bind {home} {home} && mount -o remount,ro,bind {home} && "
              f"{sys.executable} -c '{code}' balance --format csv && "
              f"{{ {sys.executable} -c '{code}' data ingest {mine}; echo \"ingest exit $?\"; }}")
    env = {**os.environ, "TARIFFSCOPE_HOME": str(home), "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "TARIFFSCOPE_LOCK_TIMEOUT": "1"}
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("sector,exports,imports,balance") and "TOTAL" in r.stdout
    assert "ingest exit 1" in r.stdout and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("Error: ") and len(r.stderr.strip().splitlines()) == 1
    assert "Read-only file system" in r.stderr
