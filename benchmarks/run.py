"""Run every benchmark (``make bench``): each ``bench_*.py`` in turn, in its own process.

Usage: ``python benchmarks/run.py [AREA ...]`` (e.g. ``ingest tariffs``); results land in
``benchmarks/results/<area>.json`` and are printed as tables, each area with the machine's load average
(1/5/15 min) before and after it: a figure taken on a busy machine says so beside it.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _util import load_text, loadavg


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in argv]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===  load average (1/5/15 min) before: {load_text(loadavg())}", flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.stem} done ===  load average after: {load_text(loadavg())}"
              f"{'' if not rc else f' (exit {rc})'}", flush=True)
        if rc:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
