"""Aliases and option sets shared across modules."""
from __future__ import annotations

from typing import Literal

Flow = Literal["imports", "exports"]
# 'general' imports (all entries incl. warehouses/FTZ) vs imports 'consumption' (entered for consumption).
TradeRegime = Literal["general", "consumption", "total"]
ValueBasis = Literal["customs", "cif", "fas", "fob", "dutiable"]
Frequency = Literal["A", "M", "D"]
Classification = Literal["TOTAL", "HS", "HTS"]
OutputFormat = Literal["table", "json", "csv"]
Authority = Literal["mfn", "232", "ieepa_reciprocal", "ieepa_fentanyl", "301", "201", "122", "deal"]
