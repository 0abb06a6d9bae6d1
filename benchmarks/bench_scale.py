"""Scale benchmark: GE Monte Carlo draws on three executors, and a 100-million-row world panel.

1. 1,000 Monte Carlo draws of the GE model on the Advanced Guide's 69-country world (the GE
   helper's solver, ``tariffscope.models.ge.solve_one_sector``; the shipped SPEC ``data/ge/
   us_tariffs_2025_japan.yaml``: the 2025 US tariff on Japan), one draw = one solve with a trade
   elasticity sigma ~ 5·exp(0.25·Z): serial vs local processes (2) vs a Dask LocalCluster of 2
   single-threaded workers. Results must be identical on the three (checksum). Reported: wall time
   of the map (after a warm-up map that starts the workers and imports the solver there) and of the
   whole executor life (start-up, warm-up and shut-down included), speed-up over serial,
   and peak RSS of the subject's whole process tree (workers included, sampled every 0.1 s).
2. A synthetic world panel of 100 million rows (10 years x 10 million; 200 countries, ~20 HS
   chapters per pair; written by this script to /tmp with a deterministic DuckDB generator, deleted
   afterwards) aggregated to HS2 x exporter x importer x year through ``tariffscope.panels`` vs a
   plain DuckDB query of the same files, in the same run. Peak RSS of each subject's process.

Targets (issue 8): draws speed-up >= 1.7x on 2 cores; panel within 1.5x of plain DuckDB, < 4 GB.
Environment: BENCH_SCALE_DRAWS (default 1000), BENCH_SCALE_ROWS (default 100_000_000).
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import TreePeak, load_text, measure, paired, save

REPO = Path(__file__).resolve().parents[1]
GE_SPEC = REPO / "src" / "tariffscope" / "data" / "ge" / "us_tariffs_2025_japan.yaml"
DRAWS = int(os.environ.get("BENCH_SCALE_DRAWS", "1000"))
ROWS = int(os.environ.get("BENCH_SCALE_ROWS", "100000000"))
YEARS = 10


# --- process-tree memory ------------------------------------------------------------------------


# --- 1. GE Monte Carlo ----------------------------------------------------------------------------


def _ge_problem() -> dict:
    from tariffscope.models.ge_spec import load_spec, prepare_experiment

    spec, base_dir = load_spec(GE_SPEC)
    exp = prepare_experiment(spec, base_dir)
    return {"flows": exp.flows, "tariff_base": exp.tariff_base, "tariff_new": exp.tariff_new,
            "countries": exp.countries, "sigma": float(spec.model.sigma)}


def ge_draw(problem: dict, task: tuple) -> object:
    """One Monte Carlo draw: sigma ~ point·exp(0.25 Z) from the task's own seed, one GE solve."""
    import numpy as np

    from tariffscope.models import ge

    _, seed = task
    z = np.random.default_rng(seed).standard_normal()
    sigma = float(np.clip(problem["sigma"] * np.exp(0.25 * z), 1.5, 20.0))
    n = len(problem["countries"])
    res = ge.solve_one_sector(problem["flows"], sigma, np.ones((n, n)), problem["tariff_base"],
                              problem["tariff_new"], countries=problem["countries"])
    return 100.0 * (res.real_gdp_change - 1.0)


def run_draws(backend: str, workers: int | None, cluster: str | None, draws: int) -> dict:
    import numpy as np

    from tariffscope.parallel import get_executor, spawn_seeds

    problem = _ge_problem()
    tasks = list(enumerate(spawn_seeds(2026, draws)))
    with TreePeak() as peak:
        t_start = time.perf_counter()
        with get_executor(backend, workers=workers, cluster=cluster) as ex:
            fn = functools.partial(ge_draw, problem)
            # Warm-up: start every worker and import the solver there (start-up is timed separately).
            ex.map(fn, tasks[: 2 * ex.workers], chunksize=1, progress=False)
            t0 = time.perf_counter()
            out = ex.map(fn, tasks, desc="GE draws", progress=False)
            t_map = time.perf_counter() - t0
            nworkers = ex.workers
        t_total = time.perf_counter() - t_start
    arr = np.vstack(out)
    return {"map_seconds": t_map, "with_startup_seconds": t_total, "workers": nworkers,
            "tree_peak_mb": peak.peak_mb, "checksum": hashlib.sha256(arr.tobytes()).hexdigest()[:16],
            "usa_real_gdp_p05_p95": [float(np.percentile(arr[:, problem["countries"].index("USA")], q)) for q in (5, 95)]}


# --- 2. world panel -------------------------------------------------------------------------------


