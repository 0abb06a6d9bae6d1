"""Sweeps: run a model over a grid of policy parameters, on any executor; tidy table, charts, target search.

A sweep spec (YAML, ``yaml.safe_load`` + pydantic) names a model, a base and a grid::

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
"""
from __future__ import annotations

import copy
import importlib
import itertools
import json
import math
import operator
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from tariffscope.errors import InputError, ModelError, RuleError
from tariffscope.parallel import Executor, get_executor, seed_int, spawn_seeds

MAX_POINTS = 200_000


# --- the spec -----------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Axis(_Strict):
    """One grid dimension: explicit ``values`` or an inclusive range ``from``..``to`` by ``step``."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    path: str | None = None  # defaults to name
    values: list[float] | None = None
    start: float | None = Field(None, alias="from")
    stop: float | None = Field(None, alias="to")
    step: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> Axis:
        ranged = (self.start, self.stop, self.step)
        if self.values is not None:
            if any(v is not None for v in ranged):
                raise ValueError("give either values or from/to/step, not both")
            if not self.values:
                raise ValueError("values is empty")
        elif any(v is None for v in ranged):
            raise ValueError("give values, or from, to and step")
        elif self.stop < self.start:  # type: ignore[operator]
            raise ValueError("to must be >= from")
        return self

    def grid_values(self) -> list[float]:
        if self.values is not None:
            return [float(v) for v in self.values]
        n = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1  # type: ignore[operator]
        return [round(self.start + i * self.step, 12) for i in range(n)]  # type: ignore[operator]

    @property
    def target_path(self) -> str:
        return self.path or self.name


class SweepSpec(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    description: str = ""
    model: str = "pe"
    base: str | dict[str, Any] = Field(default_factory=dict)
    changes: list[dict[str, Any]] = Field(default_factory=list)
    grid: list[Axis] = Field(min_length=1)
    outcomes: list[str] | None = None  # which outcomes to keep/chart (default: all the model reports)
    countries: list[str] | None = None  # GE: focus countries of the outcomes (default: USA and JPN)
    against: str | None = None  # PE: report changes against this scenario (default: the reference regime)
    target: str | None = None
    draws: int = Field(0, ge=0)
    seed: int = Field(0, ge=0)
    batch: int | None = Field(None, ge=1)
    _source_dir: Path | None = PrivateAttr(None)  # folder of the spec file: relative base paths start there

    @model_validator(mode="after")
    def _checks(self) -> SweepSpec:
        names = [a.name for a in self.grid]
        if len(set(names)) != len(names):
            raise ValueError(f"grid axis names repeat: {names}")
        if not (self.model in ("pe", "ge") or self.model.startswith("python:")):
            raise ValueError("model must be pe, ge or python:module:function")
        n = math.prod(len(a.grid_values()) for a in self.grid)
        if n > MAX_POINTS:
            raise ValueError(f"grid has {n:,} points (max {MAX_POINTS:,})")
        if self.target:
            parse_target(self.target)
        return self

    @property
    def size(self) -> int:
        return math.prod(len(a.grid_values()) for a in self.grid)

    def base_ref(self) -> str | dict[str, Any]:
        """``base`` with a relative file path resolved against the spec's folder (else left as given)."""
        if isinstance(self.base, str) and self._source_dir is not None and not Path(self.base).is_absolute():
            candidate = self._source_dir / self.base
            if candidate.is_file():
                return str(candidate)
        return self.base


