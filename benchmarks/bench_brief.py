"""Benchmark of ``tariffscope brief --partner X`` on a fresh home (issue 14: < 10 s and < 1 GB peak).

Each subject runs in its own spawned process with its own empty TARIFFSCOPE_HOME, so the time includes
building the warehouse from the embedded data, as a first ``tariffscope brief`` does:

- ``brief``: ``report.brief.build_brief`` for the partner (HTML, default 50 draws), what the CLI command runs;
- peer ``compare``: the one scenario comparison the brief contains, run as ``tariffscope compare`` runs it
  (``api.compare`` of the partner's built-in packages, same draws, the default process backend), also on a
  fresh home. The ratio says what the other seven sections and the rendering cost on top of it.

Reports seconds, peak RSS of each process and the ratio, the peak RSS of the whole process tree (the subject's
process and any worker it starts: the sum of their RSS sampled every 20 ms from this process, which a brief that
runs a section in a worker process must keep under the target; pages shared after a fork count once per process,
as the kernel would have to find them if the copies were written), with the 1-minute load average (the machine may be
shared), and the CPU seconds of each subject (user + system, ``resource.getrusage``, from the process's start, so
imports included, plus its worker processes that ended: the comparison's draws run in workers): on a shared machine the wall time grows with the load, the CPU time much less. The brief's own
per-section wall times are saved too. Usage: python benchmarks/bench_brief.py [--partners JPN DEU]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import TreePeak, measure, save

DRAWS = 50  # the brief's default (report.brief.DEFAULT_DRAWS)
TARGET_S, TARGET_MB = 10.0, 1024.0


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (every thread, imports included) and of its worker processes
    that have ended (a worker's CPU is work the brief or the comparison asked for)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime  # workers that ended are counted too


def run_brief(home: str, partner: str) -> dict:
    os.environ["TARIFFSCOPE_HOME"] = home
    from tariffscope.report import brief

    # what build_brief does (collect, render, write), keeping the model for its per-section times
    model = brief.collect(partner=partner, draws=DRAWS, progress=False)
    out = Path(home) / "brief.html"
    out.write_text(brief.render(model, "html"))
    return {"bytes": out.stat().st_size, "cpu_s": _cpu_seconds(),
            "section_s": {k: round(v, 2) for k, v in model["timings"].items()}}


def run_compare(home: str, partner: str) -> dict:
    os.environ["TARIFFSCOPE_HOME"] = home
    from tariffscope import api
    from tariffscope.report.sections import packages_for, partner_name

    found = packages_for(partner_name(partner)[0])
    if found is None:
        raise SystemExit(f"no built-in packages for {partner}")
    res = api.compare(found[1], draws=DRAWS, progress=False)
    return {"packages": len(res.packages), "cpu_s": _cpu_seconds()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--partners", nargs="+", default=["JPN", "DEU"])
    args = ap.parse_args(argv)
    if len(args.partners) > 11:
        ap.error("at most 11 partners (the ones with built-in packages)")
    rows = []
    for partner in args.partners:
        with tempfile.TemporaryDirectory(prefix="tariffscope-bench-brief-") as h1, \
                tempfile.TemporaryDirectory(prefix="tariffscope-bench-compare-") as h2:
            load0 = os.getloadavg()[0]
            with TreePeak(interval=0.02, include_self=False) as tree:
                brief = measure(run_brief, h1, partner)
            with TreePeak(interval=0.02, include_self=False) as peer_tree:
                peer = measure(run_compare, h2, partner)
            load1 = os.getloadavg()[0]
        rows.append({"partner": partner, "brief_s": brief["seconds"], "brief_cpu_s": brief["extra"]["cpu_s"],
                     "brief_peak_mb": brief["peak_mb"],
                     "brief_tree_peak_mb": tree.peak_mb, "brief_section_s": brief["extra"]["section_s"],
                     "peer_compare_s": peer["seconds"], "peer_compare_cpu_s": peer["extra"]["cpu_s"],
                     "peer_compare_peak_mb": peer["peak_mb"],
                     "peer_compare_tree_peak_mb": peer_tree.peak_mb,
                     "ratio_brief_over_compare": brief["seconds"] / peer["seconds"],
                     "load_average": [load0, load1], "meets_targets": brief["seconds"] < TARGET_S and max(brief["peak_mb"], tree.peak_mb) < TARGET_MB})
    path = save("brief", {"draws": DRAWS, "peer": "api.compare of the partner's packages as `tariffscope compare` runs it, fresh home",
                          "targets": {"seconds": TARGET_S, "peak_mb": TARGET_MB}, "rows": rows})
    print(f"{'partner':<8}{'brief s':>9}{'cpu s':>7}{'peak MB':>9}{'tree MB':>9}{'compare s':>11}{'cpu s':>7}{'peak MB':>9}{'ratio':>7}"
          f"{'load avg':>10}")
    for r in rows:
        print(f"{r['partner']:<8}{r['brief_s']:>9.1f}{r['brief_cpu_s']:>7.1f}{r['brief_peak_mb']:>9.0f}{r['brief_tree_peak_mb']:>9.0f}{r['peer_compare_s']:>11.1f}"
              f"{r['peer_compare_cpu_s']:>7.1f}{r['peer_compare_peak_mb']:>9.0f}{r['ratio_brief_over_compare']:>7.2f}"
              f"{r['load_average'][1]:>10.1f}")
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
