"""The package is self-contained: at run time it reads its own package data and the user's warehouse,
never the raw folder (``../shared/data``, ``$TARIFFSCOPE_RAW_DATA``), which only the build scripts,
the ingest readers (files a user names) and the ``raw``-marked tests read.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import tariffscope
from tariffscope.models.ge_spec import GE_DATA_DIR, list_experiments, resolve_experiment

SRC = Path(tariffscope.__file__).resolve().parent
REPO = SRC.parents[1]

# Runs CLI commands in a fresh process with an audit hook that records every file opened or listed
# under the watched folders: any path built to the raw data, however it was built, shows up.
_PROBE = textwrap.dedent("""
    import json, os, sys
    watched = [os.path.realpath(p) for p in json.loads(sys.argv[1])]
    hits = []
    def hook(event, args):
        if event in ("open", "os.listdir", "os.scandir", "glob.glob") and args and args[0] is not None:
            try:
                path = os.path.realpath(os.fsdecode(args[0]))
            except TypeError:
                return
            if any(path == w or path.startswith(w + os.sep) for w in watched):
                hits.append(path)
    sys.addaudithook(hook)
    from tariffscope.cli import main
    codes = [main(cmd) for cmd in json.loads(sys.argv[2])]
    print(json.dumps({"codes": codes, "hits": sorted(set(hits))}))
""")


def test_no_module_outside_ingest_and_config_asks_for_the_raw_folder() -> None:
    offenders = sorted(str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
                       if p.relative_to(SRC).parts[0] != "ingest" and p.name != "config.py"
                       and "raw_data_dir" in p.read_text(encoding="utf-8"))
    assert offenders == []


@pytest.mark.slow  # a fresh warehouse, a PE solve over 2024 flows and a GE solve, in a subprocess
def test_commands_read_no_raw_file(tmp_path: Path) -> None:
    """The README tour's commands (and the two that used to read raw files: compare's exporter
    exposure, GE by name) run with the raw folder pointed at an empty one and open nothing in either."""
    empty = tmp_path / "raw"
    empty.mkdir()
    watched = [str(empty), str(REPO.parent / "shared"), os.environ.get("TARIFFSCOPE_RAW_DATA") or str(empty)]
    commands = [
        ["compare", "june-2025", "japan-deal", "--draws", "0", "--format", "json"],
        ["ge", "simulate", "us-tariffs-2025-japan", "--format", "json"],
        ["duty", "8703.23.01.40", "--origin", "Japan", "--date", "2025-06-15", "--value", "30000", "--format", "json"],
        ["etr", "--partner", "JPN", "--date", "2025-10-15", "--by", "authority", "--format", "json"],
        ["balance", "--reporter", "USA", "--partner", "JPN", "--period", "2024", "--by", "sector", "--format", "json"],
        ["monitor", "--reporter", "USA", "--partner", "JPN", "--month", "2025-05", "--by", "hs4", "--format", "json"],
    ]
    env = dict(os.environ, TARIFFSCOPE_HOME=str(tmp_path / "home"), TARIFFSCOPE_RAW_DATA=str(empty),
               PYTHONPATH=os.pathsep.join([str(SRC.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(watched), json.dumps(commands)],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["hits"] == []
    assert report["codes"] == [0] * len(commands), proc.stderr[-2000:]


def test_every_shipped_ge_experiment_names_a_packaged_table() -> None:
    shipped = list_experiments()
    assert {"us_tariffs_2025_japan", "trade_without_borders", "nafta_removal", "canada_japan_pta"} <= set(shipped)
    prov = json.loads((GE_DATA_DIR / "provenance.json").read_text())["tables"]
    for stem, path in shipped.items():
        table = yaml.safe_load(path.read_text())["data"]["path"]
        assert (GE_DATA_DIR / table).is_file() and table in prov, (stem, table)
        assert resolve_experiment(stem.replace("_", "-")) == path


def test_packaged_facts_carry_provenance() -> None:
    import hashlib

    for folder in (SRC / "data" / "facts", GE_DATA_DIR):
        tables = json.loads((folder / "provenance.json").read_text())["tables"]
        assert tables
        for name, t in tables.items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == t["sha256"], name
            assert t["files"] and all(len(f["sha256"]) == 64 for f in t["files"]), name
            assert t["vintage"] and t["build_date"], name


def test_a_users_spec_with_its_own_data_path_still_runs(tmp_path: Path) -> None:
    """A SPEC outside the package, naming its own table relative to itself, reads that table."""
    import pandas as pd

    from tariffscope.models.ge_spec import run_spec

    shipped = yaml.safe_load(resolve_experiment("us-tariffs-2025-japan").read_text())
    table = pd.read_parquet(GE_DATA_DIR / shipped["data"]["path"])
    small = table[table.year == 2006]
    small = small[small.exporter.isin(["USA", "JPN", "CAN", "DEU"]) & small.importer.isin(["USA", "JPN", "CAN", "DEU"])]
    (tmp_path / "mine").mkdir()
    small.to_csv(tmp_path / "mine" / "four.csv", index=False)
    spec = dict(shipped, name="four", data={"path": "four.csv", "year": 2006, "label": "four countries"})
    (tmp_path / "mine" / "four.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run = run_spec(tmp_path / "mine" / "four.yaml")
    assert run.result.countries == ("CAN", "DEU", "JPN", "USA")
    assert run.to_frame().loc["JPN", "real_gdp_change_pct"] < 0
    (tmp_path / "mine" / "four.csv").unlink()
    with pytest.raises(tariffscope.errors.InputError, match="data file 'four.csv' not found"):
        run_spec(tmp_path / "mine" / "four.yaml")
