"""Load test of ``tariffscope serve`` (issue 14 "Limits"): loopback only, bounded in time and clients.

Starts ``tariffscope serve`` on 127.0.0.1 with a fresh TARIFFSCOPE_HOME (the warehouse is built from the
embedded data), then 50 concurrent clients (an ``httpx.AsyncClient`` each) request a mix of pages for 60 s:
duty pages (60 HTS10 x origin x date entries), balance pages, timeline pages (plain and with controls), the
scenario form and built-in scenario comparisons (POST). Records errors, p50/p95 per kind, the server's RSS
sampled every 0.5 s, and its RSS after 30 s idle. Targets: 0 errors, duty p95 < 100 ms, page p95 < 1 s,
RSS < 1.5 GB throughout and < 600 MB idle after.

Also recorded: the CPU seconds the server and this load generator used during the timed load (both run on
the same cores: a generator that needs a core of its own leaves the server less), and after the idle wait
one duty and one page request, timed: the cost of the caches the server dropped while idle (web.idle).

Before the timed run every distinct request is made once by one client (the cold pass: pages are computed
then and kept by the page cache until the data change; its times are reported), then once more (the
peer: the same requests one at a time on a warm server, so the loaded p95 is reported as a ratio to it).

Usage: python benchmarks/bench_web_load.py [--seconds 60] [--clients 50] [--idle 30]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import save

# Inputs, not results: 2024 top import lines from Japan and other origins, across 2025 legal dates.
HTS = ["8703230140", "8703400020", "3002150011", "8703240150", "8429521010", "8708401110", "8486200000", "7208510030",
       "8411919085", "8471300100"]
ORIGINS = ["JPN", "CHN", "DEU", "KOR", "CAN", "MEX"]
DATES = ["2025-03-01", "2025-04-10", "2025-06-15", "2025-08-10", "2025-10-01"]
PARTNERS = ["JPN", "KOR", "DEU", "CHN", "MEX"]
TIMELINE_VIEWS = [{}, {"authority": "232", "on": "2025-10-01"}, {"sector": "passenger_vehicles", "from": "2025-03-01"}]
COMPARISONS = [("JPN", ["june-2025", "japan-deal"]), ("KOR", ["korea-june-2025", "korea-deal"])]
# share of requests per kind (duty answers are the interactive path; pages are cached)
MIX = {"duty": 0.4, "balance": 0.2, "timeline": 0.2, "scenario_form": 0.15, "scenario_run": 0.05}
PAGE_KINDS = ("balance", "timeline", "scenario_form", "scenario_run")
TARGETS = {"duty_p95_ms": 100.0, "page_p95_ms": 1000.0, "rss_max_mb": 1500.0, "rss_idle_mb": 600.0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requests_by_kind() -> dict[str, list[tuple[str, str, dict | None]]]:
    """(method, path?query, form) per kind."""
    duty = [("GET", "/duty?" + str(httpx.QueryParams({"hts": h, "origin": o, "date": d, "value": "100000"})), None)
            for i, (h, o) in enumerate((h, o) for h in HTS for o in ORIGINS) for d in [DATES[i % len(DATES)]]]
    balance = [("GET", f"/balance?partner={p}", None) for p in PARTNERS]
    timeline = [("GET", "/timeline?" + str(httpx.QueryParams({"partner": p, **v})), None) for p in PARTNERS for v in TIMELINE_VIEWS]
    form = [("GET", f"/scenarios?partner={p}", None) for p in PARTNERS]
    run = [("POST", "/scenarios", {"builtin": names, "draws": "0"}) for _, names in COMPARISONS]
    return {"duty": duty, "balance": balance, "timeline": timeline, "scenario_form": form, "scenario_run": run}


def start_server(home: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, TARIFFSCOPE_HOME=str(home))
    proc = subprocess.Popen([sys.executable, "-m", "tariffscope.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 600  # the first start builds the warehouse from the embedded data
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + (proc.stderr.read() if proc.stderr else b"").decode()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("server did not start in 600 s")


class RssSampler(threading.Thread):
    """The server's RSS every ``every`` seconds (max and the samples)."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.proc, self.every, self.samples = psutil.Process(pid), every, []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(self.proc.memory_info().rss / 2**20)
            self._halt.wait(self.every)

    def stop(self) -> list[float]:
        self._halt.set()
        self.join()
        return self.samples


async def one(client: httpx.AsyncClient, method: str, target: str, form: dict | None) -> tuple[bool, str]:
    try:
        if method == "GET":
            r = await client.get(target)
        else:
            r = await client.post(target, data=form)
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return r.status_code == 200, f"HTTP {r.status_code}"


