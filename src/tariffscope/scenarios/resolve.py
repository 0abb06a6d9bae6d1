"""Resolve a scenario into per-line tariff rates: (hts10, origin) -> base_rate, new_rate.

* The **reference regime** (``scenario.reference``) is what changes are measured from: by default the
  regime in force on 2025-01-01, the one the 2024 base flows were traded under (MFN plus the 2018-19
  Section 232/301 duties), so those older duties are not counted as 2025 effects; ``mfn`` gives MFN only.
  ``resolve`` returns, for each line, ``base_rate`` = the reference and ``new_rate`` = the scenario's regime.
* The scenario's regime starts from its ``base`` (the engine's regime on a date via
  ``tariffscope.tariffs.panel.duty_panel``, or MFN only) and applies its ``changes`` in order, those whose
  window contains the scenario's evaluation date:
  - rate changes on an origin x product scope: ``add`` (on top of the total), ``set`` (total rate),
    ``floor`` (all-in: total = max(MFN, rate), replacing every add-on — the form of the 2025 deals);
  - measure changes by catalogue id. The engine reports add-ons per *authority*, so a measure is
    handled through the panel column of its stacking bucket (``tariffs.vocabulary``; a deal's is that
    of the authority it replaces): ``apply`` puts the measure in force with the rates the engine gives
    on the measure's effective date (e.g. Japan's 24% reciprocal of 2025-04-09) on the lines where that
    authority applies in the base (so stacking and exemptions stay as in the base); ``set`` gives those
    lines another rate; ``remove`` zeroes them. Lines are restricted to the measure's origins and its
    product scope as the engine reads it (``Measure.products_on``: dated list rows honoured).

The catalogue is read only through the validated loader (``tariffs.measures.load``).

Where the duty panels come from: this module calls ``tariffs.panel.duty_panel`` itself, on the caller's
connection or a warehouse it opens. That is a call from one domain area to another (scenarios may use
tariffs, never the reverse; tests/test_layers.py), like the catalogue reads this module needs anyway, so it
needs no composition module above the domain nor the facade (``tariffscope.api``). The panel function is
injectable (``duty_panel=``) so tests can run on a hand-made regime without the engine.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from tariffscope import db
from tariffscope.codes import sectors as sector_map
from tariffscope.codes.countries import group_members
from tariffscope.errors import DataNotFoundError, InputError, RuleError
from tariffscope.ingest import warehouse
from tariffscope.scenarios.schema import MeasureChange, ProductScope, RateChange, Scenario
from tariffscope.tariffs import hts as hts_mod, measures as catalogue
from tariffscope.tariffs.coverage import data_coverage
from tariffscope.tariffs.measures import Measure, measure_prefixes
from tariffscope.tariffs.panel import cell_rates_over as engine_cells, duty_panel as engine_panel, factorize_cells
from tariffscope.tariffs.vocabulary import PANEL_KEY_COLUMNS, column_of_bucket

__all__ = ["resolve", "regime_rates", "reference_rates", "reference_day", "reference_label", "import_lines", "lines_for", "catalogue_measure", "measure_prefixes", "scope_mask",
           "sector_labels"]

PanelFn = Callable[..., pa.Table]
IMPORT_SOURCE = "census_import_weights_{year}"
_KEY_COLS = frozenset(PANEL_KEY_COLUMNS)


def _engine_panel(day: dt.date, con: Any = None, **kw: Any) -> pa.Table:
    """The engine's duty panel on ``con``, or on a warehouse opened (and closed) for this date when None."""
    if con is not None:
        return engine_panel(con, day, **kw)
    own = warehouse.open_warehouse()
    try:
        return engine_panel(own, day, **kw)
    finally:
        own.close()


def _default_panel() -> PanelFn:
    """The default duty panel function: the engine's (the seam tests replace with a hand-made regime)."""
    return _engine_panel


