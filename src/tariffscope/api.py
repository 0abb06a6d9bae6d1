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


def resolve_country(text: str):
    """The ``Country`` (iso3, iso2, name, census_code, m49, japan_customs_code) named by ``text``:
    'JPN', 'JP', 'Japan', 'Korea, South', '5880' (Census), '392' (UN M49), 'EU27', 'WLD'.
    Raises ``InputError`` with a suggestion for anything else."""
    from tariffscope.codes.countries import resolve_country as _resolve

    return _resolve(text)


__all__ += ["resolve_country"]

# --- tariffs (duty, etr, measures) -------------------------------------------------------------

# --- trade (balance, monitor, mirror) ----------------------------------------------------------


def balance(reporter: str = "USA", partner: str | list[str] = "JPN", period: str | int = "2024", by: str | None = "sector",
            currency: str = "USD"):
    """Goods balance of ``reporter`` with ``partner`` ('YYYY' or 'YYYY-MM'), by sector/HS level, direct or mirror.

    ``partner='all'`` or a list gives a ``BalanceTable`` for many partners in one query.
    """
    from tariffscope.trade.balance import balance as _balance

    return _balance(reporter, partner, period, by=by, currency=currency)


def monitor(reporter: str = "USA", partner: str = "JPN", month: str | None = None, by: str | None = None,
            from_: str | None = None, to: str | None = None, currency: str = "USD"):
    """Monthly level and y/y change of exports, imports, balance; detail by sector; volume/unit value."""
    from tariffscope.trade.monitor import monitor as _monitor

    return _monitor(reporter, partner, month, by=by, from_=from_, to=to, currency=currency)


def reconcile(partner_figures, reporter: str = "JPN", partner: str = "USA", cif_factor: float | None = None,
              lag_months: int = 0):
    """Split the gap between a partner's published figures (CSV path) and the mirror estimate."""
    from tariffscope.trade import mirror

    return mirror.reconcile(partner_figures, reporter, partner, lag_months=lag_months,
                            cif_factor=mirror.CIF_FACTOR if cif_factor is None else cif_factor)


__all__ += ["balance", "monitor", "reconcile"]

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


def ingest_panel(path, name: str, *, vintage: str | None = None, countries=None, replace: bool = False):
    """Ingest BACI-style CSV (t,i,j,k,v,q) into world panel ``name`` (partitioned Parquet). -> IngestReport"""
    from tariffscope import panels

    return panels.ingest_panel(path, name, vintage=vintage, countries=countries, replace=replace)


def list_panels():
    from tariffscope import panels

    return panels.list_panels()


def panel_info(name: str):
    from tariffscope import panels

    return panels.panel_info(name)


def remove_panel(name: str) -> None:
    from tariffscope import panels

    panels.remove_panel(name)


def panel_balance(name: str, reporter: str, partner: str, year: int, by: str = "hs2"):
    """Balance of any reporter with any partner from world panel ``name`` (USD, by product). -> PanelBalance"""
    from tariffscope import panels

    return panels.panel_balance(name, reporter, partner, year, by=by)


def panel_imports(name: str, importer: str, year: int, by: str = "hs6"):
    """Import lines (product, origin, value_usd, quantity_t) of any importer: base flows for the PE model."""
    from tariffscope import panels

    return panels.panel_imports(name, importer, year, by=by)


__all__ += ["get_executor", "ingest_panel", "list_panels", "panel_info", "remove_panel", "panel_balance",
            "panel_imports"]
