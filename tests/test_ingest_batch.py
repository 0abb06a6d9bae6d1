"""Batch ingest (``data ingest A B C`` / ``data ingest DIR``, ``ingest_many``): one checksum pass, every
file read and checked first, one transaction for the batch (all or none) with a provenance and
ingest-log row per file; worker threads give the same warehouse as one thread.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from tariffscope import db
from tariffscope.cli import main
from tariffscope.errors import IngestError
from tariffscope.ingest import core

pytestmark = pytest.mark.raw

PARTNERS = ["5700", "5880", "1220"]  # China, Japan, Canada: three Census API Parquet pulls
HTS = ["hts_2025_basic.json.gz", "hts_2025_rev_1.json.gz"]


def digest(con: db.Connection, path: Path) -> str:
    con.execute("CHECKPOINT")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copies(raw: Path, dest: Path) -> list[Path]:
    dest.mkdir()
    out = []
    for code in PARTNERS:
        out.append(Path(shutil.copy(raw / f"census/hs10_imports_2024_by_partner/{code}.parquet", dest)))
    out.append(Path(shutil.copy(raw / "fx/DEXJPUS_daily_2021-05_2026-05.csv", dest)))
    return out


def test_batch_is_one_transaction_with_a_log_row_per_file(raw: Path, tmp_path: Path) -> None:
    files = copies(raw, tmp_path / "in")
    con = db.connect(tmp_path / "w.duckdb")
    res = core.ingest_many(files, con=con, workers=1)
    assert [r.status for r in res] == ["ingested"] * 4 and [r.path for r in res] == [str(f) for f in files]
    log = con.execute("SELECT ingest_id, path, sha256, rows FROM ingest_log ORDER BY ingest_id").fetchall()
    assert [(r.ingest_id, r.path, r.sha256, r.total_rows) for r in res] == log
    assert all(r.sha256 == core.sha256_file(Path(r.path)) for r in res)
    for r in res:  # each file's rows carry its own ingest id and source, with a sources row per file
        table = "exchange_rates" if r.kind == "fred_csv" else "trade_flows"
        n = con.execute(f"SELECT count(*) FROM {table} WHERE ingest_id = ? AND source = ?", [r.ingest_id, r.source]).fetchall()
        assert n[0][0] == r.total_rows > 0
        assert con.execute("SELECT sha256 FROM sources WHERE source = ?", [r.source]).fetchall() == [(r.sha256,)]
    # again: every file is 'already', nothing written
    before = digest(con, tmp_path / "w.duckdb")
    assert [r.status for r in core.ingest_many(files, con=con)] == ["already"] * 4
    assert digest(con, tmp_path / "w.duckdb") == before
    con.close()


def test_a_refused_file_refuses_the_batch(raw: Path, tmp_path: Path) -> None:
    files = copies(raw, tmp_path / "in")
    bad = files[1]
    bad.write_bytes(bad.read_bytes()[:-200])  # a cut Parquet file, between two good ones
    path = tmp_path / "w.duckdb"
    con = db.connect(path)
    core.ingest(raw / "fx/EXJPUS_monthly_to_2024-12.csv", con=con)  # something to protect
    before = digest(con, path)
    for workers in (1, 2):
        with pytest.raises(IngestError) as ei:
            core.ingest_many(files, con=con, workers=workers)
        assert ei.value.path == str(bad)
        assert digest(con, path) == before
    # refused inside the transaction (an HTS revision loaded twice, from two files): the batch rolls back
    hts = [raw / "hts" / HTS[0], raw / "hts/hts_2025_basic_edition.csv"]
    with pytest.raises(IngestError, match="HTS revision 2025_basic is already loaded from a different file"):
        core.ingest_many([files[0], *hts], con=con, workers=1)
    assert digest(con, path) == before
    con.close()


def test_workers_give_the_same_warehouse(raw: Path, tmp_path: Path) -> None:
    files = [raw / "hts" / n for n in HTS] + copies(raw, tmp_path / "in")
    got = []
    for workers in (1, 2):
        con = db.connect(tmp_path / f"w{workers}.duckdb")
        res = core.ingest_many(files, con=con, workers=workers)
        got.append(([(r.kind, r.source, r.rows, r.sha256) for r in res],
                    con.execute("SELECT * EXCLUDE (ingest_id) FROM hts_lines ORDER BY revision, hts_code").fetchall(),
                    con.execute("SELECT * FROM trade_flows ORDER BY ALL").fetchall(),
                    con.execute("SELECT * EXCLUDE (finished_at, started_at) FROM ingest_log ORDER BY ingest_id").fetchall()))
        con.close()
    assert got[0] == got[1]


def test_one_checksum_pass(raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTS readers record the digest the batch computed instead of hashing the file again."""
    from tariffscope.ingest import hts_json

    calls: list[Path] = []
    real = core.sha256_file
    monkeypatch.setattr(core, "sha256_file", lambda p: calls.append(Path(p)) or real(p))

    def no_second_hash(*args: object) -> None:
        raise AssertionError("the HTS reader hashed the file again")

    monkeypatch.setattr(hts_json, "hashlib", SimpleNamespace(sha256=no_second_hash))  # the reader's module only
    con = db.connect(tmp_path / "w.duckdb")
    files = [raw / "hts" / n for n in HTS]
    res = core.ingest_many(files, con=con, workers=1)
    assert calls == files
    assert con.execute("SELECT sha256 FROM hts_revisions ORDER BY seq").fetchall() == [(r.sha256,) for r in res]
    con.close()


def test_same_bytes_twice_in_a_batch_are_ingested_once(raw: Path, tmp_path: Path) -> None:
    files = copies(raw, tmp_path / "in")
    twin = Path(shutil.copy(files[0], tmp_path / "twin.parquet"))
    con = db.connect(tmp_path / "w.duckdb")
    res = core.ingest_many([files[0], twin], con=con, workers=1)
    assert [r.status for r in res] == ["ingested", "already"] and res[1].ingest_id == res[0].ingest_id
    assert con.execute("SELECT count(*) FROM ingest_log").fetchall() == [(1,)]
    con.close()


def test_cli_ingests_a_directory(raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARIFFSCOPE_HOME", str(tmp_path / "home"))
    d = tmp_path / "fx"
    d.mkdir()
    for n in ("DEXJPUS_daily_2021-05_2026-05.csv", "EXJPUS_monthly_to_2024-12.csv"):
        lines = (raw / "fx" / n).read_text().splitlines(keepends=True)
        (d / n.replace(".csv", "_mine.csv")).write_text("".join(lines[:200]))  # not the embedded bytes
    shutil.copy(raw / "hts/revision_dates.csv", d)  # a reference file beside the data: left out, not an error
    assert main(["data", "ingest", str(d), "--format", "json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert [Path(r["path"]).name for r in out] == ["DEXJPUS_daily_2021-05_2026-05_mine.csv", "EXJPUS_monthly_to_2024-12_mine.csv"]
    assert [r["status"] for r in out] == ["ingested", "ingested"]
    (d / "notes.txt").write_text("hello\n")  # a file of no known kind: the whole command is refused first
    assert main(["data", "ingest", str(d)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: nothing ingested: ") and "notes.txt" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["data", "ingest", str(empty)]) == 1
    assert "a directory with no data files in it" in capsys.readouterr().err
