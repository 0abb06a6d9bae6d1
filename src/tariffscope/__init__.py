"""tariffscope: trade imbalances and US tariff policy from official data.

``import tariffscope as ts`` gives the public API (``ts.__all__``); see the README for a tour.
"""
from __future__ import annotations

from tariffscope import api as _api
from tariffscope.api import *  # noqa: F401,F403
from tariffscope.errors import (
    DataNotFoundError,
    IngestError,
    InputError,
    ModelError,
    RuleError,
    TariffscopeError,
)

__version__ = "0.1.0"
__all__ = [
    *_api.__all__,
    "TariffscopeError",
    "InputError",
    "IngestError",
    "DataNotFoundError",
    "RuleError",
    "ModelError",
    "__version__",
]
