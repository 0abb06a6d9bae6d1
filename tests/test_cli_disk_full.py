"""A disk that fills up while an ingest commits (issue 15: "disk-full IOException").

DuckDB refuses the COMMIT ("Could not write file ...wal: No space left on device"): the transaction is
rolled back and the warehouse keeps its old state, but the error came out of the CLI as a traceback.
It is now one line saying the disk is full and that nothing was stored.

The full disk is real: a small tmpfs mounted in a private mount namespace (``unshare -m``, which needs
root; skipped with the reason elsewhere), holding a copy of the session's warehouse and little room.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
CLI = "import sys; from tariffscope.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.raw
def test_ingest_on_a_full_disk_is_one_line_and_stores_nothing(raw: Path, tmp_path: Path, warehouse) -> None:
    from tariffscope import config

    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a private mount namespace here (unshare -m needs root)")
    warehouse.execute("CHECKPOINT")  # everything in the file: the copy is complete
    size = config.warehouse_path().stat().st_size
    # a whole HTS revision under a new name and with other bytes (a new revision to the warehouse): it needs
    # several MB, more than the 3 MB left beside the warehouse
    doc = json.loads(gzip.decompress((raw / "hts/hts_2026_rev_10.json.gz").read_bytes()))
    doc[5]["description"] = f"{doc[5]['description']} (a copy)"
    new = tmp_path / "hts_2027_basic.json.gz"
    new.write_bytes(gzip.compress(json.dumps(doc).encode()))
    home = tmp_path / "home"
    home.mkdir()
    mb = size // 2**20 + 3
    py = sys.executable
    script = (f"mount -t tmpfs -o size={mb}m tmpfs {home} && cp {config.warehouse_path()} {home}/warehouse.duckdb && "
              f"sha256sum {home}/warehouse.duckdb && "
              f"{{ {py} -c '{CLI}' data ingest {new}; echo \"ingest exit $?\"; }} && "
              f"{py} -c '{CLI}' data status --check --format json > {tmp_path}/check.json && "
              f"sha256sum {home}/warehouse.duckdb")
    env = {**os.environ, "TARIFFSCOPE_HOME": str(home), "TARIFFSCOPE_LOCK_TIMEOUT": "5",
           "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert "ingest exit 1" in r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "no space left on the disk" in lines[0], r.stderr
    assert "nothing was stored" in lines[0]
    digests = [ln.split()[0] for ln in r.stdout.splitlines() if ln.endswith("warehouse.duckdb")]
    assert len(digests) == 2 and digests[0] == digests[1]  # the warehouse file is as it was
    assert json.loads((tmp_path / "check.json").read_text())["ok"] is True
    shutil.rmtree(home, ignore_errors=True)
