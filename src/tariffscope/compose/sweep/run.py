"""Running a sweep: the model a spec names, every grid point as one task on an executor (batched), the
check of one result per point and per outcome, and the tidy table."""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from tariffscope.compose.sweep.ge import GEModel
from tariffscope.compose.sweep.models import PluginModel, SweepModel
from tariffscope.compose.sweep.pe import PEModel
from tariffscope.compose.sweep.result import SweepResult, SweepRun
from tariffscope.compose.sweep.spec import SweepSpec, expand_grid, load_spec
from tariffscope.compose.sweep.target import parse_target
from tariffscope.errors import InputError, ModelError
from tariffscope.parallel import Executor, get_executor, seed_int, spawn_seeds


def model_for(spec: SweepSpec) -> SweepModel:
    """The model ``spec`` names: pe, ge or a plug-in."""
    if spec.model == "pe":
        return PEModel(spec)
    if spec.model == "ge":
        return GEModel(spec)
    base = spec.base if isinstance(spec.base, dict) else {}
    return PluginModel(spec.model, base, spec.outcomes)


def _run_task(model: Any, batch: list[tuple[int, dict[str, Any], int]]) -> list[tuple[int, dict[str, Any]]]:
    """One executor task: a batch of grid points (module level so it pickles by reference)."""
    results = model.run_batch(batch)
    if len(results) != len(batch):
        raise ModelError(f"model returned {len(results)} results for {len(batch)} grid points")
    return [(index, r) for (index, _, _), r in zip(batch, results, strict=True)]



def run_sweep(spec: str | Path | dict[str, Any] | SweepSpec, *, executor: Executor | None = None,
              backend: str = "process", workers: int | None = None, cluster: str | None = None,
              progress: bool = True) -> SweepResult:
    """Run every grid point of ``spec`` on an executor (``executor``, or one made from backend/workers/cluster)."""
    import pyarrow as pa

    spec = load_spec(spec)
    model = model_for(spec)
    points = expand_grid(spec)
    seeds = [seed_int(s) for s in spawn_seeds(spec.seed, len(points))]
    tasks = [(i, model.params(p, spec.grid), seeds[i]) for i, p in enumerate(points)]
    own = executor is None
    ex = executor or get_executor(backend, workers=workers, cluster=cluster)
    t0 = time.perf_counter()
    try:
        size = spec.batch or max(1, math.ceil(len(tasks) / max(1, ex.workers * 4)))
        batches = [tasks[i:i + size] for i in range(0, len(tasks), size)]
        task = _BoundTask(model)
        done = ex.map(task, batches, desc=f"sweep {spec.name}", chunksize=1, progress=progress)
        backend_used, nworkers = ex.backend, ex.workers
    finally:
        if own:
            ex.close()
    seconds = time.perf_counter() - t0
    results: dict[int, dict[str, Any]] = {}
    for chunk in done:
        for index, r in chunk:
            results[index] = r
    if sorted(results) != list(range(len(points))):  # never a silently incomplete table
        missing = sorted(set(range(len(points))) - set(results))
        raise ModelError(f"sweep {spec.name}: no result for {len(missing)} of {len(points)} grid points "
                         f"(first: {missing[:5]})")
    outcomes = model.outcomes(results[0])
    if spec.outcomes:
        unknown = [o for o in spec.outcomes if o not in {x.name for x in outcomes}]
        if unknown:
            raise InputError(f"outcomes {unknown} are not reported by model {spec.model!r}; it reports "
                             f"{', '.join(o.name for o in outcomes)}")
        outcomes = [o for o in outcomes if o.name in spec.outcomes]
    for i, r in results.items():
        missing_o = [o.name for o in outcomes if o.name not in r]
        if missing_o:
            raise ModelError(f"sweep {spec.name}: grid point {i} has no value for {missing_o}")
    has_bands = any(f"{o.name}__p05" in results[0] for o in outcomes)
    cols: dict[str, list[Any]] = {"sweep": [], "point": []}
    for a in spec.grid:
        cols[a.name] = []
    cols.update(outcome=[], label=[], unit=[], value=[])
    if has_bands:
        cols.update(p05=[], p50=[], p95=[])
    for i, p in enumerate(points):
        r = results[i]
        for o in outcomes:
            cols["sweep"].append(spec.name)
            cols["point"].append(i)
            for a in spec.grid:
                cols[a.name].append(p[a.name])
            cols["outcome"].append(o.name)
            cols["label"].append(o.label)
            cols["unit"].append(o.unit)
            v = r[o.name]
            cols["value"].append(None if v is None else float(v))
            if has_bands:
                for b in ("p05", "p50", "p95"):
                    bv = r.get(f"{o.name}__{b}")
                    cols[b].append(None if bv is None else float(bv))
    types = {"sweep": pa.string(), "point": pa.int32(), "outcome": pa.string(), "label": pa.string(),
             "unit": pa.string()}
    table = pa.table({k: pa.array(v, types.get(k, pa.float64())) for k, v in cols.items()})
    return SweepResult(spec=spec, table=table, outcomes=outcomes, backend=backend_used, workers=nworkers,
                       seconds=seconds, sources=model.sources())