class _EnginePanel:
    """The engine's duty panel on a connection (None: a warehouse opened per call) that can also give the rates
    of the trade lines alone (``cells``): a scenario needs ~330k (line, origin) cells, not the panel's grid of
    every HTS10 line x every origin (~5.35M cells, ~200 MB and seconds per date)."""

    def __init__(self, con: Any = None) -> None:
        self.con = con

    def __call__(self, day: dt.date, **kw: Any) -> pa.Table:
        return _engine_panel(day, con=self.con, **kw)

    def cells(self, day: dt.date, hts10: np.ndarray, origin: np.ndarray, factorized: tuple | None = None) -> _Aligned:
        if self.con is not None:
            return _engine_cells(self.con, day, hts10, origin, factorized)
        own = warehouse.open_warehouse()
        try:
            return _engine_cells(own, day, hts10, origin, factorized)
        finally:
            own.close()


def _engine_cells(con: Any, day: dt.date, hts10: np.ndarray, origin: np.ndarray, factorized: tuple | None) -> _Aligned:
    """The engine's rates on the lines (hts10[i], origin[i]) on ``day``, equal to the full panel's cells aligned
    to them: a line whose HTS10 code the revision in force lacks is absent from that panel (MFN only, 0), so
    it is marked missing here too rather than given the rate of its HTS8 as ``cell_rates_over`` does."""
    codes, h, _, _ = cells = factorized if factorized is not None else factorize_cells(hts10, origin)
    table = hts_mod.mfn_table(con, hts_mod.revision_in_force(con, day).revision)
    hit = np.isin(codes.astype(str), np.asarray(table.hts10).astype(str))[h]
    # every line, not only the hits: the compiled index is keyed on the codes, and one set for every date
    # compiles once (tariffs.engine.compiled_for); the rates of the missing lines are dropped by ``hit``
    ((_, _, rates, _),) = list(engine_cells(con, day, day, hts10, origin, cells=cells))
    return _Aligned.from_cells(rates, hit)


def _panel_on(con: Any) -> PanelFn:
    """The default duty panel on the caller's connection (a read-only server's), or its own when None."""
    panel = _default_panel()
    if panel is _engine_panel:
        return _EnginePanel(con)
    if con is None:
        return panel

    def on_con(day: dt.date, **kw: Any) -> pa.Table:
        return panel(day, con=con, **kw)

    return on_con


@lru_cache(maxsize=4)
def _lines_cached(year: int) -> pa.Table:
    # a reader's connection: a writer's waited for the lock a running `serve` holds, and failed after 60 s
    con = warehouse.open_warehouse()
    try:
        return import_lines(con, year)
    finally:
        con.close()


_LINES_ON_CON: dict[tuple[str, int], pa.Table] = {}


