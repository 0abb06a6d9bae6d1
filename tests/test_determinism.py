"""Same input, same bytes: every output command run twice gives identical stdout (issue 15).

Totals used to move in their last digits between runs (DuckDB summed doubles on several threads, in a
different order each time) and GE JSON embedded wall-clock seconds. Two commands are also run in two
fresh processes, where thread scheduling differs most; the rest run in-process twice.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tariffscope.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")

COMMANDS = [
    ["balance", "--currency", "JPY", "--format", "json"],
    ["balance", "--by", "hs4", "--format", "csv"],
    ["balance", "--period", "2025-03", "--format", "json"],
    ["monitor", "--from", "2024-01", "--to", "2025-06", "--by", "hs4", "--format", "json"],
    ["monitor", "--currency", "JPY", "--month", "2025-05", "--format", "csv"],
    ["etr", "--partner", "JPN", "--from", "2025-01-01", "--to", "2025-12-01", "--format", "csv"],
    ["duty", "8703230140", "--origin", "JPN", "--date", "2025-06-15", "--value", "30000", "--format", "json"],
    ["simulate", "june-2025", "--format", "json"],
    ["simulate", "july-9-hike", "--draws", "20", "--seed", "3", "--workers", "1", "--format", "csv"],
    ["compare", "june-2025", "japan-deal", "--draws", "10", "--workers", "1", "--format", "json"],
    ["ge", "simulate", "canada_japan_pta_exact", "--format", "json"],
    ["scenarios", "show", "july-9-hike"],
    ["codes", "hts", "8703.23.01.40", "--format", "json"],
    ["data", "status", "--format", "json"],
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.mark.parametrize("argv", COMMANDS, ids=[" ".join(a[:3]) for a in COMMANDS])
def test_same_bytes_twice_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    first = _run(argv, capsys)
    assert first.strip()
    assert _run(argv, capsys) == first


def test_ge_json_has_timings_only_on_request(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _run(["ge", "simulate", "canada_japan_pta_exact", "--format", "json"], capsys)
    timed = _run(["ge", "simulate", "canada_japan_pta_exact", "--format", "json", "--timings"], capsys)
    assert '"seconds"' not in plain and '"seconds"' in timed


@pytest.mark.parametrize("argv", [COMMANDS[0], COMMANDS[5]], ids=["balance JPY json", "etr csv"])
def test_same_bytes_in_two_processes(argv: list[str], warehouse, tmp_path: Path) -> None:
    import shutil

    from tariffscope import config

    warehouse.execute("CHECKPOINT")  # everything in the file; the children read a copy (this process writes)
    (tmp_path / "home").mkdir()
    shutil.copy(config.warehouse_path(), tmp_path / "home" / "warehouse.duckdb")
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "TARIFFSCOPE_HOME": str(tmp_path / "home")}
    code = "import sys; from tariffscope.cli import main; sys.exit(main(sys.argv[1:]))"
    outs = [subprocess.run([sys.executable, "-c", code, *argv], env=env, capture_output=True, timeout=300)
            for _ in range(2)]
    for r in outs:
        assert r.returncode == 0, r.stderr.decode()
    assert outs[0].stdout == outs[1].stdout and outs[0].stdout


def test_brief_same_bytes_twice_and_timings_only_on_request(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The brief printed its build time and each section's seconds, so two builds never matched."""
    args = ["brief", "--partner", "CHE", "--draws", "2", "--quiet"]
    paths = [tmp_path / f"b{i}.html" for i in range(3)]
    _run(args + ["--out", str(paths[0])], capsys)
    _run(args + ["--out", str(paths[1])], capsys)
    _run(args + ["--out", str(paths[2]), "--timings"], capsys)
    first = paths[0].read_bytes()
    assert first == paths[1].read_bytes()
    timed = paths[2].read_text(encoding="utf-8")
    for stamp in (" UTC by tariffscope", "Sections built in"):
        assert stamp in timed and stamp not in first.decode()
