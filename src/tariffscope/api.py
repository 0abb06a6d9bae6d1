"""The thin public API used by every front end (CLI, brief, web app).

Each function validates its inputs (countries, codes, dates), opens the warehouse, calls the domain
module and returns a typed result with ``.to_frame()`` / ``.to_dict()``. Front ends never touch the
warehouse or the models directly.

Sections are owned by area; keep each function thin. Every function names its return type; the result
classes are exported from ``tariffscope`` (``tariffscope.__all__``, loaded on first use).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotations only: importing every area here would slow every CLI start
    import datetime as dt

    import httpx
    import pyarrow as pa

    from tariffscope import db
    from tariffscope.codes.countries import Country
    from tariffscope.codes.products import HtsDescription
    from tariffscope.compose.backtest import BacktestResult
    from tariffscope.compose.passthrough import PassThroughCalibration
    from tariffscope.compose.sweep import SweepRun
    from tariffscope.ingest.core import DataStatus, IngestResult
    from tariffscope.ingest.fetch import PullResult
    from tariffscope.models.ge_spec import GERun, GESpec
    from tariffscope.models.gravity import GravityEstimate
    from tariffscope.panels import IngestReport, PanelBalance, PanelInfo
    from tariffscope.scenarios.run import ComparisonResult, SimulationResult
    from tariffscope.scenarios.schema import Scenario
    from tariffscope.tariffs.engine import DutyResult
    from tariffscope.tariffs.etr import EtrResult
    from tariffscope.tariffs.measures import Catalogue
    from tariffscope.trade.balance import BalanceResult, BalanceTable
    from tariffscope.trade.mirror import ReconcileResult
    from tariffscope.trade.monitor import MonitorResult
    from tariffscope.trade.reciprocal import FormulaResult

__all__: list[str] = []

# --- data (warehouse, ingest, status) ----------------------------------------------------------


def open_warehouse(path: str | Path | None = None, read_only: bool | None = None) -> db.Connection:
    """The warehouse connection (created, migrated and loaded with the embedded data on first use).

    ``read_only``: None (a reader: read-only once the warehouse is ready), True, or False (a writer)."""
    from tariffscope.ingest import warehouse

    return warehouse.open_warehouse(path, read_only=read_only)


def preload(con: db.Connection | None = None, start: str | dt.date | None = None,
            end: str | dt.date | None = None) -> None:
    """Read and check the reference files that tariff and scenario work needs before it touches the warehouse
    (the measure catalogue, the HS prefixes a scenario's partner side is checked against), once per process.

    Needs no warehouse, so a caller can run it beside other work: ``tariffscope brief`` runs it on a thread
    while a fresh home's warehouse is built (DuckDB's inserts leave the interpreter free). With ``con``,
    ``start`` and ``end`` (dates) it also builds the MFN tables of the HTS revisions in force over those days,
    one at a time (another thread that needs one meanwhile waits for one build at most, then builds its own):
    the brief does that while its scenario comparison runs, for the backtest and the timeline after it."""
    from tariffscope.errors import InputError
    from tariffscope.scenarios import schema
    from tariffscope.tariffs import measures

    ranged = (start is not None, end is not None)
    if any(ranged) and not (all(ranged) and con is not None):  # else it would quietly build no table
        raise InputError("preload: give con, start and end together (or none of them)")
    measures.load()
    schema.known_hs_prefixes()
    schema.measure_ids()
    if con is not None and start is not None and end is not None:
        from tariffscope.tariffs import hts
        from tariffscope.tariffs.engine import parse_date

        d0, d1 = parse_date(start), parse_date(end)
        if d1 < d0:
            raise InputError(f"preload: start {d0} is after end {d1}")
        first = hts.revision_in_force(con, d0).revision
        names = [r.revision for r in hts.revisions(con) if d0 < r.effective_date <= d1]
        for rev in dict.fromkeys([first, *names]):
            hts.mfn_table(con, rev)


def ingest(path: str | Path, kind: str | None = None, con: db.Connection | None = None, source: str | None = None,
           **options: Any) -> IngestResult:
    """Ingest one file (kind auto-detected unless given) in one transaction: an ``IngestResult``.
    Re-ingesting the same file is a no-op; a malformed file raises ``IngestError`` and writes nothing."""
    from tariffscope.ingest.core import ingest as _ingest

    return _ingest(path, kind=kind, con=con, source=source, **options)


def ingest_many(paths: Sequence[str | Path], kind: str | None = None, con: db.Connection | None = None,
                source: str | None = None, workers: int | None = None, **options: Any) -> list[IngestResult]:
    """Ingest files (a directory: the files in it) in one transaction, all or none: one ``IngestResult``
    per file, each with its own ingest-log and provenance row. Every file is read and checked before
    anything is written (in ``workers`` processes for a large batch); a refused file refuses the batch."""
    from tariffscope.ingest.core import ingest_many as _ingest_many

    return _ingest_many(paths, kind=kind, con=con, source=source, workers=workers, **options)


def data_status(con: db.Connection | None = None) -> DataStatus:
    """What the warehouse holds (sources, vintages, periods, row counts): a ``DataStatus``."""
    from tariffscope.ingest.core import data_status as _status

    return _status(con)


def pull(what: str, transport: httpx.BaseTransport | None = None, con: db.Connection | None = None,
         **options: Any) -> PullResult:
    """Pull from a publisher's API and ingest: what = 'census' | 'hts' | 'fred' (see ingest.fetch): a ``PullResult``.
    ``transport`` swaps the HTTP transport (``httpx.MockTransport`` in tests)."""
    from tariffscope.errors import InputError
    from tariffscope.ingest import fetch

    pullers: dict[str, Callable[..., PullResult]] = {"census": fetch.pull_census, "hts": fetch.pull_hts,
                                                   "fred": fetch.pull_fred}
    if what not in pullers:
        raise InputError(f"bad pull {what!r}: census, hts or fred")
    return pullers[what](transport=transport, con=con, **options)


__all__ += ["open_warehouse", "preload", "ingest", "ingest_many", "data_status", "pull"]

# --- codes (countries, products, sectors) ------------------------------------------------------


def resolve_country(text: str) -> Country:
    """The ``Country`` (iso3, iso2, name, census_code, m49, japan_customs_code) named by ``text``:
    'JPN', 'JP', 'Japan', 'Korea, South', '5880' (Census), '392' (UN M49), 'EU27', 'WLD'.
    Raises ``InputError`` with a suggestion for anything else."""
    from tariffscope.codes.countries import resolve_country as _resolve

    return _resolve(text)


def group_members(code: str) -> tuple[str, ...]:
    """ISO3 members of a group ('EU27', 'WLD'); a single country is its own only member."""
    from tariffscope.codes.countries import group_members as _members

    return _members(code)


def normalize_hts(text: str) -> str:
    """Digits of an HS/HTS code ('8703.23.01.40' -> '8703230140'); 2, 4, 6, 8 or 10 digits, else InputError."""
    from tariffscope.codes.products import normalize_hts as _normalize

    return _normalize(text)


def describe_hts(code: str, revision: str | None = None, con: db.Connection | None = None) -> HtsDescription:
    """``HtsDescription`` of a code in an HTS revision (default: latest loaded), with the full indent chain.
    ``con``: a warehouse connection to read; None opens the warehouse for this call."""
    from tariffscope.codes.products import describe

    own = _tariff_con(con)
    try:
        return describe(code, revision, con=own)
    finally:
        if con is None:
            own.close()


def search_hts(query: str, limit: int = 20, revision: str | None = None,
               con: db.Connection | None = None) -> list[HtsDescription]:
    """HTS lines of a revision (default: latest loaded) whose code starts with ``query`` (digits, dots and
    spaces allowed, code order), or whose description chain (the line and the HTS lines and header rows
    above it) holds every word of it: lines whose own description holds every word first, then the
    topmost lines that hold them only with their ancestors ("passenger motor" finds 8703.23.01.20,
    station wagons and passenger vans under "Motor cars ..."); at most ``limit``, each an
    ``HtsDescription`` with its chain (heading > subheading > ... > the line). InputError when the query
    has no digit and no word of 2 letters or more."""
    import re

    from tariffscope import db as _db
    from tariffscope.codes.products import describe, latest_revision, search_words
    from tariffscope.errors import InputError

    text = query.strip()
    if not 1 <= limit <= 100:
        raise InputError(f"limit must be between 1 and 100, got {limit}")
    if len(text) > 80:
        raise InputError(f"a product search is at most 80 characters, got {len(text)}")
    own = _tariff_con(con)
    try:
        rev = revision or latest_revision(own)
        digits = re.sub(r"[ .]", "", text)
        if digits.isdigit():
            if len(digits) < 2:
                raise InputError("search by code with at least 2 digits (a chapter), e.g. 8703 or 8703.23")
            codes = [r["hts_code"] for r in _db.query(
                own, "SELECT hts_code FROM hts_lines WHERE revision = ? AND starts_with(hts_code, ?) "
                "ORDER BY hts_code LIMIT ?", [rev, digits, limit]).to_pylist()]
        else:
            words = [w for w in re.findall(r"[^\W_]+", text.lower()) if len(w) >= 2][:6]
            if not words:
                raise InputError(f"search for a product name (a word of 2 letters or more) or an HS code, got {text[:40]!r}")
            # substring match on the lowered text: no LIKE pattern, so '%' or '_' typed by a user match only themselves
            codes = search_words(words, rev, limit, con=own)
        return [describe(c, rev, con=own) for c in codes]
    finally:
        if con is None:
            own.close()


def sector_of(code: str) -> str:
    """Sector id of an HS/HTS code ('passenger_vehicles', 'automobile_parts', ..., 'other')."""
    from tariffscope.codes.sectors import sector_of as _sector_of

    return _sector_of(code)


__all__ += ["resolve_country", "group_members", "normalize_hts", "describe_hts", "search_hts", "sector_of"]

# --- tariffs (duty, etr, measures) -------------------------------------------------------------

def _tariff_con(con: db.Connection | None = None) -> db.Connection:
    """The caller's connection, else the warehouse opened (and loaded on first use) for this call.

    The engine's MFN tables are cached per warehouse file, so a fresh connection per call costs the
    open (~0.1 s), not a rebuild; loops and servers should pass ``con=`` (the web app does).
    """
    if con is not None:
        return con
    from tariffscope.ingest import warehouse

    return warehouse.open_warehouse()


def duty(hts10: str, origin: str, date, customs_value: float = 1.0, quantity: float | None = None,
         metal_share: float | None = None, options: dict | None = None, con: db.Connection | None = None,
         one_off: bool = False) -> DutyResult:
    """Every layer of duty on one entry (HTS10, origin, entry date, customs value): a ``DutyResult``.

    ``one_off=True`` for a few answers in a process that asks no more (the brief's examples): the catalogue is
    compiled for this line alone (milliseconds) instead of for its whole HTS revision (~0.2 s and ~50 MB, kept so
    that a server's next answers take about a millisecond). Same layers either way."""
    from tariffscope.tariffs.engine import duty as _duty

    return _duty(_tariff_con(con), hts10, origin, date, customs_value, quantity, metal_share, options, one_off=one_off)


def duty_options() -> list[dict]:
    """The duty engine's share options (metal content, USMCA share, conditional scopes): name, default and
    what the share means, so a front end shows each input with its default instead of applying it unseen."""
    from typing import cast

    from tariffscope.tariffs.rules import OPTIONS, SHARE_OPTIONS

    # the share options' defaults are numbers (resolve_options checks them; OPTIONS types them as object), except
    # where the default is data rather than one number (usmca: None = the dated claim shares by sector)
    return [{"name": k, "default": None if OPTIONS[k][0] is None else float(cast(float, OPTIONS[k][0])),
             "help": OPTIONS[k][1]} for k in SHARE_OPTIONS]


def duty_panel(date, origins: list[str] | None = None, hts10: list[str] | None = None, options: dict | None = None,
               con: db.Connection | None = None) -> pa.Table:
    """Rates for every HTS10 x origin at a date (pyarrow.Table: hts10, origin, mfn_rate, rate_<authority>..., total_rate)."""
    from tariffscope.tariffs.panel import duty_panel as _panel

    return _panel(_tariff_con(con), date, origins=origins, hts10=hts10, options=options)


def etr(partner: str = "WLD", date=None, start=None, end=None, by: str | None = None,
        weights: str = "census_import_weights_2024", period: str | None = None, options: dict | None = None,
        con: db.Connection | None = None) -> EtrResult:
    """Trade-weighted effective tariff rate on a date or each day of a range: an ``EtrResult``."""
    from tariffscope.tariffs.etr import etr as _etr

    return _etr(_tariff_con(con), partner, date=date, start=start, end=end, by=by, weights=weights, period=period, options=options)


def etr_series(partner: str, start, end, by: str | None = None, options: dict | None = None,
               con: db.Connection | None = None) -> EtrResult:
    """Daily ETR series over [start, end] with the contribution of each authority."""
    return etr(partner, start=start, end=end, by=by, options=options, con=con)


def measures() -> Catalogue:
    """The validated measure catalogue (``Catalogue``: ``.measures``, ``.get(id)``, ``.version``)."""
    from tariffscope.tariffs.measures import load

    return load()


def check_measures(con: db.Connection | None = None) -> list[dict]:
    """Every catalogue heading checked against the HTS revision in force on its effective date."""
    from tariffscope.tariffs.measures import check

    return check(_tariff_con(con))


def statutory_vs_realized(partner: str = "JPN", start: str = "2024-01", end: str | None = None, options: dict | None = None,
                          con: db.Connection | None = None) -> list[dict]:
    """Monthly statutory (that month's mix) vs realized (Census calculated duty / imports) rates."""
    from tariffscope.tariffs.etr import statutory_vs_realized as _svr

    return _svr(_tariff_con(con), partner, start, end, options)


__all__ += ["duty", "duty_options", "duty_panel", "etr", "etr_series", "measures", "check_measures", "statutory_vs_realized"]

# --- trade (balance, monitor, mirror) ----------------------------------------------------------


def balance(reporter: str = "USA", partner: str | list[str] = "JPN", period: str | int = "2024", by: str | None = "sector",
            currency: str = "USD", con: db.Connection | None = None) -> BalanceResult | BalanceTable:
    """Goods balance of ``reporter`` with ``partner`` ('YYYY' or 'YYYY-MM'), by sector/HS level, direct or mirror.

    ``partner='all'`` or a list gives a ``BalanceTable`` for many partners in one query.
    ``con``: a warehouse connection to read (e.g. a server's read-only one); None opens the warehouse.
    """
    from tariffscope.trade.balance import balance as _balance

    return _balance(reporter, partner, period, by=by, currency=currency, con=con)


def monitor(reporter: str = "USA", partner: str = "JPN", month: str | None = None, by: str | None = None,
            from_: str | None = None, to: str | None = None, currency: str = "USD", con: db.Connection | None = None
            ) -> MonitorResult:
    """Monthly level and y/y change of exports, imports, balance; detail by sector; volume/unit value.
    ``con``: a warehouse connection to read; None opens the warehouse."""
    from tariffscope.trade.monitor import monitor as _monitor

    return _monitor(reporter, partner, month, by=by, from_=from_, to=to, currency=currency, con=con)


def reconcile(partner_figures, reporter: str = "JPN", partner: str = "USA", cif_factor: float | None = None,
              lag_months: int = 0, con: db.Connection | None = None) -> ReconcileResult:
    """Split the gap between a partner's published figures (CSV path) and the mirror estimate."""
    from tariffscope.trade import mirror

    return mirror.reconcile(partner_figures, reporter, partner, lag_months=lag_months,
                            cif_factor=mirror.CIF_FACTOR if cif_factor is None else cif_factor, con=con)


def reciprocal_formula(year: str | int = "2024", basis: str = "general", vintage: str = "revised",
                       elasticity: float = 4.0, pass_through: float = 0.25, floor: float = 0.10, rounding: str = "up",
                       con: db.Connection | None = None) -> FormulaResult:
    """The USTR formula rate (half of deficit / imports with elasticity 4 x pass-through 0.25, floor 10%, rounded
    up) for every partner with ``year`` trade loaded, next to the EO 14257 Annex I rate, each difference explained."""
    from tariffscope.trade.reciprocal import reciprocal_formula as _formula

    return _formula(year, basis=basis, vintage=vintage, elasticity=elasticity, pass_through=pass_through, floor=floor,
                    rounding=rounding, con=con)


__all__ += ["balance", "monitor", "reconcile", "reciprocal_formula"]

# --- scenarios and partial equilibrium ----------------------------------------------------------


def scenarios() -> list[dict]:
    """The built-in scenarios: name, description, base, partner, number of changes."""
    from tariffscope.scenarios.run import builtin_names, get_scenario

    out = []
    for n in builtin_names():
        sc = get_scenario(n)
        base = "no_additional_tariffs" if sc.base.regime == "no_additional_tariffs" else str(sc.base.date)
        out.append({"name": sc.name, "description": sc.description, "base": base, "partner": sc.partner,
                    "changes": len(sc.changes)})
    return out


def load_scenario(spec: str | Path | Scenario) -> Scenario:
    """A validated Scenario from a built-in name, a YAML path or a Scenario (raises RuleError with the YAML path)."""
    from tariffscope.scenarios.run import get_scenario

    return get_scenario(spec)


def scenario_from_dict(mapping: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """A validated Scenario from a mapping (e.g. parsed YAML or JSON); raises RuleError naming the path
    of the first bad field (``<source>: changes[0].rate: ...``). No model run, no warehouse."""
    from tariffscope.scenarios.schema import scenario_from_dict as _from_dict

    return _from_dict(mapping, source=source)


def simulate(scenario, draws: int = 0, seed: int = 0, against=None, backend: str = "process",
             workers: int | None = None, progress: bool = True, con=None, panel: str | None = None,
             importer: str | None = None, year: int | None = None, horizon: str | None = None,
             reference: str | None = None) -> SimulationResult:
    """PE simulation of one scenario against its reference regime (default: in force on 2025-01-01; 2024
    flows) or ``against``; ``horizon`` (short | long) and ``reference`` (a date or 'mfn') override the file's.
    ``con``: the warehouse connection for import lines and duty panels (None: opened as needed).
    ``panel``, ``importer``, ``year``: run on any importer's HS6 x origin imports from a world panel
    (scenario base ``no_additional_tariffs`` with explicit rate changes)."""
    from tariffscope.scenarios.run import simulate as _simulate

    return _simulate(scenario, draws=draws, seed=seed, against=against, backend=backend, workers=workers,
                     progress=progress, con=con, panel=panel, importer=importer, year=year, horizon=horizon,
                     reference=reference)


def compare(scenarios, against=None, draws: int = 100, seed: int = 0, backend: str = "process",
            workers: int | None = None, progress: bool = True, con=None, panel: str | None = None,
            importer: str | None = None, year: int | None = None, horizon: str | None = None,
            reference: str | None = None) -> ComparisonResult:
    """Side-by-side headline outcomes of several scenarios (with Monte Carlo bands when draws > 0);
    ``panel``/``importer``/``year``/``horizon``/``reference`` as in ``simulate``."""
    from tariffscope.scenarios.run import compare as _compare

    return _compare(list(scenarios), against=against, draws=draws, seed=seed, backend=backend, workers=workers,
                    progress=progress, con=con, panel=panel, importer=importer, year=year, horizon=horizon,
                    reference=reference)


__all__ += ["scenarios", "load_scenario", "scenario_from_dict", "simulate", "compare"]

# --- gravity and general equilibrium -----------------------------------------------------------

def estimate_gravity(data, formula: str, cluster: str | None = None, years: list[int] | None = None,
                     international_only: bool = False, derive: dict[str, str] | None = None,
                     year_column: str = "year") -> GravityEstimate:
    """PPML gravity (pyfixest) on a bilateral table (path or DataFrame): a ``GravityEstimate``."""
    import pandas as pd

    from tariffscope.errors import InputError
    from tariffscope.models.gravity import derive_columns, estimate_ppml, read_gravity_table

    df = data.copy() if isinstance(data, pd.DataFrame) else read_gravity_table(data)
    source = "DataFrame" if isinstance(data, pd.DataFrame) else str(data)
    if years:
        if year_column not in df.columns:
            raise InputError(f"no {year_column!r} column to select years from")
        df = df[df[year_column].astype(float).isin([float(y) for y in years])]
        source += f", years {years[0]}-{years[-1]}"
    if international_only:
        df = df[df["exporter"] != df["importer"]]
        source += ", international flows only"
    if df.empty:  # pyfixest aborts the process (a Rust panic) on an empty frame: refuse it here
        raise InputError(f"{source}: no rows left to estimate on")
    derive_columns(df, derive or {})
    return estimate_ppml(df.reset_index(drop=True), formula, cluster=cluster, source=source)


def ge_simulate(spec: str | Path | GESpec, draws: int | None = None, workers: int | None = None,
                backend: str | None = None) -> GERun:
    """Solve a GE experiment SPEC (YAML path or ``GESpec``): a ``GERun`` (``.to_frame()``, ``.pairs_frame()``)."""
    from tariffscope.models.ge_spec import run_spec

    return run_spec(spec, monte_carlo_draws=draws, workers=workers, backend=backend)


__all__ += ["estimate_gravity", "ge_simulate"]

# --- scale (executors, sweeps, world panels) -------------------------------------------------
# The one execution seam (serial | process | dask), re-exported beside the scale functions that use it.
from tariffscope.parallel import get_executor  # noqa: E402 - placed with its section on purpose


def ingest_panel(path: str | Path, name: str, *, vintage: str | None = None, countries=None,
                 replace: bool = False) -> IngestReport:
    """Ingest BACI-style CSV (t,i,j,k,v,q) into world panel ``name`` (partitioned Parquet). -> IngestReport"""
    from tariffscope import panels

    return panels.ingest_panel(path, name, vintage=vintage, countries=countries, replace=replace)


def list_panels() -> list[PanelInfo]:
    from tariffscope import panels

    return panels.list_panels()


def panel_info(name: str) -> PanelInfo:
    from tariffscope import panels

    return panels.panel_info(name)


def remove_panel(name: str) -> None:
    from tariffscope import panels

    panels.remove_panel(name)


def panel_balance(name: str, reporter: str, partner: str, year: int, by: str = "hs2") -> PanelBalance:
    """Balance of any reporter with any partner from world panel ``name`` (USD, by product). -> PanelBalance"""
    from tariffscope import panels

    return panels.panel_balance(name, reporter, partner, year, by=by)


def panel_imports(name: str, importer: str, year: int, by: str = "hs6") -> pa.Table:
    """Import lines (product, origin, value_usd, quantity_t) of any importer: base flows for the PE model."""
    from tariffscope import panels

    return panels.panel_imports(name, importer, year, by=by)


def sweep(spec, *, out=None, chart_format: str = "png", target: str | None = None, backend: str = "process",
          workers: int | None = None, cluster: str | None = None, progress: bool = True, charts: bool = True
          ) -> SweepRun:
    """Run a model (pe | ge | plug-in) over a grid of parameters; tidy table, charts, target point. -> SweepRun"""
    from tariffscope.compose.sweep import sweep as _sweep

    return _sweep(spec, out=out, chart_format=chart_format, target=target, backend=backend, workers=workers,
                  cluster=cluster, progress=progress, charts=charts)


__all__ += ["get_executor", "ingest_panel", "list_panels", "panel_info", "remove_panel", "panel_balance",
            "panel_imports", "sweep"]

# --- backtest (the PE model against realized imports) ----------------------------------------


def backtest(partner: str | list[str] = "JPN", start: str = "2025-01", end: str = "2025-12", horizon: str = "short",
             reference: str = "2025-01-01", calibration: list[str] | tuple[str, ...] | None = None, draws: int = 100,
             seed: int = 0, absorption: float | dict[str, float] | None = None, hs4: bool = True,
             options: dict | None = None, con: db.Connection | None = None) -> BacktestResult:
    """The PE model on the tariff path that applied vs realized US imports, month by month: a ``BacktestResult``.

    ``partner``: ISO3 (or name), a list, or 'ALL'; months ``start``..``end`` (YYYY-MM); ``horizon`` short | long;
    ``reference``: the regime for 2024 months (a date's regime, or 'mfn'); ``calibration``: months that set each
    partner's non-tariff growth (default 2025-01..03; ``()`` for the raw PE); ``absorption``: exporter
    absorption override (a share, or {"JPN:8703": 0.8}); ``draws``: Monte Carlo draws for the bands.
    """
    from tariffscope.compose.backtest import backtest as _backtest

    return _backtest(_tariff_con(con), partner, start, end, horizon=horizon, reference=reference,
                     calibration=calibration, draws=draws, seed=seed, absorption=absorption, hs4=hs4, options=options)


__all__ += ["backtest"]


# --- pass-through calibration (exporter absorption from realized prices) ------------------------


def calibrate_pass_through(origin: str = "JPN", product: str = "8703", start: str = "2025-04", end: str = "2025-12", *,
                           prices: str | Path | None = None, price_source: str | None = None, basis: str | None = None,
                           base_start: str | None = None, base_end: str | None = None, reference: str = "2025-01-01",
                           options: dict | None = None, con: db.Connection | None = None) -> PassThroughCalibration:
    """Exporter absorption of ``origin``'s ``product`` (HS prefix) over months ``start``..``end``, from realized
    prices: a ``PassThroughCalibration``.

    ``prices``: a price index CSV (period, origin, product, index, basis[, currency]), read without storing it;
    None uses the price indices ingested into the warehouse (``price_source`` picks the source when several
    hold the series), else monthly unit values from the warehouse. ``basis``: exporter | importer, when the
    prices hold both. ``base_start``/``base_end``: compare with the mean of a base window instead of the same
    months a year earlier. ``reference``: the regime for months before the measure catalogue (a date's
    regime, or 'mfn'). Use the result in a run with ``backtest(absorption=result.override)``.
    """
    from tariffscope.compose.passthrough import calibrate_pass_through as _calibrate

    return _calibrate(_tariff_con(con), origin, product, start, end, prices=prices, price_source=price_source,
                      basis=basis, base_start=base_start, base_end=base_end, reference=reference, options=options)


__all__ += ["calibrate_pass_through"]
