"""Targets: parsing ``"deficit_cut_pct >= 10; maximize exporter_sector_jobs"`` and finding the grid point
that meets every constraint at the best objective."""
from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tariffscope.errors import InputError

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



@dataclass
class TargetResult:
    target: str
    found: bool
    feasible: int
    point: int | None = None
    params: dict[str, float] = field(default_factory=dict)
    outcomes: dict[str, float | None] = field(default_factory=dict)  # None: the outcome is missing at that point

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "found": self.found, "feasible_points": self.feasible, "point": self.point,
                "params": self.params, "outcomes": self.outcomes}


def find_target(wide: Any, axes: Sequence[str], target: str | Target) -> TargetResult:
    """The row of ``wide`` (one row per grid point: ``point``, the ``axes`` columns, one column per
    outcome) meeting every constraint with the best objective (ties: the lowest point index)."""
    t = parse_target(target) if isinstance(target, str) else target
    w = wide
    known = set(w.columns) - {"point", *axes}
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
                        {a: float(row[a]) for a in axes},
                        {k: (None if row[k] is None or (isinstance(row[k], float) and math.isnan(row[k]))
                             else float(row[k])) for k in sorted(known)})
