"""The result of a sweep: the tidy table (``SweepResult``: frames, dict, Parquet with the spec and
sources in its metadata, target point, charts) and a run's files and target (``SweepRun``)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tariffscope.compose.sweep.charts import outcome_charts
from tariffscope.compose.sweep.models import Outcome
from tariffscope.compose.sweep.spec import SweepSpec
from tariffscope.compose.sweep.target import Target, TargetResult, find_target
from tariffscope.errors import InputError


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
        return find_target(self.to_frame(wide=True), self.axes, target)

    def charts(self, out_dir: str | Path, fmt: str = "png", outcomes: Sequence[str] | None = None) -> list[Path]:
        """One chart per outcome across the grid: lines (1 axis, or 2 with few values) or a heatmap."""
        return outcome_charts(self, out_dir, fmt=fmt, outcomes=outcomes)


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