async def single_pass(base: str, reqs: dict[str, list]) -> dict[str, list[float]]:
    """Every distinct request once, one at a time: seconds per kind."""
    out: dict[str, list[float]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        for kind, items in reqs.items():
            for method, target, form in items:
                t0 = time.perf_counter()
                ok, why = await one(client, method, target, form)
                if not ok:
                    raise RuntimeError(f"{kind} {target}: {why}")
                out.setdefault(kind, []).append(time.perf_counter() - t0)
    return out


async def timed_load(base: str, reqs: dict[str, list], clients: int, seconds: float, seed: int = 1) -> dict:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    lat: dict[str, list[float]] = {k: [] for k in kinds}
    errors: dict[str, int] = {}
    stop_at = time.perf_counter() + seconds

    async def worker(i: int) -> None:
        local = random.Random(rng.random())
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            while time.perf_counter() < stop_at:
                kind = local.choices(kinds, weights)[0]
                method, target, form = local.choice(reqs[kind])
                t0 = time.perf_counter()
                ok, why = await one(client, method, target, form)
                lat[kind].append(time.perf_counter() - t0)
                if not ok:
                    key = f"{kind}: {why}"
                    errors[key] = errors.get(key, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    wall = time.perf_counter() - t0
    return {"seconds": wall, "lat": lat, "errors": errors}


def q(values: list[float], p: int) -> float | None:
    if len(values) < 2:
        return values[0] * 1000 if values else None
    return statistics.quantiles(values, n=100)[p - 1] * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--idle", type=float, default=30.0)
    args = ap.parse_args(argv)
    if not (1 <= args.seconds <= 300 and 1 <= args.clients <= 200 and 0 <= args.idle <= 120):
        ap.error("bounded load test: seconds <= 300, clients <= 200, idle <= 120")
    reqs = requests_by_kind()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tariffscope-load-") as home:
        t_start = time.perf_counter()
        proc = start_server(Path(home), port)
        startup_s = time.perf_counter() - t_start
        sampler = RssSampler(proc.pid)
        sampler.start()
        try:
            cold = asyncio.run(single_pass(base, reqs))
            warm = asyncio.run(single_pass(base, reqs))  # the peer: one client, warm server
            load_before = os.getloadavg()
            server, me = psutil.Process(proc.pid), psutil.Process()
            cpu0 = (sum(server.cpu_times()[:2]), sum(me.cpu_times()[:2]))
            res = asyncio.run(timed_load(base, reqs, args.clients, args.seconds))
            cpu1 = (sum(server.cpu_times()[:2]), sum(me.cpu_times()[:2]))
            load_after = os.getloadavg()
            during = list(sampler.samples)
            time.sleep(args.idle)
            idle_mb = psutil.Process(proc.pid).memory_info().rss / 2**20
            samples = sampler.stop()
            after_idle = asyncio.run(single_pass(base, {k: reqs[k][:1] for k in ("duty", "timeline")}))
        finally:
            if sampler.is_alive():
                sampler.stop()
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    kinds = {}
    for kind, lat in res["lat"].items():
        kinds[kind] = {"requests": len(lat), "p50_ms": q(lat, 50), "p95_ms": q(lat, 95), "max_ms": max(lat) * 1000 if lat else None,
                       "cold_max_ms": max(cold[kind]) * 1000, "peer_p50_ms": q(warm[kind], 50)}
        p95, peer = kinds[kind]["p95_ms"], kinds[kind]["peer_p50_ms"]
        kinds[kind]["p95_over_peer_p50"] = p95 / peer if p95 and peer else None
    pages = [x for k in PAGE_KINDS for x in res["lat"][k]]
    summary = {
        "clients": args.clients, "seconds": res["seconds"], "requests": sum(len(v) for v in res["lat"].values()),
        "errors": sum(res["errors"].values()), "error_kinds": res["errors"],
        "duty_p95_ms": kinds["duty"]["p95_ms"], "page_p95_ms": q(pages, 95),
        "rss_max_mb": max(samples), "rss_max_during_load_mb": max(during), "rss_idle_mb": idle_mb, "idle_s": args.idle,
        "server_startup_s": startup_s, "load_average_before": load_before, "load_average_after": load_after,
        "server_cpu_s": cpu1[0] - cpu0[0], "generator_cpu_s": cpu1[1] - cpu0[1],
        "after_idle_ms": {k: v[0] * 1000 for k, v in after_idle.items()},
        "peer": "the same requests one at a time on the warm server (single client), p50", "kinds": kinds, "targets": TARGETS,
    }
    summary["meets_targets"] = (summary["errors"] == 0 and summary["duty_p95_ms"] < TARGETS["duty_p95_ms"]
                                and summary["page_p95_ms"] < TARGETS["page_p95_ms"] and summary["rss_max_mb"] < TARGETS["rss_max_mb"]
                                and idle_mb < TARGETS["rss_idle_mb"])
    path = save("web_load", summary)
    print(f"{summary['requests']} requests from {args.clients} clients in {res['seconds']:.0f} s on loopback; errors {summary['errors']} "
          f"{res['errors'] or ''}; load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    print(f"{'kind':<16}{'requests':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'cold ms':>9}{'peer p50':>10}{'p95/peer':>9}")
    for kind, k in kinds.items():
        print(f"{kind:<16}{k['requests']:>9}{k['p50_ms'] or 0:>9.1f}{k['p95_ms'] or 0:>9.1f}{k['max_ms'] or 0:>9.0f}"
              f"{k['cold_max_ms']:>9.0f}{k['peer_p50_ms'] or 0:>10.1f}{k['p95_over_peer_p50'] or 0:>9.1f}")
    print(f"duty p95 {summary['duty_p95_ms']:.1f} ms (target < 100); page p95 {summary['page_p95_ms']:.1f} ms (target < 1000); "
          f"server RSS max {summary['rss_max_mb']:.0f} MB (target < 1500), after {args.idle:.0f} s idle {idle_mb:.0f} MB (target < 600); "
          f"meets targets: {summary['meets_targets']}")
    print(f"CPU during the load: server {summary['server_cpu_s']:.1f} s, load generator {summary['generator_cpu_s']:.1f} s "
          f"(of {2 * res['seconds']:.0f} core-seconds on 2 cores); after the idle wait: first duty "
          f"{summary['after_idle_ms']['duty']:.0f} ms, first timeline page {summary['after_idle_ms']['timeline']:.0f} ms")
    print(f"saved {path}")
    return 0 if summary["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
