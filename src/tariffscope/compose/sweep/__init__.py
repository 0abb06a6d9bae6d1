"""Sweeps: run a model over a grid of policy parameters, on any executor; tidy table, charts, target search.

A sweep spec (YAML, ``ingest.safeyaml`` + pydantic) names a model, a base and a grid::

    name: japan-recip-x-auto-floor
    model: pe                         # pe | ge | python:package.module:function (a plug-in)
    base: june-2025                   # a scenario (built-in name, path, or inline mapping); for plug-ins: params
    changes:                          # optional: changes appended to the base scenario's own
      - {origins: [JPN], mode: set, rate: 0.10}
      - {origins: [JPN], products: {measures: [s232_autos, s232_auto_parts]}, mode: floor, rate: 0.15}
    grid:                             # cartesian product; the last axis varies fastest
      - {name: reciprocal, path: "changes[0].rate", from: 0.0, to: 0.30, step: 0.01}
      - {name: auto_floor, path: "changes[1].rate", from: 0.10, to: 0.25, step: 0.025}
    target: "deficit_cut_pct >= 10; maximize exporter_sector_jobs"
    draws: 0                          # Monte Carlo draws per grid point (bands p05/p50/p95)
    seed: 0

``path`` addresses the (merged) scenario mapping (``changes[0].rate``, ``model.omega``); for a plug-in
it is the parameter name. Grid values come from integer steps (``from + i*step``, rounded to 12
decimals), so 0.07 is 0.07 and not 0.07000000000000001.

Every grid point is one task on the executor (batched, ``batch`` points per task); a point's results
depend only on its parameters and its own seed (``parallel.spawn_seeds(seed, n)[point]``), so the
table is identical on every backend. The run checks it got one result per point and per outcome.

Output: a tidy table (one row per point x outcome: ``point``, the axis columns, ``outcome``,
``label``, ``unit``, ``value`` and, with draws, ``p05``/``p50``/``p95``) written to Parquet with the
spec and sources in the file's metadata; one chart per outcome across the grid (matplotlib, PNG or
SVG); ``target`` finds the grid point that satisfies the constraints at the best objective.

Plug-in models: ``python:module:function`` names ``function(params: dict, seed: int) -> dict`` (outcome
name -> number), run per point; it must be importable on the workers.

A sweep composes domain models (the PE scenarios, the GE, the trade balance), so it sits in the compose
layer and calls those domain modules, never ``tariffscope.api``. Modules:

- ``spec``: the spec schema (``SweepSpec``, ``Axis``), ``load_spec``, ``expand_grid``, ``set_path``.
- ``target``: target text (``parse_target``, ``Target``) and the target point (``find_target``, ``TargetResult``).
- ``models``: what every sweep model shares (``SweepModel``, ``Outcome``) and the plug-in model.
- ``pe`` / ``ge``: the PE and GE models per batch of grid points (and the PE's private worker warehouse).
- ``run``: the model a spec names, the tasks on the executor, the checks and the tidy table (``run_sweep``,
  ``sweep``).
- ``result``: ``SweepResult`` (frames, Parquet, target) and ``SweepRun``; ``charts``: one chart per outcome.
"""
from __future__ import annotations

from tariffscope.compose.sweep.models import Outcome
from tariffscope.compose.sweep.result import SweepResult, SweepRun
from tariffscope.compose.sweep.run import check_target, produced_outcomes, run_sweep, sweep
from tariffscope.compose.sweep.spec import Axis, SweepSpec, expand_grid, load_spec, set_path
from tariffscope.compose.sweep.target import Target, TargetResult, parse_target

__all__ = ["Axis", "SweepSpec", "load_spec", "expand_grid", "set_path", "parse_target", "Target", "run_sweep",
           "sweep", "SweepResult", "SweepRun", "TargetResult", "Outcome", "check_target", "produced_outcomes"]