class _BoundTask:
    """``_run_task`` bound to a model (a picklable callable object, unlike a lambda over a big model)."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, batch: list[tuple[int, dict[str, Any], int]]) -> list[tuple[int, dict[str, Any]]]:
        return _run_task(self.model, batch)


def produced_outcomes(spec: SweepSpec) -> list[str] | None:
    """The outcome names a sweep of ``spec`` can report, known before any grid point runs (None: a plug-in,
    whose outcomes are only known from its first result, unless the spec lists them)."""
    if spec.model == "pe":
        from tariffscope.scenarios.outcomes import HEADLINE_KEYS

        names = [*HEADLINE_KEYS, "deficit_cut_pct", "exporter_jobs_lost"]  # the two PEModel._derive adds
    elif spec.model == "ge":
        from tariffscope.compose.sweep.ge import GE_METRICS

        countries = [c.upper() for c in (spec.countries or ["USA", "JPN"])]
        names = [f"{m[0]}_{c}" for c in countries for m in GE_METRICS]
        if len(countries) >= 2:
            names += [f"balance_{countries[0]}_{countries[1]}", "deficit_cut_pct"]
    else:
        return list(spec.outcomes) if spec.outcomes else None
    return [n for n in names if n in spec.outcomes] if spec.outcomes else names


def check_target(spec: SweepSpec, target: str | None) -> None:
    """InputError, before any work, when the target (``target`` or the spec's) names an outcome the sweep
    does not produce: a grid run takes minutes and the target is only read at its end."""
    text = target or spec.target
    if not text:
        return
    valid = produced_outcomes(spec)
    if valid is None:
        return
    t = parse_target(text)
    named = [c[0] for c in t.constraints] + ([t.objective] if t.objective else [])
    unknown = [n for n in dict.fromkeys(named) if n not in valid]
    if unknown:
        raise InputError(f"target names outcome(s) {', '.join(unknown)} that sweep {spec.name} ({spec.model}) does not "
                         f"produce; valid outcomes: {', '.join(valid)}")


def sweep(spec: str | Path | dict[str, Any] | SweepSpec, *, out: str | Path | None = None, chart_format: str = "png",
          target: str | None = None, backend: str = "process", workers: int | None = None,
          cluster: str | None = None, progress: bool = True, charts: bool = True) -> SweepRun:
    """Run a sweep; with ``out``, write ``<out>/<name>.parquet`` and one chart per outcome; evaluate ``target``."""
    spec = load_spec(spec)
    check_target(spec, target)  # before the grid runs, not after it
    res = run_sweep(spec, backend=backend, workers=workers, cluster=cluster, progress=progress)
    files: list[Path] = []
    if out is not None:
        files.append(res.write_parquet(Path(out) / f"{res.spec.name}.parquet"))
        if charts:
            files.extend(res.charts(out, fmt=chart_format))
    tgt = res.find_target(target) if (target or res.spec.target) else None
    return SweepRun(result=res, files=files, target=tgt)