def load_spec(spec: str | Path | dict[str, Any] | SweepSpec) -> SweepSpec:
    """A validated spec from a YAML path, a mapping or a spec; errors are ``RuleError`` naming the field."""
    if isinstance(spec, SweepSpec):
        return spec
    source = "<sweep>"
    if isinstance(spec, (str, Path)):
        path = Path(spec)
        if not path.is_file():
            raise InputError(f"no such sweep spec: {path}")
        source = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RuleError(f"{source}: not valid YAML: {exc}") from exc
    else:
        data = spec
    if not isinstance(data, dict):
        raise RuleError(f"{source}: a sweep spec is a mapping (name, model, base, grid, ...)")
    try:
        out = SweepSpec.model_validate(data)
        if isinstance(spec, (str, Path)):
            out._source_dir = Path(spec).resolve().parent
        return out
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".")
        raise RuleError(f"{source}: {loc or 'spec'}: {err['msg'].removeprefix('Value error, ')}") from None


def expand_grid(spec: SweepSpec) -> list[dict[str, float]]:
    """Every grid point as {axis name: value}, cartesian product, last axis fastest."""
    axes = [a.grid_values() for a in spec.grid]
    return [dict(zip((a.name for a in spec.grid), combo)) for combo in itertools.product(*axes)]


_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set ``data`` at ``path`` (``changes[1].rate``, ``model.omega``); the parent must exist."""
    tokens = [(m.group(1), m.group(2)) for m in _PATH_TOKEN.finditer(path)]
    if not tokens or "".join(m.group(0) for m in _PATH_TOKEN.finditer(path)).replace(".", "") != path.replace(".", ""):
        raise InputError(f"bad grid path {path!r}: use keys and [index], e.g. changes[0].rate")
    node: Any = data
    for depth, (key, idx) in enumerate(tokens):
        last = depth == len(tokens) - 1
        where = path if last else "".join(f"[{i}]" if i else f".{k}" for k, i in tokens[: depth + 1]).lstrip(".")
        if idx is not None:
            i = int(idx)
            if not isinstance(node, list) or i >= len(node):
                raise InputError(f"grid path {path!r}: {where} does not exist in the base")
            if last:
                node[i] = value
            else:
                node = node[i]
        else:
            if not isinstance(node, dict) or (not last and key not in node):
                raise InputError(f"grid path {path!r}: {where} does not exist in the base")
            if last:
                node[key] = value
            else:
                node = node[key]


# --- targets ------------------------------------------------------------------------------------

_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq,
}
_CONSTRAINT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|>|<)\s*([-+]?[0-9.]+(?:[eE][-+]?\d+)?)\s*$")
_OBJECTIVE = re.compile(r"^\s*(minimi[sz]e|maximi[sz]e)\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    constraints: tuple[tuple[str, str, float], ...]
    sense: str | None  # 'min' | 'max' | None
    objective: str | None

    def __str__(self) -> str:
        parts = [f"{o} {op} {v:g}" for o, op, v in self.constraints]
        if self.objective:
            parts.append(f"{'minimize' if self.sense == 'min' else 'maximize'} {self.objective}")
        return "; ".join(parts)


def parse_target(text: str) -> Target:
    """``"deficit_cut_pct >= 10; maximize exporter_sector_jobs"``: constraints and at most one objective."""
    constraints, sense, objective = [], None, None
    for clause in filter(None, (c.strip() for c in re.split(r"[;,]", text))):
        if m := _CONSTRAINT.match(clause):
            constraints.append((m.group(1), m.group(2), float(m.group(3))))
        elif m := _OBJECTIVE.match(clause):
            if objective:
                raise InputError(f"target {text!r}: one objective only")
            sense, objective = ("min" if m.group(1).lower().startswith("minim") else "max"), m.group(2)
        else:
            raise InputError(f"target clause {clause!r}: use 'OUTCOME >= NUMBER' or 'minimize OUTCOME' "
                             "(clauses separated by ';')")
    if not constraints and not objective:
        raise InputError(f"target {text!r} is empty")
    return Target(tuple(constraints), sense, objective)


# --- models -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    unit: str


class _Model:
    """What every sweep model shares: the grid point as a deep copy of ``base`` with the axis paths
    set, and outcome names (labels and units from a result's ``_meta``; ``name__p05`` are bands)."""

    base: dict[str, Any]

    def params(self, point: dict[str, float], axes: Sequence[Axis]) -> dict[str, Any]:
        d = copy.deepcopy(self.base)
        for a in axes:
            set_path(d, a.target_path, point[a.name])
        return d

    def outcomes(self, first: dict[str, Any]) -> list[Outcome]:
        meta = first.get("_meta", {})
        return [Outcome(k, *meta.get(k, (k, ""))) for k in first if not k.startswith("_") and "__" not in k]


class PluginModel(_Model):
    """``python:module:function``: ``function(params, seed) -> {outcome: number}`` per grid point."""

    def __init__(self, ref: str, base: dict[str, Any], outcomes: list[str] | None = None) -> None:
        self.ref = ref
        self.fn = resolve_function(ref.removeprefix("python:"))
        self.base = dict(base)
        self.names = outcomes

    def run_batch(self, batch: list[tuple[int, dict[str, Any], int]]) -> list[dict[str, Any]]:
        return [dict(self.fn(params, seed)) for _, params, seed in batch]

    def sources(self) -> list[dict[str, str]]:
        return [{"source": self.ref, "what": "plug-in model function"}]


def resolve_function(ref: str) -> Callable[..., Any]:
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise InputError(f"plug-in model {ref!r}: use python:package.module:function")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"plug-in model {ref!r} not found: {exc}") from exc
    if not callable(fn):
        raise InputError(f"plug-in model {ref!r} is not callable")
    return fn