def write_panel(root: str, rows: int, years: int) -> dict:
    """A deterministic synthetic BACI-shaped panel in the tariffscope layout (year=YYYY/*.parquet).

    Rows come out grouped by year and country pair (the generator enumerates them in that order), as
    an ingested panel is; no sort of 100 million rows is needed.
    """
    from tariffscope import db
    from tariffscope.codes.countries import all_countries

    iso = sorted(c.iso3 for c in all_countries() if c.m49)[:200]
    per_year = rows // years
    pairs = 200 * 199
    con = db.memory()
    try:
        con.execute("CREATE TABLE c AS SELECT * FROM (VALUES " +
                    ", ".join(f"({i}, '{c}')" for i, c in enumerate(iso)) + ") t(idx, iso3)")
        con.execute(f"""
            COPY (
              WITH r AS (
                SELECT i, i // {per_year} AS yi, ((i % {per_year}) * {pairs}) // {per_year} AS pair
                FROM range({per_year * years}) t(i)),
              s AS (
                SELECT yi, pair, i, pair // 199 AS e,
                       (pair // 199 + 1 + pair % 199) % 200 AS m,
                       1 + hash(pair, hash(i) % 20) % 97 AS chap
                FROM r)
              SELECT ce.iso3 AS exporter, cm.iso3 AS importer, s.e::SMALLINT AS exporter_code,
                     s.m::SMALLINT AS importer_code,
                     lpad((chap * 10000 + hash(i, 7) % 10000)::VARCHAR, 6, '0') AS product,
                     (hash(i, 1) % 1000000) / 1000.0 AS value_kusd,
                     CASE WHEN hash(i, 2) % 20 = 0 THEN NULL ELSE (hash(i, 3) % 100000) / 100.0 END AS quantity_t,
                     (2010 + yi)::INTEGER AS year
              FROM s JOIN c ce ON ce.idx = s.e JOIN c cm ON cm.idx = s.m
            ) TO '{root}' (FORMAT parquet, PARTITION_BY (year), COMPRESSION zstd)""")
        n = con.execute(f"SELECT count(*) FROM read_parquet('{root}/year=*/*.parquet')").fetchall()[0][0]
    finally:
        con.close()
    size = sum(p.stat().st_size for p in Path(root).rglob("*.parquet"))
    return {"rows": int(n), "bytes": size}


def agg_tariffscope(home: str, name: str) -> dict:
    os.environ["TARIFFSCOPE_HOME"] = home
    from tariffscope import panels

    t = panels.aggregate_panel(name, by="hs2")
    import pyarrow.compute as pc

    return {"groups": t.num_rows, "value_kusd": float(pc.sum(t.column("value_kusd")).as_py())}


def agg_plain_duckdb(root: str) -> dict:
    import duckdb
    import pyarrow.compute as pc

    con = duckdb.connect()
    t = con.sql(f"""
        SELECT year, exporter, importer, substr(product, 1, 2) AS product,
               sum(value_kusd) AS value_kusd, sum(quantity_t) AS quantity_t
        FROM read_parquet('{root}/year=*/*.parquet', hive_partitioning=true)
        GROUP BY ALL""").to_arrow_table()
    return {"groups": t.num_rows, "value_kusd": float(pc.sum(t.column("value_kusd")).as_py())}


# --- main -------------------------------------------------------------------------------------------


def main() -> None:
    parts = set(os.environ.get("BENCH_SCALE_PARTS", "ge,panel").split(","))
    cpus = os.cpu_count() or 1
    previous = {}
    prev_path = Path(__file__).resolve().parent / "results" / "scale.json"
    if parts != {"ge", "panel"} and prev_path.exists():  # a partial run keeps the other part's figures
        import json

        previous = json.loads(prev_path.read_text())
    draws, panel = previous.get("ge_monte_carlo", {}).get("results", {}), previous.get("world_panel", {})
    if "ge" in parts:
        draws = run_ge_part(cpus)
    if "panel" in parts:
        panel = run_panel_part()
    path = save("scale", {"load_average_at_end": os.getloadavg()[0],
                          "ge_monte_carlo": {"draws": DRAWS, "countries": 69, "spec": str(GE_SPEC.relative_to(REPO)),
                                             "results": draws},
                          "world_panel": panel})
    print(f"\nsaved {path}")


