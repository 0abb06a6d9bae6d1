"""What every sweep model shares (``SweepModel``: grid point parameters, outcome names) and the plug-in
model (``python:module:function``)."""
from __future__ import annotations

import copy
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from tariffscope.compose.sweep.spec import Axis, set_path
from tariffscope.errors import InputError


@dataclass(frozen=True)
class Outcome:
    name: str
    label: str
    unit: str


class SweepModel:
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

    def sources(self) -> list[dict[str, str]]:
        """Where the model's inputs come from ({source, what}); each model says its own."""
        raise NotImplementedError(f"{type(self).__name__} does not name its sources")


class PluginModel(SweepModel):
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
