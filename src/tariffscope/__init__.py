"""tariffscope: trade imbalances and US tariff policy from official data.

``import tariffscope as ts`` gives the public API (``ts.__all__``): the functions of ``tariffscope.api``,
the result classes they return (``ts.BalanceResult``, ``ts.DutyResult``, ``ts.EtrResult``, ...), and the
exception tree. The result classes load on first use, so that importing the package (every CLI start)
does not load every area; see the README for a tour.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from tariffscope import api as _api
from tariffscope.api import *  # noqa: F403 - api.__all__ is the public surface
from tariffscope.errors import (
    DataNotFoundError,
    IngestError,
    InputError,
    ModelError,
    RuleError,
    TariffscopeError,
)

if TYPE_CHECKING:  # what the lazy names below are, for type checkers (``X as X``: an explicit re-export)
    from tariffscope.codes.countries import Country as Country
    from tariffscope.codes.products import HtsDescription as HtsDescription
    from tariffscope.compose.backtest import BacktestResult as BacktestResult
    from tariffscope.compose.passthrough import PassThroughCalibration as PassThroughCalibration
    from tariffscope.compose.sweep.result import SweepRun as SweepRun
    from tariffscope.ingest.core import DataStatus as DataStatus, IngestResult as IngestResult
    from tariffscope.ingest.fetch import PullResult as PullResult
    from tariffscope.models.ge_spec import GERun as GERun, GESpec as GESpec
    from tariffscope.models.gravity import GravityEstimate as GravityEstimate
    from tariffscope.panels.ingest import IngestReport as IngestReport
    from tariffscope.panels.query import PanelBalance as PanelBalance
    from tariffscope.panels.store import PanelInfo as PanelInfo
    from tariffscope.parallel import Executor as Executor
    from tariffscope.scenarios.results import ComparisonResult as ComparisonResult, SimulationResult as SimulationResult
    from tariffscope.scenarios.schema import Scenario as Scenario
    from tariffscope.tariffs.engine import DutyResult as DutyResult, Layer as Layer
    from tariffscope.tariffs.etr import EtrResult as EtrResult
    from tariffscope.tariffs.measures import Catalogue as Catalogue, Measure as Measure
    from tariffscope.trade.balance import BalanceResult as BalanceResult, BalanceTable as BalanceTable
    from tariffscope.trade.mirror import ReconcileResult as ReconcileResult
    from tariffscope.trade.monitor import MonitorResult as MonitorResult
    from tariffscope.trade.reciprocal import FormulaResult as FormulaResult

# Result (and input) classes of the API functions -> the module that defines them.
_RESULT_TYPES: dict[str, str] = {
    "Country": "tariffscope.codes.countries",
    "HtsDescription": "tariffscope.codes.products",
    "BacktestResult": "tariffscope.compose.backtest",
    "PassThroughCalibration": "tariffscope.compose.passthrough",
    "IngestResult": "tariffscope.ingest.core",
    "DataStatus": "tariffscope.ingest.core",
    "PullResult": "tariffscope.ingest.fetch",
    "DutyResult": "tariffscope.tariffs.engine",
    "Layer": "tariffscope.tariffs.engine",
    "EtrResult": "tariffscope.tariffs.etr",
    "Catalogue": "tariffscope.tariffs.measures",
    "Measure": "tariffscope.tariffs.measures",
    "BalanceResult": "tariffscope.trade.balance",
    "BalanceTable": "tariffscope.trade.balance",
    "MonitorResult": "tariffscope.trade.monitor",
    "ReconcileResult": "tariffscope.trade.mirror",
    "FormulaResult": "tariffscope.trade.reciprocal",
    "Scenario": "tariffscope.scenarios.schema",
    "SimulationResult": "tariffscope.scenarios.results",
    "ComparisonResult": "tariffscope.scenarios.results",
    "GravityEstimate": "tariffscope.models.gravity",
    "GESpec": "tariffscope.models.ge_spec",
    "GERun": "tariffscope.models.ge_spec",
    "IngestReport": "tariffscope.panels.ingest",
    "PanelInfo": "tariffscope.panels.store",
    "PanelBalance": "tariffscope.panels.query",
    "SweepRun": "tariffscope.compose.sweep.result",
    "Executor": "tariffscope.parallel",
}

__version__ = "0.1.0"
__all__ = [
    *_api.__all__,
    *_RESULT_TYPES,
    "TariffscopeError",
    "InputError",
    "IngestError",
    "DataNotFoundError",
    "RuleError",
    "ModelError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _RESULT_TYPES.get(name)
    if module is None:
        raise AttributeError(f"module 'tariffscope' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # loaded once; later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
