"""The thin public API used by every front end (CLI, brief, web app).

Each function validates its inputs (countries, codes, dates), opens the warehouse, calls the domain
module and returns a typed result with ``.to_frame()`` / ``.to_dict()``. Front ends never touch the
warehouse or the models directly.

Sections are owned by area; keep each function thin.
"""
from __future__ import annotations

__all__: list[str] = []

# --- data (warehouse, ingest, status) ----------------------------------------------------------

# --- codes (countries, products, sectors) ------------------------------------------------------

# --- tariffs (duty, etr, measures) -------------------------------------------------------------

# --- trade (balance, monitor, mirror) ----------------------------------------------------------

# --- scenarios and partial equilibrium ----------------------------------------------------------

# --- gravity and general equilibrium -----------------------------------------------------------

# --- report (brief) ----------------------------------------------------------------------------

# --- scale (executors, sweeps, world panels) -------------------------------------------------
from tariffscope.parallel import get_executor  # noqa: E402  (the one execution seam: serial | process | dask)

__all__ += ["get_executor"]
