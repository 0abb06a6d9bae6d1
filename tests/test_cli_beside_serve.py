"""The CLI reads while ``tariffscope serve`` runs on the same home (issue 14, defect 7; issue 15, concurrency).

The server holds its warehouse open read-only for as long as it runs. Every read-only command must open
it read-only too: a reader that asks for a writer's connection waits for the lock the server never gives
up, and failed after 60 s. ``simulate`` and ``compare`` did exactly that (the import lines and the US
exports of a two-sided package were read through a writer's connection).

The server is the real app under uvicorn in a child process; the commands run in a second child with a
lock timeout of 1 s, so a command that wants a writer fails fast instead of hanging the test.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from _served import free_port, stop, wait_until_serving
from tariffscope.cli import main

SRC = str(Path(__file__).resolve().parents[1] / "src")

pytestmark = pytest.mark.slow

READS = [
    ["balance", "--format", "csv"],
    ["monitor", "--from", "2025-01", "--to", "2025-03", "--format", "csv"],
    ["etr", "--partner", "JPN", "--date", "2025-06-15", "--format", "json"],
    ["duty", "8703230140", "--origin", "JPN", "--date", "2025-06-15", "--value", "30000", "--format", "json"],
    ["simulate", "june-2025", "--draws", "0", "--format", "json"],
    ["compare", "japan-deal", "korea-deal", "--draws", "0", "--format", "json"],
    ["codes", "hts", "8703.23.01.40", "--format", "json"],
    ["data", "status", "--check", "--format", "json"],
]

RUN_ALL = """
import sys, json
from tariffscope.cli import main
for argv in json.loads(sys.argv[1]):
    code = main(argv)
    print(json.dumps([argv[0], code]), flush=True)
"""


@pytest.fixture()
def served_home(tmp_path: Path, warehouse):
    """A home holding a copy of the session's warehouse, with the web app serving it read-only."""
    from tariffscope import config

    home = tmp_path / "home"
    home.mkdir()
    warehouse.execute("CHECKPOINT")  # everything in the file: the copy is complete
    shutil.copy(config.warehouse_path(), home / "warehouse.duckdb")
    port = free_port()
    env = {**os.environ, "TARIFFSCOPE_HOME": str(home), "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = "import sys; from tariffscope.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        health = wait_until_serving(proc, f"http://127.0.0.1:{port}", 180)
        assert health["read_only"] is True
        yield home, env, port
    finally:
        stop(proc)


def test_read_only_commands_run_while_serve_runs(served_home) -> None:
    import json

    _, env, port = served_home
    r = subprocess.run([sys.executable, "-c", RUN_ALL, json.dumps(READS)], env={**env, "TARIFFSCOPE_LOCK_TIMEOUT": "1"},
                       capture_output=True, text=True, timeout=600)
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    codes = [tuple(json.loads(line)) for line in r.stdout.splitlines() if line.startswith('["')]
    assert codes == [(argv[0], 0) for argv in READS], r.stderr[-2000:]
    assert "in use by another tariffscope process" not in r.stderr
    assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code == 200  # the server kept answering


def test_commands_are_a_cli_subset() -> None:
    # the list above names real commands (a renamed command would make the test above prove nothing)
    for argv in READS:
        words = argv[:2] if argv[0] in ("data", "codes") else argv[:1]
        assert main([*words, "--help"]) == 0, words
