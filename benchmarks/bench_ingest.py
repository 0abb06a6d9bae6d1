"""Benchmark the ingest path on the issue's workload: all HS10 x partner 2024 imports (the 51
per-partner Census pulls + the import-weights csv.gz, ~545k rows) and all 44 HTS revisions.

Subject: ``tariffscope.ingest.core.ingest_many`` (what ``data ingest FILE ...`` / ``data ingest DIR``
runs) on the part's files into a fresh warehouse file: strict parsing, country mapping, one checksum
pass, every file checked before one transaction writes them all with a provenance and ingest-log row
per file.
Peer: plain DuckDB in the same run: ``read_parquet`` / ``read_csv`` / ``read_json`` of the same files
into tables of a fresh database file (no validation, no mapping; DuckDB's own threads).
Subject and peer run interleaved (A B A B A B, ``_util.paired``), each in a fresh spawned process (peak
RSS per subject); the ratio is the median of the per-pair ratios, with the load average around every
run. Reports rows/s, the ratio subject/peer (target within 3x, aim 2x) and peak memory (target
< 1.5 GB), per part and overall; and the first open of the embedded data (a new warehouse: create,
migrate, load the embedded tables; target < 5 s).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import duckdb  # the peer

from _util import load_text, loadavg, machine, measure, paired, save
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
    rows = sum(r.total_rows for r in core.ingest_many(files(part), con=con))
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


def first_open() -> dict:
    """A new home: the first ``open_warehouse`` creates, migrates and loads the embedded data."""
    import os

    os.environ["TARIFFSCOPE_HOME"] = tempfile.mkdtemp(prefix="bench_first_open_")
    from tariffscope.ingest.warehouse import open_warehouse

    con = open_warehouse()
    rows = con.execute("SELECT (SELECT count(*) FROM trade_flows) + (SELECT count(*) FROM hts_lines)").fetchall()[0][0]
    con.close()
    return {"rows": rows}


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    out: dict = {"parts": {}, "pairs": pairs}
    for part in ("trade", "hts"):
        pr = paired(run_tariffscope, run_duckdb, part, pairs=pairs)
        ts, peer = pr["subject"], pr["peer"]
        rows = ts["extra"]["rows"]
        res = {
            "files": len(files(part)),
            "rows_tariffscope": rows,
            "rows_duckdb": peer["extra"]["rows"],
            "seconds_tariffscope": round(ts["seconds"], 2),  # medians of the pairs
            "seconds_duckdb": round(peer["seconds"], 2),
            "seconds_tariffscope_all": [round(x, 2) for x in ts["seconds_all"]],
            "seconds_duckdb_all": [round(x, 2) for x in peer["seconds_all"]],
            "rows_per_s_tariffscope": round(rows / ts["seconds"]),
            "rows_per_s_duckdb": round(peer["extra"]["rows"] / peer["seconds"]),
            "ratio": round(pr["ratio"], 2),
            "ratios": [round(x, 2) for x in pr["ratios"]],
            "peak_mb_tariffscope": round(ts["peak_mb"]),
            "peak_mb_duckdb": round(peer["peak_mb"]),
            "load": pr["load"],
        }
        out["parts"][part] = res
        print(f"{part:6s} {res['files']:3d} files  tariffscope {rows:>10,d} rows {ts['seconds']:7.2f}s "
              f"({res['rows_per_s_tariffscope']:>9,d} rows/s, peak {res['peak_mb_tariffscope']:,} MB) | "
              f"duckdb {res['rows_duckdb']:>10,d} rows {peer['seconds']:7.2f}s ({res['rows_per_s_duckdb']:>9,d} rows/s, "
              f"peak {res['peak_mb_duckdb']:,} MB) | ratio {res['ratio']:.2f}x (pairs {', '.join(f'{x:.2f}' for x in pr['ratios'])}) "
              f"| load {load_text(pr['load'][0]['before'])} -> {load_text(pr['load'][-1]['after'])}", flush=True)
    p = out["parts"]
    tot_ts = p["trade"]["seconds_tariffscope"] + p["hts"]["seconds_tariffscope"]
    tot_peer = p["trade"]["seconds_duckdb"] + p["hts"]["seconds_duckdb"]
    out["total"] = {
        "seconds_tariffscope": round(tot_ts, 2), "seconds_duckdb": round(tot_peer, 2),
        "ratio": round(tot_ts / tot_peer, 2),  # of the two parts' pair medians, each from interleaved runs
        "peak_mb_tariffscope": max(p["trade"]["peak_mb_tariffscope"], p["hts"]["peak_mb_tariffscope"]),
        "targets": {"ratio_max": 3.0, "ratio_aim": 2.0, "peak_mb_max": 1500, "first_open_seconds_max": 5.0},
    }
    print(f"total  tariffscope {tot_ts:.2f}s vs duckdb {tot_peer:.2f}s: ratio {out['total']['ratio']:.2f}x "
          f"(target <= 3x, aim 2x); peak {out['total']['peak_mb_tariffscope']:,} MB (target < 1,500 MB)")
    fo = measure(first_open, repeat=pairs)
    out["first_open"] = {"seconds": round(fo["seconds"], 2), "peak_mb": round(fo["peak_mb"]), "rows": fo["extra"]["rows"],
                         "repeat": pairs, "load_before": fo["load_before"], "load_after": fo["load_after"]}
    print(f"first open of the embedded data: {fo['seconds']:.2f}s (best of {pairs}; target < 5 s), "
          f"{fo['extra']['rows']:,} rows, peak {fo['peak_mb']:.0f} MB | load {load_text(fo['load_before'])}")
    print(f"machine: {machine()}; load average now {load_text(loadavg())}")
    save("ingest", out)


if __name__ == "__main__":
    main()