class PEModel(_Model):
    """The PE model through ``tariffscope.api.compare`` (one solve for a batch of grid points)."""

    ref = "pe"

    def __init__(self, spec: SweepSpec) -> None:
        from tariffscope import api

        ref = spec.base_ref()
        base = api.load_scenario(ref) if isinstance(ref, str) else None
        data = base.to_dict() if base is not None else copy.deepcopy(ref)
        if not data:
            raise InputError("a PE sweep needs a base scenario (base: NAME, PATH or a mapping)")
        data.setdefault("changes", [])
        data["changes"] = list(data["changes"]) + copy.deepcopy(spec.changes)
        self.base = data
        self.spec_name = spec.name
        self.draws, self.seed = spec.draws, spec.seed
        self.names = spec.outcomes
        self.client_pid = os.getpid()
        self.against = spec.against
        # The reporter's base-year balance with the partner turns the balance change into a % cut.
        partner = str(data.get("partner", "JPN"))
        year = str((data.get("model") or {}).get("trade_year", 2024))
        bal = api.balance("USA", partner, year, by=None)
        self.base_balance = float(bal.balance)
        self.balance_label = f"USA-{partner} goods balance {year}"
        self.balance_sources = [s.get("source", "") for s in bal.to_dict().get("sources", [])]

    def run_batch(self, batch: list[tuple[int, dict[str, Any], int]]) -> list[dict[str, Any]]:
        from tariffscope import api
        from tariffscope.scenarios.schema import scenario_from_dict

        if os.getpid() != self.client_pid:
            _private_warehouse()
        scs = []
        for index, data, _ in batch:
            d = dict(data, name=f"{self.spec_name}-p{index}")
            scs.append(scenario_from_dict(d, source=f"{self.spec_name} point {index}"))
        # Common random numbers: every point uses the sweep seed, so differences across the grid are smooth.
        res = api.compare(scs, against=self.against, draws=self.draws, seed=self.seed, backend="serial",
                          progress=False)
        out = []
        for pkg in res.packages:
            row: dict[str, Any] = {}
            for m in pkg["headline"]:
                row[m["name"]] = m["value"]
                for b in ("p05", "p50", "p95"):
                    if b in m:
                        row[f"{m['name']}__{b}"] = m[b]
            meta = {m["name"]: (m["label"], m["unit"]) for m in pkg["headline"]}
            self._derive(row, meta)
            row["_meta"] = meta
            out.append(row)
        return out

    def _derive(self, row: dict[str, Any], meta: dict[str, tuple[str, str]]) -> None:
        """Outcomes named for targets: the % cut in the base deficit and exporter jobs lost (positive = lost)."""
        change = row.get("balance_with_partner")
        if change is not None and self.base_balance < 0:
            row["deficit_cut_pct"] = 100.0 * change / abs(self.base_balance)
            meta["deficit_cut_pct"] = (f"Cut in the US goods deficit with the partner (% of the {self.balance_label})", "%")
            for b in ("p05", "p50", "p95"):
                if f"balance_with_partner__{b}" in row and row[f"balance_with_partner__{b}"] is not None:
                    row[f"deficit_cut_pct__{b}"] = 100.0 * row[f"balance_with_partner__{b}"] / abs(self.base_balance)
        jobs = row.get("exporter_sector_jobs")
        if jobs is not None:
            row["exporter_jobs_lost"] = -jobs
            meta["exporter_jobs_lost"] = ("Partner's auto manufacturing jobs lost (first-order)", "persons")
            for b, nb in (("p05", "p95"), ("p50", "p50"), ("p95", "p05")):
                if row.get(f"exporter_sector_jobs__{b}") is not None:
                    row[f"exporter_jobs_lost__{nb}"] = -row[f"exporter_sector_jobs__{b}"]

    def sources(self) -> list[dict[str, str]]:
        return [{"source": "tariffscope.api.compare", "what": "PE model (Armington/CES), 2024 US import flows"},
                {"source": ", ".join(filter(None, self.balance_sources)) or "tariffscope.api.balance",
                 "what": f"{self.balance_label} (base of deficit_cut_pct)"}]


