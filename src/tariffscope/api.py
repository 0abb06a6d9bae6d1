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


def build_brief(partner: str = "JPN", as_of=None, out="brief.html", fmt: str = "html", progress: bool = True, draws: int = 50):
    """Build the one-file HTML (or Markdown, ``fmt='md'``) brief for ``partner``; returns its Path."""
    from tariffscope.report.brief import build_brief as _build  # late: the brief calls back into this module

    return _build(partner=partner, as_of=as_of, out=out, fmt=fmt, progress=progress, draws=draws)


__all__ += ["build_brief"]

# --- scale (executors, sweeps, world panels) -------------------------------------------------
from tariffscope.parallel import get_executor  # noqa: E402  (the one execution seam: serial | process | dask)

__all__ += ["get_executor"]