def lines_for(year: int, con: Any = None) -> pa.Table:
    """The import lines of ``year``: from the caller's connection when given (cached per database file,
    as ``_lines_cached`` is when tariffscope opens the warehouse itself), else the default warehouse."""
    if con is None:
        return _lines_cached(year)
    path = con.sql("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    key = (path[0][0] if path and path[0][0] else "", year)
    if not key[0]:  # an in-memory database: nothing to key a cache on
        return import_lines(con, year)
    hit = _LINES_ON_CON.get(key)
    if hit is None:
        hit = import_lines(con, year)
        if len(_LINES_ON_CON) >= 4:
            _LINES_ON_CON.pop(next(iter(_LINES_ON_CON)))
        _LINES_ON_CON[key] = hit
    return hit


def import_lines(con: Any, year: int = 2024) -> pa.Table:
    """US imports by (hts10, origin) for ``year`` from the warehouse: columns hts10, origin, value."""
    src = IMPORT_SOURCE.format(year=year)
    t = db.query(
        con,
        "SELECT product_code AS hts10, partner AS origin, SUM(value) AS value FROM trade_flows "
        "WHERE source = ? AND flow = 'imports' AND product_level = 10 AND period = ? "
        "AND partner NOT IN ('WLD', 'EU27') AND value > 0 GROUP BY 1, 2 ORDER BY 1, 2",
        [src, str(year)],
    )
    if t.num_rows == 0:
        raise DataNotFoundError(f"no HS10 x partner imports for {year} in the warehouse (source {src})")
    return t


def catalogue_measure(measure_id: str, on: dt.date | None = None) -> Measure:
    """The validated catalogue entry of a measure (its window in force on ``on`` when one is); an unknown id
    is an InputError naming the closest ids."""
    return catalogue.load().get(measure_id, on)


def _expand_origins(origins: list[str]) -> set[str] | None:
    """ISO3 set (groups expanded); None means all origins."""
    if "all" in origins:
        return None

    out: set[str] = set()
    for o in origins:
        if o in catalogue.GROUPS:
            out.update(group_members(o))
        out.add(o)
    return out


@lru_cache(maxsize=8)
def _sector_lookup(codes: tuple[str, ...]) -> np.ndarray:
    return np.array([sector_map.sector_of(c) or "other" for c in codes], dtype=object)


def sector_labels(hts10: np.ndarray) -> np.ndarray:
    """Sector of each HTS10 code (``tariffscope.codes.sectors``; 'other' where unmapped)."""
    uniq, inv = np.unique(hts10.astype(str), return_inverse=True)
    return _sector_lookup(tuple(uniq.tolist()))[inv]


def _near(name: str, known: list[str]) -> str:
    """' (did you mean ...?)' with the closest known names, or ''."""
    from difflib import get_close_matches

    near = get_close_matches(name, sorted(set(known)), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


def _measure_lines(hts10: np.ndarray, m: Measure, on: dt.date | None) -> np.ndarray:
    """Lines in a measure's product scope on ``on`` as the engine reads it (dated rows, exclusions)."""
    inc, exc = m.products_on(on)
    mask = _startswith_any(hts10, list(inc))
    if exc:
        mask &= ~_startswith_any(hts10, list(exc))
    return mask


def scope_mask(hts10: np.ndarray, origin: np.ndarray, origins: list[str], products: ProductScope,
               sectors: np.ndarray | None = None, on: dt.date | None = None) -> np.ndarray:
    """Boolean mask of lines in an origin x product scope; ``on``: the date a scope naming catalogue
    measures is read on (their entries and list rows in force then; every row when None)."""
    oset = _expand_origins(origins)
    mask = np.ones(hts10.shape[0], dtype=bool) if oset is None else np.isin(origin, np.array(sorted(oset), dtype=object))
    if not products.is_all:
        pm = np.zeros_like(mask)
        if products.prefixes:
            pm |= _startswith_any(hts10, products.prefixes)
        for mid in products.measures:
            pm |= _measure_lines(hts10, catalogue_measure(mid, on), on)
        if products.sectors:
            sec = sectors if sectors is not None else sector_labels(hts10)
            for s in products.sectors:
                if s not in sector_map.SECTORS:
                    raise InputError(f"unknown sector {s!r}{_near(s, list(sector_map.SECTORS))}")
            pm |= np.isin(sec, np.array(products.sectors, dtype=object))
        mask &= pm
    if products.exclude_prefixes:
        mask &= ~_startswith_any(hts10, products.exclude_prefixes)
    return mask


def _startswith_any(codes: np.ndarray, prefixes: list[str]) -> np.ndarray:
    if any(not p for p in prefixes):  # an empty prefix matches every line
        return np.ones(codes.shape[0], dtype=bool)
    # Match on the sorted distinct codes (a few thousand, not the ~330k lines), where the codes starting with a
    # prefix are one contiguous run: two binary searches per prefix instead of a scan of every line per prefix.
    uniq, inv = np.unique(codes.astype("U10"), return_inverse=True)
    keys = np.array(list(prefixes) + [p + "\U0010ffff" for p in prefixes])  # one search for every bound
    bounds = np.searchsorted(uniq, keys)
    edge = np.zeros(uniq.shape[0] + 1, dtype=np.int64)  # +1 where a run starts, -1 past its end
    np.add.at(edge, bounds[: len(prefixes)], 1)
    np.add.at(edge, bounds[len(prefixes):], -1)
    return (np.cumsum(edge[:-1]) > 0)[inv.reshape(-1)]


def _measure_column(columns: list[str], m: Measure, where: str) -> str:
    """The duty panel column a measure's add-on is reported under (``vocabulary``), matched exactly."""
    col = column_of_bucket(m.bucket)
    if col not in columns:
        have = [c for c in columns if c not in _KEY_COLS]
        raise InputError(f"{where}.measure: the duty panel has no column {col!r} for {m.id!r} (authority "
                         f"{m.authority}){_near(col, have)}; columns: {', '.join(have) or 'none'}")
    return col


class _Aligned:
    """A duty panel aligned to the trade lines by integer keys: ``get(col, fill)`` gives a column per line."""

    def __init__(self, columns: dict[str, np.ndarray], hit: np.ndarray) -> None:
        self.columns = list(columns)
        self.hit = hit
        self._cols = columns

    @classmethod
    def from_cells(cls, rates: dict[str, np.ndarray], hit: np.ndarray) -> _Aligned:
        """Rates already per line (the engine's ``cell_rates_over`` columns), ``hit`` marking the lines the
        panel has."""
        return cls({c: np.asarray(v).astype(float) for c, v in rates.items()}, hit)

    @classmethod
    def from_panel(cls, panel: pa.Table, hts10: np.ndarray, origin: np.ndarray) -> _Aligned:
        for need in ("hts10", "origin", "mfn_rate", "total_rate"):
            if need not in panel.column_names:
                raise InputError(f"duty panel lacks column {need!r}")
        columns = [c for c in panel.column_names
                   if c not in ("hts10", "origin") and pa.types.is_floating(panel.schema.field(c).type)]
        import pyarrow.compute as pc

        # Integer keys (HTS10 digits x origin index) and a sorted search: much faster than a string join.
        uniq = pa.array(sorted(set(origin.tolist())), pa.string())
        lo = pc.index_in(pa.array(origin.astype(str)), value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int64)
        po = _per_row(panel.column("origin"), lambda v: pc.index_in(v.cast(pa.string()), value_set=uniq).fill_null(-1))
        try:
            lh = pc.cast(pa.array(hts10.astype(str)), pa.int64()).to_numpy(zero_copy_only=False)
            ph = _per_row(panel.column("hts10"), lambda v: pc.cast(v.cast(pa.string()), pa.int64()))
        except pa.ArrowInvalid as exc:
            raise InputError(f"HTS10 codes must be digits: {exc}") from None
        keep = np.flatnonzero(po >= 0)
        key_p = ph[keep] * 4096 + po[keep] if keep.size < po.size else ph * 4096 + po  # no copies when every row is kept
        key_l = lh * 4096 + lo
        del ph, po
        if key_p.size < 2 or (np.diff(key_p) > 0).all():  # the engine's panel comes ordered by hts10, origin: no sort
            sorted_p, order = key_p, keep
        else:
            idx = np.argsort(key_p, kind="stable")
            sorted_p, order = key_p[idx], keep[idx]
            if (np.diff(sorted_p) == 0).any():
                raise InputError("duty panel has duplicate (hts10, origin) rows")
        pos = np.clip(np.searchsorted(sorted_p, key_l), 0, max(sorted_p.size - 1, 0))
        hit = (sorted_p[pos] == key_l) if sorted_p.size else np.zeros(key_l.shape[0], dtype=bool)
        rows = order[pos] if sorted_p.size else np.zeros(key_l.shape[0], dtype=np.int64)
        return cls({c: panel.column(c).to_numpy(zero_copy_only=False)[rows].astype(float) for c in columns}, hit)

    def get(self, col: str, fill: float) -> np.ndarray:
        vals = np.nan_to_num(self._cols[col], nan=0.0)
        return np.where(self.hit, vals, fill)


def _per_row(column: pa.ChunkedArray | pa.Array, convert: Callable[[pa.Array], pa.Array]) -> np.ndarray:
    """``convert`` applied to a panel key column, per row as int64. The engine's panel dictionary-encodes its
    keys (~20k codes over millions of cells): converting the dictionary and taking by index avoids decoding
    millions of strings (seconds and hundreds of MB per panel)."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(arr.type) and arr.null_count == 0:
        values = np.asarray(convert(arr.dictionary).to_numpy(zero_copy_only=False)).astype(np.int64)
        return values[arr.indices.to_numpy(zero_copy_only=False)]
    return np.asarray(convert(arr).to_numpy(zero_copy_only=False)).astype(np.int64)


def _aligned_panel(panel_fn: PanelFn, day: dt.date, hts10: np.ndarray, origin: np.ndarray,
                   cache: dict | None) -> _Aligned:
    """The panel of ``day`` aligned to these lines; ``cache`` (owned by the caller, one per set of
    lines) lets a comparison reuse a date's panel across scenarios."""
    # the engine's panels on one connection share entries (a cache serves one connection and one set of lines)
    key = ("engine", day) if isinstance(panel_fn, _EnginePanel) else (id(panel_fn), day)
    if cache is not None and key in cache:
        return cache[key]
    if isinstance(panel_fn, _EnginePanel):
        factorized = None
        if cache is not None:  # the same lines on every date: sort their codes and origins once
            factorized = cache.get("cells") or cache.setdefault("cells", factorize_cells(hts10, origin))
        hit = panel_fn.cells(day, hts10, origin, factorized)
    else:
        hit = _Aligned.from_panel(panel_fn(day, origins=sorted(set(origin.tolist()))), hts10, origin)
    if cache is not None:
        cache[key] = hit
    return hit


def regime_rates(scenario: Scenario, hts10: np.ndarray, origin: np.ndarray, *, duty_panel: PanelFn | None = None,
                 sectors: np.ndarray | None = None, cache: dict | None = None, con: Any = None) -> dict[str, np.ndarray]:
    """The scenario's regime on the given lines: mfn_rate, total_rate and the per-authority add-ons.
    ``con``: the warehouse connection the default duty panel runs on (None: the engine opens its own)."""
    panel_fn = duty_panel or _panel_on(con)
    base = scenario.base
    # The MFN-only regime reads the MFN schedule in force on the catalogue's first day (the 2025 basic edition).
    # (Base's validator gives the 'date' regime a date, so ``base.date`` is set whenever that regime is used.)
    day = base.date or data_coverage().catalogue[0]
    panel = _aligned_panel(panel_fn, day, hts10, origin, cache)
    mfn = panel.get("mfn_rate", 0.0)
    auth_names = [c for c in panel.columns if c not in _KEY_COLS]
    if base.regime == "no_additional_tariffs":
        auth = {c: np.zeros_like(mfn) for c in auth_names}
        total = mfn.copy()
    else:
        auth = {c: panel.get(c, 0.0) for c in auth_names}
        total = panel.get("total_rate", np.nan)
        total = np.where(np.isnan(total), mfn, total)  # lines the panel lacks: MFN only
    total = total.copy()
    when = scenario.evaluation_date
    for i, ch in enumerate(scenario.changes):
        if not ch.window.contains(when):
            continue
        where = f"changes[{i}]"
        if isinstance(ch, RateChange):
            m = scope_mask(hts10, origin, ch.origins, ch.products, sectors, on=when)
            if ch.mode == "add":
                total[m] += ch.rate
                auth.setdefault("scenario", np.zeros_like(total))[m] += ch.rate
            elif ch.mode == "set":
                total[m] = ch.rate
            else:  # floor, all-in inclusive of MFN
                total[m] = np.maximum(mfn[m], ch.rate)
                for arr in auth.values():
                    arr[m] = 0.0
        else:
            _apply_measure(ch, where, when, hts10, origin, mfn, auth, total, panel_fn, sectors, cache)
    if (total < -1e-12).any():
        raise RuleError("the scenario produces a negative total rate on some lines")
    return {"mfn_rate": mfn, "total_rate": np.maximum(total, 0.0), **auth}


def _apply_measure(ch: MeasureChange, where: str, when: dt.date, hts10, origin, mfn, auth, total, panel_fn, sectors,
                   cache) -> None:
    m = catalogue_measure(ch.measure, when)
    col = _measure_column(list(auth), m, where)
    # The measure's own scope is read on the evaluation date when its window holds it, else on its
    # effective date (the date 'apply' takes its rates from).
    scope_day = when if m.in_force(when) else m.effective_from
    scope = scope_mask(hts10, origin, ch.origins, ch.products, sectors, on=when)
    inc = m.origins.include or ["all"]
    exc = set(m.origins.exclude)
    if "all" not in inc:
        scope &= np.isin(origin, np.array(sorted(_expand_origins(list(inc)) or []), dtype=object))
    if exc:
        scope &= ~np.isin(origin, np.array(sorted(_expand_origins(list(exc)) or []), dtype=object))
    scope &= _measure_lines(hts10, m, scope_day)
    cur = auth[col]
    applies = scope & (cur > 0)
    if ch.action == "apply":
        if not scope.any():
            return
        snap = _aligned_panel(panel_fn, m.effective_from, hts10, origin, cache)
        new = snap.get(_measure_column(snap.columns, m, where), 0.0)
        if not (scope & (cur > 0)).any():
            # The authority is absent in the base: take the measure's lines as the engine gives them.
            applies = scope & (new > 0)
        new_vals = new[applies]
    elif ch.action == "set":
        assert ch.rate is not None  # MeasureChange's validator: action 'set' always carries a rate
        new_vals = np.full(int(applies.sum()), float(ch.rate))
    else:
        new_vals = np.zeros(int(applies.sum()))
    total[applies] += new_vals - cur[applies]
    cur[applies] = new_vals


def reference_day(reference: str) -> dt.date | None:
    """The day whose regime is the reference (None: MFN only); a date outside the catalogue's coverage is an
    InputError naming the coverage."""
    if reference == "mfn":
        return None
    try:
        day = dt.date.fromisoformat(reference)
    except ValueError:
        raise InputError(f"bad reference {reference!r}: a date YYYY-MM-DD or 'mfn'") from None
    lo, hi = data_coverage().catalogue
    if not lo <= day < hi:
        raise InputError(f"reference date {day} is outside the data: the measure catalogue covers {lo} to "
                         f"{hi - dt.timedelta(days=1)} (or use reference: mfn)")
    return day


def reference_label(reference: str) -> str:
    """How outputs name a reference: 'the regime in force on 2025-01-01' or 'MFN only'."""
    return "MFN only (no additional tariffs)" if reference == "mfn" else f"the regime in force on {reference}"


def reference_rates(reference: str, hts10: np.ndarray, origin: np.ndarray, *, duty_panel: PanelFn | None = None,
                    cache: dict | None = None, con: Any = None) -> np.ndarray:
    """Total rate per line of the reference regime: the engine's regime on the reference date, or MFN only
    (the MFN schedule of the catalogue's first day, as ``base: no_additional_tariffs`` reads it)."""
    day = reference_day(reference)
    panel = _aligned_panel(duty_panel or _panel_on(con), day or data_coverage().catalogue[0], hts10, origin, cache)
    mfn = panel.get("mfn_rate", 0.0)
    if day is None:
        return mfn
    total = panel.get("total_rate", np.nan)
    return np.where(np.isnan(total), mfn, total)  # lines the panel lacks: MFN only


def resolve(scenario: Scenario, *, duty_panel: PanelFn | None = None, lines: pa.Table | None = None,
            con: Any = None) -> pa.Table:
    """Per-line rates of a scenario on the trade lines (default: the warehouse's HS10 x partner imports).

    Columns: hts10, origin, value (trade-year customs value), mfn_rate, base_rate (the scenario's
    reference regime: ``scenario.reference``), new_rate (the scenario's regime), changed (new != base).
    """
    if lines is None:
        lines = lines_for(scenario.model.trade_year, con)
    h = np.asarray(lines.column("hts10").to_numpy(zero_copy_only=False)).astype(object)
    o = np.asarray(lines.column("origin").to_numpy(zero_copy_only=False)).astype(object)
    cache: dict = {}
    rates = regime_rates(scenario, h, o, duty_panel=duty_panel, cache=cache, con=con)
    new = rates["total_rate"]
    base = reference_rates(scenario.reference, h, o, duty_panel=duty_panel, cache=cache, con=con)
    return pa.table({
        "hts10": pa.array(h.astype(str)),
        "origin": pa.array(o.astype(str)),
        "value": lines.column("value"),
        "mfn_rate": pa.array(rates["mfn_rate"]),
        "base_rate": pa.array(base),
        "new_rate": pa.array(new),
        "changed": pa.array(np.abs(new - base) > 1e-12),
    })
