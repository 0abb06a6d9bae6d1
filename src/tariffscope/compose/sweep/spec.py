"""The sweep spec: its schema (``SweepSpec``, ``Axis``), loading from YAML, grid expansion and grid paths."""
from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from tariffscope.compose.sweep.target import parse_target
from tariffscope.errors import InputError, RuleError

MAX_POINTS = 200_000


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
        elif self.start is None or self.stop is None or self.step is None:
            raise ValueError("give values, or from, to and step")
        elif self.stop < self.start:
            raise ValueError("to must be >= from")
        if not all(math.isfinite(v) for v in (self.values or []) + [v for v in ranged if v is not None]):
            raise ValueError("grid numbers must be finite (no .inf or .nan)")
        if self.values is None and (self.stop - self.start) / self.step + 1 > MAX_POINTS:  # type: ignore[operator]  # the validator above set start/stop/step when values is None
            # counted before any list is built: 'step: 1e-12' would otherwise fill memory
            raise ValueError(f"from/to/step give more than {MAX_POINTS:,} values (max {MAX_POINTS:,} grid points)")
        return self

    def grid_values(self) -> list[float]:
        if self.values is not None:
            return [float(v) for v in self.values]
        start, stop, step = self.start, self.stop, self.step
        assert start is not None and stop is not None and step is not None, "_one_form: values or all three"
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        return [round(start + i * step, 12) for i in range(n)]

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
        from tariffscope.ingest.safeyaml import read_yaml_file

        try:
            data = read_yaml_file(path)  # the one safe, bounded loader
        except InputError as exc:
            raise RuleError(str(exc)) from None
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
    return [dict(zip((a.name for a in spec.grid), combo, strict=True)) for combo in itertools.product(*axes)]


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
