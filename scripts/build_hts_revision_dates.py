#!/usr/bin/env python
"""Build ``src/tariffscope/data/hts/revision_dates.csv``: the dates of each HTS revision, shipped with the package.

Source: ``hts/revision_dates.csv`` of the raw data (revision -> publication date, the legal date where it
differs, the policy event; curated by the Yale Budget Lab tariff tracker). The HTS readers
(``tariffscope.ingest.hts_json``) date a revision they ingest from this table when no
``revision_dates.csv`` lies beside the file, so ingest never reads the raw folder at run time.

Kept: ``revision`` (full name: ``2025_basic``, ``2025_rev_17``, ``2026_rev_10``; the source writes the
2025 ones as ``basic``, ``rev_17``), ``effective_date``, ``policy_effective_date``, ``policy_event``;
``NA`` becomes empty. The tracker's review columns are dropped. ``provenance.json`` beside the output
records the source file, its sha256, the row count and the build date.

Usage: ``.venv/bin/python scripts/build_hts_revision_dates.py [--raw DIR]``
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "src" / "tariffscope" / "data" / "hts"
COLUMNS = ("revision", "effective_date", "policy_effective_date", "policy_event")
_NAME = re.compile(r"^(?:(\d{4})_)?(basic|rev_\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def full_name(name: str) -> str:
    """'rev_17' -> '2025_rev_17' (the source leaves the year off for 2025), '2026_rev_1' as is."""
    m = _NAME.match(name.strip())
    if not m:
        raise SystemExit(f"revision_dates.csv: unexpected revision name {name!r}")
    return f"{m.group(1) or '2025'}_{m.group(2)}"


def clean(value: str | None) -> str:
    v = (value or "").strip()
    return "" if v == "NA" else v


def build(raw: Path, out_dir: Path = OUT_DIR) -> int:
    src = raw / "hts" / "revision_dates.csv"
    if not src.is_file():
        raise SystemExit(f"no {src}: pass --raw DIR (the raw data folder)")
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out_rows = []
    for i, r in enumerate(rows, start=2):
        row = {"revision": full_name(r["revision"])} | {c: clean(r.get(c)) for c in COLUMNS[1:]}
        for c in ("effective_date", "policy_effective_date"):
            if row[c] and not _DATE.match(row[c]):
                raise SystemExit(f"{src}:{i}: {c} {row[c]!r} is not an ISO date")
        out_rows.append(row)
    names = [r["revision"] for r in out_rows]
    if len(set(names)) != len(names):
        raise SystemExit(f"{src}: a revision is listed twice")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "revision_dates.csv"
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(out_rows)
    prov = {
        "script": "scripts/build_hts_revision_dates.py",
        "output": {"file": out.name, "sha256": hashlib.sha256(out.read_bytes()).hexdigest(), "rows": len(out_rows)},
        "source": {"file": "hts/revision_dates.csv", "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
                   "curator": "Yale Budget Lab tariff-rate tracker (revision dates and policy events, curated)"},
        "notes": ["2025 revisions are named with their year (rev_17 -> 2025_rev_17)", "NA written as empty",
                  "tpc_date, tpc_policy_revision and needs_review (tracker bookkeeping) dropped"],
        "build_date": dt.date.today().isoformat(),
    }
    (out_dir / "provenance.json").write_text(json.dumps(prov, indent=1) + "\n", encoding="utf-8")
    print(f"{out}: {len(out_rows)} revisions from {src}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, default=REPO.parent / "shared" / "data", help="raw data folder")
    return build(ap.parse_args(argv).raw)


if __name__ == "__main__":
    sys.exit(main())