def run_ge_part(cpus: int) -> dict:
    load0 = os.getloadavg()
    print(f"GE Monte Carlo: {DRAWS} draws, 69 countries ({GE_SPEC.name}), {cpus} cores; "
          f"load average at start {load0[0]:.1f} (other work on the machine distorts speed-ups)", flush=True)
    draws: dict = {}
    rounds: dict[str, list[dict]] = {}
    # The backends interleaved, serial then each parallel backend, in every round (default one round:
    # BENCH_SCALE_GE_ROUNDS): a speed-up is the median over rounds of serial/backend within the round.
    for _ in range(int(os.environ.get("BENCH_SCALE_GE_ROUNDS", "1"))):
        for label, backend, workers, cluster in (("serial", "serial", None, None), ("process x2", "process", 2, None),
                                                 ("dask LocalCluster x2", "dask", None, "local:2")):
            m = measure(run_draws, backend, workers, cluster, DRAWS)
            rounds.setdefault(label, []).append({**m["extra"], "subject_seconds": m["seconds"], "subject_peak_mb": m["peak_mb"],
                                                 "load_before": m["load_before"], "load_after": m["load_after"]})
            print(f"  {label:22s} map {m['extra']['map_seconds']:7.1f} s  with start-up "
                  f"{m['extra']['with_startup_seconds']:7.1f} s  tree peak {m['extra']['tree_peak_mb']:7.0f} MB  "
                  f"checksum {m['extra']['checksum']}  load {load_text(m['load_before'])}", flush=True)
    for label, rs in rounds.items():
        draws[label] = {**rs[-1], "rounds": rs, "load_average_after": os.getloadavg()[0]}
    for label, d in draws.items():
        ser = rounds["serial"]
        d["speedup_map"] = statistics.median(s["map_seconds"] / r["map_seconds"] for s, r in zip(ser, rounds[label], strict=True))
        d["speedup_with_startup"] = statistics.median(s["with_startup_seconds"] / r["with_startup_seconds"]
                                                      for s, r in zip(ser, rounds[label], strict=True))
    ref = draws["serial"]
    for label, d in draws.items():
        d["identical_to_serial"] = d["checksum"] == ref["checksum"]
        print(f"  {label:22s} speed-up {d['speedup_map']:.2f}x (map), {d['speedup_with_startup']:.2f}x "
              f"(with start-up); identical to serial: {d['identical_to_serial']}", flush=True)
    for d in draws.values():
        d["load_average_at_start"] = load0[0]
    return draws


def run_panel_part() -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="tariffscope-bench-scale-", dir="/tmp"))
    panel = {}
    try:
        home = tmp / "home"
        staging = tmp / "panel"
        print(f"\nWorld panel: writing {ROWS:,} rows ({YEARS} years) to {staging} ...", flush=True)
        t0 = time.perf_counter()
        info = write_panel(str(staging), ROWS, YEARS)
        print(f"  written in {time.perf_counter() - t0:.0f} s: {info['rows']:,} rows, {info['bytes'] / 2**30:.2f} GiB",
              flush=True)
        os.environ["TARIFFSCOPE_HOME"] = str(home)
        from tariffscope import panels

        reg = panels.register_panel(staging, "bench", source="synthetic (benchmarks/bench_scale.py)",
                                    vintage="synthetic")
        root = reg.path
        # Interleaved pairs (A B A B ..., default one pair: a run reads 100M rows); tariffscope goes first in
        # each, so any warmer page cache favours the peer. The ratio is the median of the per-pair ratios.
        pr = paired(agg_tariffscope, agg_plain_duckdb, pairs=int(os.environ.get("BENCH_SCALE_PANEL_REPEAT", "1")),
                    subject_args=(str(home), "bench"), peer_args=(root,))
        for label, side in (("tariffscope", pr["subject"]), ("plain duckdb", pr["peer"])):
            panel[label] = {"seconds": side["seconds"], "peak_mb": side["peak_mb"], **side["extra"]}
        panel["rows"], panel["parquet_bytes"] = info["rows"], info["bytes"]
        ratio = pr["ratio"]
        panel["ratio_tariffscope_over_duckdb"] = ratio
        panel["ratio_pairs"], panel["load"] = pr["ratios"], pr["load"]
        panel["same_result"] = (panel["tariffscope"]["groups"] == panel["plain duckdb"]["groups"]
                                and abs(panel["tariffscope"]["value_kusd"] - panel["plain duckdb"]["value_kusd"])
                                <= 1e-9 * abs(panel["plain duckdb"]["value_kusd"]))
        for label in ("tariffscope", "plain duckdb"):
            p = panel[label]
            print(f"  {label:13s} {p['seconds']:6.1f} s  peak {p['peak_mb']:6.0f} MB  {p['groups']:,} groups", flush=True)
        print(f"  tariffscope / plain DuckDB = {ratio:.2f}x (target <= 1.5x); same result: {panel['same_result']}",
              flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    panel["load_average_after"] = os.getloadavg()[0]
    return panel


if __name__ == "__main__":
    main()
