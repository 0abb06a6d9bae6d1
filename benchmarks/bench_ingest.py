"""Benchmark the ingest path on the issue's workload: all HS10 x partner 2024 imports (the 51
per-partner Census pulls + the import-weights csv.gz, ~545k rows) and all 44 HTS revisions.

Subject: ``tariffscope.ingest.core.ingest`` on each file into a fresh warehouse file (strict
parsing, country mapping, checksums, one transaction per file, ingest log).
Peer: plain DuckDB in the same run: ``read_parquet`` / ``read_csv`` / ``read_json`` of the same files
into tables of a fresh database file (no validation, no mapping).
Each runs in a fresh spawned process (peak RSS per subject). Reports rows/s, the time ratio
subject/peer (target within 3x) and peak memory (target < 1.5 GB), per part and overall.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import duckdb  # the peer

from _util import machine, measure, save
from tariffscope import config, db
from tariffscope.ingest import core


def files(part: str) -> list[str]:
    raw = config.raw_data_dir()
    if part == "trade":
        return [str(p) for p in sorted((raw / "census/hs10_imports_2024_by_partner").glob("*.parquet"))] + [
            str(raw / "census/import_weights_hs10_country_2024.csv.gz")]
    return [str(p) for p in sorted((raw / "hts").glob("hts_*.json.gz"))]


def run_tariffscope(part: str) -> dict:
    d = tempfile.mkdtemp(prefix="bench_ingest_")
    con = db.connect(Path(d) / "warehouse.duckdb")
    rows = 0
    for f in files(part):
        rows += core.ingest(f, con=con).total_rows
    con.execute("CHECKPOINT")
    con.close()
    return {"rows": rows}


def run_duckdb(part: str) -> dict:
    d = tempfile.mkdtemp(prefix="bench_ingest_peer_")
    con = duckdb.connect(str(Path(d) / "peer.duckdb"))
    con.execute("SET enable_progress_bar = false")
    fs = files(part)
    if part == "trade":
        parquet = [f for f in fs if f.endswith(".parquet")]
        con.execute("CREATE TABLE flows AS SELECT * FROM read_parquet(?, union_by_name = true)", [parquet])
        con.execute("CREATE TABLE weights AS SELECT * FROM read_csv(?, types = {'hs10': 'VARCHAR', 'cty_code': 'VARCHAR'})",
                    [[f for f in fs if f.endswith(".csv.gz")][0]])
        rows = con.execute("SELECT (SELECT count(*) FROM flows) + (SELECT count(*) FROM weights)").fetchall()[0][0]
    else:
        con.execute("CREATE TABLE hts (filename VARCHAR, htsno VARCHAR, indent VARCHAR, description VARCHAR, general VARCHAR)")
        for f in fs:
            con.execute("""INSERT INTO hts SELECT filename, htsno, indent, description, general
                           FROM read_json(?, format = 'array', filename = true, maximum_object_size = 100000000)
                           WHERE htsno <> ''""", [f])
        rows = con.execute("SELECT count(*) FROM hts").fetchall()[0][0]
    con.execute("CHECKPOINT")
    con.close()
    return {"rows": rows}


def main() -> None:
    out: dict = {"parts": {}}
    for part in ("trade", "hts"):
        ts = measure(run_tariffscope, part)
        peer = measure(run_duckdb, part)
        rows = ts["extra"]["rows"]
        res = {
            "files": len(files(part)),
            "rows_tariffscope": rows,
            "rows_duckdb": peer["extra"]["rows"],
            "seconds_tariffscope": round(ts["seconds"], 2),
            "seconds_duckdb": round(peer["seconds"], 2),
            "rows_per_s_tariffscope": round(rows / ts["seconds"]),
            "rows_per_s_duckdb": round(peer["extra"]["rows"] / peer["seconds"]),
            "ratio": round(ts["seconds"] / peer["seconds"], 2),
            "peak_mb_tariffscope": round(ts["peak_mb"]),
            "peak_mb_duckdb": round(peer["peak_mb"]),
        }
        out["parts"][part] = res
        print(f"{part:6s} {res['files']:3d} files  tariffscope {rows:>10,d} rows {ts['seconds']:7.2f}s "
              f"({res['rows_per_s_tariffscope']:>9,d} rows/s, peak {res['peak_mb_tariffscope']:,} MB) | "
              f"duckdb {res['rows_duckdb']:>10,d} rows {peer['seconds']:7.2f}s ({res['rows_per_s_duckdb']:>9,d} rows/s, "
              f"peak {res['peak_mb_duckdb']:,} MB) | ratio {res['ratio']:.2f}x", flush=True)
    p = out["parts"]
    tot_ts = p["trade"]["seconds_tariffscope"] + p["hts"]["seconds_tariffscope"]
    tot_peer = p["trade"]["seconds_duckdb"] + p["hts"]["seconds_duckdb"]
    out["total"] = {
        "seconds_tariffscope": round(tot_ts, 2), "seconds_duckdb": round(tot_peer, 2),
        "ratio": round(tot_ts / tot_peer, 2),
        "peak_mb_tariffscope": max(p["trade"]["peak_mb_tariffscope"], p["hts"]["peak_mb_tariffscope"]),
        "targets": {"ratio_max": 3.0, "peak_mb_max": 1500},
    }
    print(f"total  tariffscope {tot_ts:.2f}s vs duckdb {tot_peer:.2f}s: ratio {out['total']['ratio']:.2f}x "
          f"(target <= 3x); peak {out['total']['peak_mb_tariffscope']:,} MB (target < 1,500 MB)")
    print(f"machine: {machine()}")
    save("ingest", out)


if __name__ == "__main__":
    main()