def _model(spec: SweepSpec):
    if spec.model == "pe":
        return PEModel(spec)
    if spec.model == "ge":
        return GEModel(spec)
    base = spec.base if isinstance(spec.base, dict) else {}
    return PluginModel(spec.model, base, spec.outcomes)


_WORKER_HOME_ENV = "TARIFFSCOPE_SWEEP_WORKER_HOME"


def _private_warehouse() -> None:
    """Give this worker process its own copy of the warehouse (once per process).

    The PE path opens the warehouse read-write, and DuckDB lets one process at a time hold a file
    read-write: two local workers sharing ``$TARIFFSCOPE_HOME`` would fail on the lock. A private copy
    (about 30 MB) per worker process avoids that; it is removed when the worker exits.
    """
    if os.environ.get(_WORKER_HOME_ENV):
        return
    import atexit
    import shutil
    import tempfile

    from tariffscope import config

    src = config.warehouse_path()
    home = Path(tempfile.mkdtemp(prefix=f"tariffscope-worker-{os.getpid()}-"))
    if src.exists():
        shutil.copy2(src, home / src.name)
        wal = src.with_name(src.name + ".wal")
        if wal.exists():
            shutil.copy2(wal, home / wal.name)
    os.environ["TARIFFSCOPE_HOME"] = str(home)
    os.environ[_WORKER_HOME_ENV] = str(home)
    atexit.register(shutil.rmtree, home, True)
    # Pool workers leave through os._exit (no atexit); multiprocessing runs its finalizers first.
    from multiprocessing import util

    util.Finalize(None, shutil.rmtree, args=(str(home), True), exitpriority=10)


GE_METRICS = (
    ("real_gdp_change_pct", "Real GDP", "%"),
    ("welfare_change_pct", "Welfare", "%"),
    ("exports_change_pct", "Exports", "%"),
    ("imports_change_pct", "Imports", "%"),
)


class GEModel(_Model):
    """The GE model through ``tariffscope.api.ge_simulate`` (one GE SPEC per grid point).

    ``base`` is a GE SPEC (path or mapping, see docs/ge.md); grid paths address it (``changes[0].rate``).
    Outcomes per focus country ``c`` (``countries:``, default USA and JPN): ``<metric>_<c>`` for real
    GDP, welfare, exports and imports (% change), and for the first two focus countries ``a``, ``b``:
    ``balance_<a>_<b>`` (a's bilateral balance with b, counterfactual, model units) and
    ``deficit_cut_pct`` (its change in % of the baseline deficit, when a has one).
    """

    ref = "ge"

    def __init__(self, spec: SweepSpec) -> None:
        from tariffscope.models.ge_spec import GESpec, load_spec as load_ge_spec

        ref = spec.base_ref()
        if isinstance(ref, str):
            gspec, self.base_dir = load_ge_spec(ref)
            data = gspec.model_dump(mode="json")
        else:
            data, self.base_dir = copy.deepcopy(ref), spec._source_dir
        data["changes"] = list(data.get("changes") or []) + copy.deepcopy(spec.changes)
        GESpec.model_validate(data)  # fail early, in the client, on a bad base
        self.base = data
        self.spec_name = spec.name
        self.countries = [c.upper() for c in (spec.countries or ["USA", "JPN"])]
        self.label = str((data.get("data") or {}).get("label") or (data.get("data") or {}).get("path", ""))
        self.rates_source = str(data.get("rates_source") or "")

    def run_batch(self, batch: list[tuple[int, dict[str, Any], int]]) -> list[dict[str, Any]]:
        from tariffscope.models.ge_spec import GESpec, run_spec

        out = []
        for index, data, _ in batch:
            gspec = GESpec.model_validate(dict(data, name=f"{self.spec_name}-p{index}"))
            run = run_spec(gspec, base_dir=self.base_dir)
            frame = run.to_frame()
            missing = [c for c in self.countries if c not in frame.index]
            if missing:
                raise InputError(f"GE sweep: focus countries {missing} are not in the GE data")
            row: dict[str, Any] = {}
            meta: dict[str, tuple[str, str]] = {}
            for c in self.countries:
                for col, label, unit in GE_METRICS:
                    row[f"{col}_{c}"] = float(frame.at[c, col])
                    meta[f"{col}_{c}"] = (f"{label} of {c}", unit)
            if len(self.countries) >= 2:
                a, b = self.countries[:2]
                pairs = run.pairs_frame().set_index(["exporter", "importer"])
                b0 = float(pairs.at[(a, b), "flow_baseline"] - pairs.at[(b, a), "flow_baseline"])
                b1 = float(pairs.at[(a, b), "flow_counterfactual"] - pairs.at[(b, a), "flow_counterfactual"])
                row[f"balance_{a}_{b}"] = b1
                meta[f"balance_{a}_{b}"] = (f"{a} balance with {b} (counterfactual, data units)", "")
                if b0 < 0:
                    row["deficit_cut_pct"] = 100.0 * (b1 - b0) / abs(b0)
                    meta["deficit_cut_pct"] = (f"Cut in the {a} deficit with {b} (% of baseline)", "%")
            row["_meta"] = meta
            out.append(row)
        return out

    def sources(self) -> list[dict[str, str]]:
        out = [{"source": "tariffscope.api.ge_simulate", "what": f"structural gravity GE model; data: {self.label}"}]
        if self.rates_source:
            out.append({"source": self.rates_source, "what": "base tariff rates of the GE SPEC"})
        return out


def _run_task(model: Any, batch: list[tuple[int, dict[str, Any], int]]) -> list[tuple[int, dict[str, Any]]]:
    """One executor task: a batch of grid points (module level so it pickles by reference)."""
    results = model.run_batch(batch)
    if len(results) != len(batch):
        raise ModelError(f"model returned {len(results)} results for {len(batch)} grid points")
    return [(index, r) for (index, _, _), r in zip(batch, results)]


# --- results ------------------------------------------------------------------------------------


@dataclass
class TargetResult:
    target: str
    found: bool
    feasible: int
    point: int | None = None
    params: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "found": self.found, "feasible_points": self.feasible, "point": self.point,
                "params": self.params, "outcomes": self.outcomes}


@dataclass
class SweepResult:
    """The tidy result of a sweep: ``table`` (pyarrow) has one row per grid point x outcome."""

    spec: SweepSpec
    table: Any                     # pyarrow.Table
    outcomes: list[Outcome]
    backend: str
    workers: int
    seconds: float
    sources: list[dict[str, str]] = field(default_factory=list)

    @property
    def axes(self) -> list[str]:
        return [a.name for a in self.spec.grid]

    def to_frame(self, wide: bool = False):
        """The tidy table as pandas; ``wide=True``: one row per point, one column per outcome."""
        df = self.table.to_pandas()
        if not wide:
            return df
        vals = df.pivot(index="point", columns="outcome", values="value")[[o.name for o in self.outcomes]]
        vals.columns.name = None
        w = df.drop_duplicates("point").set_index("point")[self.axes].join(vals)
        return w.reset_index().sort_values("point").reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {"sweep": self.spec.name, "model": self.spec.model, "points": self.spec.size,
                "axes": {a.name: a.grid_values() for a in self.spec.grid},
                "outcomes": [o.__dict__ for o in self.outcomes], "backend": self.backend, "workers": self.workers,
                "seconds": round(self.seconds, 3), "rows": self.to_frame(wide=True).to_dict("records"),
                "sources": self.sources}

    def write_parquet(self, path: str | Path) -> Path:
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = dict(self.table.schema.metadata or {})
        meta.update({b"tariffscope.sweep": json.dumps(self.spec.model_dump(mode="json", by_alias=True)).encode(),
                     b"tariffscope.sources": json.dumps(self.sources).encode()})
        pq.write_table(self.table.replace_schema_metadata(meta), path)
        return path

    def find_target(self, target: str | Target | None = None) -> TargetResult:
        """The grid point meeting every constraint with the best objective (ties: the lowest point index)."""
        target = target or self.spec.target
        if target is None:
            raise InputError("no target given (spec 'target:' or --target)")
        t = parse_target(target) if isinstance(target, str) else target
        w = self.to_frame(wide=True)
        known = set(w.columns) - {"point", *self.axes}
        for name in [c[0] for c in t.constraints] + ([t.objective] if t.objective else []):
            if name not in known:
                raise InputError(f"target names unknown outcome {name!r}; outcomes: {', '.join(sorted(known))}")
        ok = np.ones(len(w), dtype=bool)
        for name, op, value in t.constraints:
            col = w[name].to_numpy(dtype=float)
            ok &= np.isfinite(col) & _OPS[op](col, value)
        feasible = w[ok]
        if feasible.empty:
            return TargetResult(str(t), False, 0)
        if t.objective:
            col = feasible[t.objective].to_numpy(dtype=float)
            col = np.where(np.isfinite(col), col, np.inf if t.sense == "min" else -np.inf)
            pos = int(np.argmin(col) if t.sense == "min" else np.argmax(col))  # argmin/argmax: first on ties
        else:
            pos = 0
        row = feasible.iloc[pos]
        return TargetResult(str(t), True, int(len(feasible)), int(row["point"]),
                            {a: float(row[a]) for a in self.axes},
                            {k: (None if row[k] is None or (isinstance(row[k], float) and math.isnan(row[k]))
                                 else float(row[k])) for k in sorted(known)})

    def charts(self, out_dir: str | Path, fmt: str = "png", outcomes: Sequence[str] | None = None) -> list[Path]:
        """One chart per outcome across the grid: lines (1 axis, or 2 with few values) or a heatmap."""
        if fmt not in ("png", "svg"):
            raise InputError(f"bad chart format {fmt!r}: use png or svg")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        w = self.to_frame(wide=True)
        axes = self.axes
        paths = []
        src = "; ".join(s["source"] for s in self.sources)
        for o in self.outcomes:
            if outcomes and o.name not in outcomes:
                continue
            fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
            y = w[o.name].to_numpy(dtype=float)
            if len(axes) == 1:
                ax.plot(w[axes[0]], y, marker="o", ms=3)
                ax.set_xlabel(axes[0])
                ax.set_ylabel(f"{o.label} ({o.unit})" if o.unit else o.label)
            elif len(axes) == 2 and w[axes[1]].nunique() <= 8:
                for v, g in w.groupby(axes[1], sort=True):
                    ax.plot(g[axes[0]], g[o.name].astype(float), marker="o", ms=3, label=f"{axes[1]} = {v:g}")
                ax.legend(fontsize=7)
                ax.set_xlabel(axes[0])
                ax.set_ylabel(f"{o.label} ({o.unit})" if o.unit else o.label)
            else:
                # Heatmap over the first two axes (later axes: their first value).
                sub = w
                for extra in axes[2:]:
                    sub = sub[sub[extra] == sub[extra].iloc[0]]
                grid = sub.pivot_table(index=axes[1], columns=axes[0], values=o.name, aggfunc="first")
                im = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", origin="lower",
                               extent=(grid.columns.min(), grid.columns.max(), grid.index.min(), grid.index.max()))
                fig.colorbar(im, ax=ax, label=o.unit or "")
                ax.set_xlabel(axes[0])
                ax.set_ylabel(axes[1])
            ax.set_title(f"{self.spec.name}: {o.label}", fontsize=10)
            fig.text(0.01, 0.01, f"source: {src}", fontsize=6, color="#555")
            fig.tight_layout(rect=(0, 0.03, 1, 1))
            path = out_dir / f"{self.spec.name}_{o.name}.{fmt}"
            fig.savefig(path, metadata={"Date": None} if fmt == "svg" else None)
            plt.close(fig)
            paths.append(path)
        return paths


def run_sweep(spec: str | Path | dict[str, Any] | SweepSpec, *, executor: Executor | None = None,
              backend: str = "process", workers: int | None = None, cluster: str | None = None,
              progress: bool = True) -> SweepResult:
    """Run every grid point of ``spec`` on an executor (``executor``, or one made from backend/workers/cluster)."""
    import pyarrow as pa

    spec = load_spec(spec)
    model = _model(spec)
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


def sweep(spec: str | Path | dict[str, Any] | SweepSpec, *, out: str | Path | None = None, chart_format: str = "png",
          target: str | None = None, backend: str = "process", workers: int | None = None,
          cluster: str | None = None, progress: bool = True, charts: bool = True) -> SweepRun:
    """Run a sweep; with ``out``, write ``<out>/<name>.parquet`` and one chart per outcome; evaluate ``target``."""
    res = run_sweep(spec, backend=backend, workers=workers, cluster=cluster, progress=progress)
    files: list[Path] = []
    if out is not None:
        files.append(res.write_parquet(Path(out) / f"{res.spec.name}.parquet"))
        if charts:
            files.extend(res.charts(out, fmt=chart_format))
    tgt = res.find_target(target) if (target or res.spec.target) else None
    return SweepRun(result=res, files=files, target=tgt)


@dataclass
class SweepRun:
    result: SweepResult
    files: list[Path]
    target: TargetResult | None

    def to_frame(self, wide: bool = True):
        return self.result.to_frame(wide=wide)

    def to_dict(self) -> dict[str, Any]:
        d = self.result.to_dict()
        d["files"] = [str(f) for f in self.files]
        d["target"] = self.target.to_dict() if self.target else None
        return d


__all__ = ["Axis", "SweepSpec", "load_spec", "expand_grid", "set_path", "parse_target", "Target", "run_sweep",
           "sweep", "SweepResult", "SweepRun", "TargetResult", "Outcome"]
