"""Rates over panels: every HTS10 x origin at a date, or chosen cells over a range of dates.

The same stacking rules as the single-entry engine (``rules.Compiled.evaluate``) run over numpy arrays
of cells. Measure scopes are interval-encoded (product rows with valid_from/valid_until); over a date range
the rules are evaluated once per interval on which nothing changes (catalogue boundaries, list-row dates
and HTS revision dates), not once per day, and never in a Python loop per cell; from one interval to the next only
the cells something changed for are evaluated again (``rules.Compiled.changed_cells``).
"""
from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tariffscope.codes.countries import all_countries
from tariffscope.tariffs import hts as hts_mod
from tariffscope.tariffs.engine import check_date, compiled_for, parse_date
from tariffscope.tariffs.measures import Catalogue, load
from tariffscope.tariffs.rules import Compiled, resolve_options
from tariffscope.tariffs.usmca import boundaries as usmca_boundaries
from tariffscope.tariffs.vocabulary import (
    COLUMN_BUCKETS as COMPONENTS,  # output columns per stacking bucket
)


def default_origins() -> list[str]:
    """Every country (ISO3) the codes helper knows, without groups and without the USA itself."""
    return sorted({c.iso3 for c in all_countries(include_groups=False) if c.iso3 and c.iso3 != "USA"})


def _components(out: dict[str, np.ndarray], dtype=np.float32) -> dict[str, np.ndarray]:
    cols = {"mfn_rate": out["mfn"].astype(dtype)}
    for name, buckets in COMPONENTS.items():
        v = out[buckets[0]]
        for b in buckets[1:]:
            v = v + out[b]
        cols[name] = v.astype(dtype)
    cols["total_rate"] = out["total"].astype(dtype)
    return cols


def duty_panel(con, date: str | dt.date, origins: list[str] | None = None, hts10: list[str] | None = None,
               options: dict | None = None, catalogue: Catalogue | None = None, chunk_cells: int = 1_500_000) -> pa.Table:
    """Rates for every HTS10 x origin at ``date``, with the add-on of each authority.

    Signature (stable, used by the scenarios/PE code): ``duty_panel(con, date, origins=None, hts10=None, options=None)``.
    ``origins`` default: every country (ISO3); ``hts10`` default: every 10-digit line of the HTS revision in
    force on ``date``. Returns a pyarrow.Table with columns ``hts10, origin, mfn_rate, rate_232,
    rate_ieepa_reciprocal, rate_ieepa_fentanyl, rate_301, rate_201, rate_122, total_rate`` (fractions of
    customs value, float32), one row per cell, ordered by hts10 then origin. MFN is the column 1 general
    rate (specific parts as AVE); options as in ``rules.OPTIONS`` (metal_share, usmca share -- unset: the dated
    claim shares by GTAP sector of ``usmca_shares`` --, floor_mfn_base, deal_dates). Table metadata: hts_revision, catalogue_version, date.
    """
    day = parse_date(date)
    check_date(day)
    opts = resolve_options(options)
    cat = catalogue or load()
    rev = hts_mod.revision_in_force(con, day)
    table = hts_mod.mfn_table(con, rev.revision)
    if hts10 is None:
        codes = table.hts10
        mfn, col2 = table.ave, table.col2_ave
    else:
        codes = np.array(sorted({str(c) for c in hts10}), dtype=object)
        codes, mfn, col2 = _mfn_for(table, codes)
    origins = list(origins) if origins is not None else default_origins()
    comp = compiled_for(cat, tuple(codes), tuple(origins))
    n_h, n_o = len(codes), len(origins)
    cols: dict[str, np.ndarray] = {}
    # origins treated alike by every measure in force share one evaluation (rules.Compiled.origin_profiles)
    reps, prof = comp.origin_profiles(day, opts)
    n_p = len(reps)
    step = max(1, chunk_cells // max(n_p, 1))
    for start in range(0, n_h, step):
        rows = min(step, n_h - start)
        hh = np.repeat(np.arange(start, start + rows), n_p)
        oo = np.tile(reps, rows)
        out = comp.evaluate(day, hh, oo, mfn[hh], opts, col2=None if col2 is None else col2[hh])
        for k, v in _components(out).items():
            # each chunk written into one preallocated column: a list of parts joined at the end held every
            # column twice (millions of cells each) at the peak
            col = cols.setdefault(k, np.empty(n_h * n_o, dtype=v.dtype))
            col[start * n_o:(start + rows) * n_o] = np.take(v.reshape(rows, n_p), prof, axis=1).reshape(-1)
    result = {
        "hts10": pa.DictionaryArray.from_arrays(pa.array(np.repeat(np.arange(n_h, dtype=np.int32), n_o)), pa.array(list(codes), pa.string())),
        "origin": pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(n_o, dtype=np.int32), n_h)), pa.array(origins, pa.string())),
    }
    for k, col in cols.items():
        result[k] = pa.array(col)
    meta = {"hts_revision": rev.revision, "catalogue_version": cat.version, "date": day.isoformat()}
    return pa.table(result).replace_schema_metadata(meta)


def _mfn_for(table: hts_mod.MfnTable, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Column 1 and column 2 AVEs of ``codes`` in ``table``; a code missing from the revision takes the first line of
    its HTS8 (codes split or renamed between revisions), else 0 (counted by the caller via ``np.isnan``-free output)."""
    n = len(table.hts10)
    pos = np.clip(np.searchsorted(table.hts10, codes), 0, n - 1)
    exact = table.hts10[pos] == codes
    c2 = table.col2_ave
    mfn = np.where(exact, table.ave[pos], 0.0)
    col2 = None if c2 is None else np.where(exact, c2[pos], 0.0)
    miss = np.flatnonzero(~exact)
    if miss.size:
        c8 = np.array([c[:8] for c in codes[miss]], dtype=object)
        p8 = np.clip(np.searchsorted(table.hts10, c8), 0, n - 1)  # first line >= the 8-digit prefix
        same = np.array([str(table.hts10[p]).startswith(c) for p, c in zip(p8, c8, strict=True)], dtype=bool)
        mfn[miss] = np.where(same, table.ave[p8], 0.0)
        if col2 is not None and c2 is not None:
            col2[miss] = np.where(same, c2[p8], 0.0)
    return codes, mfn, col2


# per compiled index (its codes), per MFN table: the codes' column 1 and 2 rates. The same cells over several calls
# (a scenario's dates, the ETR's two passes) look their codes up once; an entry holds its table so that the table's
# id cannot be reused while it lives, and goes with the compiled index (the engine's cache bounds those)
_MFN_COLUMNS: weakref.WeakKeyDictionary[Compiled, dict[int, tuple[hts_mod.MfnTable, np.ndarray, np.ndarray | None]]] = \
    weakref.WeakKeyDictionary()


def _mfn_columns(table: hts_mod.MfnTable, comp: Compiled) -> tuple[np.ndarray, np.ndarray | None]:
    """``_mfn_for(table, comp.hts10)``'s two columns, cached (read only)."""
    by_table = _MFN_COLUMNS.setdefault(comp, {})
    got = by_table.get(id(table))
    if got is None or got[0] is not table:
        if len(by_table) >= 16:
            by_table.clear()
        _, c1, c2 = _mfn_for(table, comp.hts10)
        got = by_table[id(table)] = (table, c1, c2)
    return got[1], got[2]


@dataclass
class Intervals:
    starts: list[dt.date]  # interval i covers [starts[i], starts[i+1]) (last: to the end of the range)
    end: dt.date  # inclusive end of the range


# id of a catalogue -> (the catalogue, its boundaries): reading them walks every dated list row (~25 ms), and a
# brief asks for intervals about ten times; the entry holds the catalogue so that its id is not reused meanwhile
_BOUNDARIES: dict[int, tuple[Catalogue, list[dt.date]]] = {}


def _boundaries(catalogue: Catalogue) -> list[dt.date]:
    """``catalogue.boundaries()``, once per catalogue (a frozen model: its boundaries cannot change)."""
    got = _BOUNDARIES.get(id(catalogue))
    if got is None or got[0] is not catalogue:
        if len(_BOUNDARIES) >= 8:
            _BOUNDARIES.clear()
        got = _BOUNDARIES[id(catalogue)] = (catalogue, catalogue.boundaries())
    return got[1]


def intervals(con, start: dt.date, end: dt.date, catalogue: Catalogue) -> Intervals:
    """Cut [start, end] where anything that can change a rate changes: catalogue boundaries and revisions."""
    cuts = {start}
    for d in _boundaries(catalogue):
        if start < d <= end:
            cuts.add(d)
    for r in hts_mod.revisions(con):
        if start < r.effective_date <= end:
            cuts.add(r.effective_date)
    for d in usmca_boundaries():  # the dated USMCA claim shares change set (option usmca_shares='dated')
        if start < d <= end:
            cuts.add(d)
    return Intervals(sorted(cuts), end)


def factorize_cells(hts10: np.ndarray, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distinct codes, code index per cell, distinct origins, origin index per cell), sorted as ``np.unique``
    sorts; a caller evaluating the same cells on several dates computes it once (``cell_rates_over(cells=)``)."""
    codes, h = sorted_factorize(hts10)
    olist, o = sorted_factorize(origins)
    return codes, h, olist, o


def sorted_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for strings (distinct values sorted, object dtype; index per
    value) by hashing: sorting ~330k Python strings as objects took a few tenths of a second per call."""
    import pandas as pd

    idx, uniq = pd.factorize(np.asarray(values, dtype=object), sort=True)
    return np.asarray(uniq, dtype=object), idx.astype(np.intp)


def cell_rates_over(con, start: str | dt.date, end: str | dt.date, hts10: np.ndarray, origins: np.ndarray,
                    options: dict | None = None, catalogue: Catalogue | None = None,
                    cells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None, *,
                    incremental: bool = True):
    """Rates for the given cells (hts10[i], origins[i]) on each constant interval of [start, end].

    Yields (interval_start, interval_end_inclusive, components dict of float32 arrays, hts_revision).
    ``cells``: ``factorize_cells(hts10, origins)`` when the caller has it (sorting ~330k strings per call costs more
    than evaluating one date). ``incremental``: evaluate the first interval on every cell and each next one only on
    the cells something changed for (``rules.Compiled.changed_cells``, and a changed MFN), copying the others'
    rates from the interval before: the same figures (False evaluates every cell on every interval).
    """
    d0, d1 = parse_date(start), parse_date(end)
    check_date(d0)
    check_date(d1)
    opts = resolve_options(options)
    cat = catalogue or load()
    codes, h, olist, o = cells if cells is not None else factorize_cells(hts10, origins)
    comp: Compiled = compiled_for(cat, tuple(codes), tuple(olist))
    iv = intervals(con, d0, d1, cat)
    hts_mod.prefetch(con, [hts_mod.revision_in_force(con, s).revision for s in iv.starts])
    keys = ("mfn", "total", *{b for bs in COMPONENTS.values() for b in bs})
    last: tuple[dt.date, np.ndarray, np.ndarray | None, dict[str, np.ndarray]] | None = None  # the interval before
    for i, s in enumerate(iv.starts):
        e = (iv.starts[i + 1] - dt.timedelta(days=1)) if i + 1 < len(iv.starts) else iv.end
        rev = hts_mod.revision_in_force(con, s)
        # revisions with identical lines share one table, and so one pair of columns
        c1, c2 = _mfn_columns(hts_mod.mfn_table(con, rev.revision), comp)
        if not incremental or last is None:
            rates = _components(comp.evaluate_cells(s, h, o, c1, opts, keys=keys, col2_h=c2))
        else:
            prev_day, p1, p2, rates = last
            changed = comp.changed_cells(prev_day, s, h, o, opts)
            if p1 is not c1 or p2 is not c2:  # another MFN table: the products whose rates differ
                changed |= _mfn_changed(p1, p2, c1, c2)[h]
            redo = np.flatnonzero(changed)
            if redo.size:
                # _components works cell by cell, so the changed cells' components equal the full evaluation's
                sub = _components(comp.evaluate_cells(s, h[redo], o[redo], c1, opts, keys=keys, col2_h=c2))
                for k, v in sub.items():
                    rates[k][redo] = v
        last = (s, c1, c2, rates)
        # a copy to the caller: the next interval updates ``rates`` in place (and a caller may keep or alter its own)
        yield s, e, {k: v.copy() for k, v in rates.items()}, rev.revision


def _mfn_changed(p1: np.ndarray, p2: np.ndarray | None, c1: np.ndarray, c2: np.ndarray | None) -> np.ndarray:
    """Products whose column 1 or column 2 rate differs between two MFN columns (nan equal to nan)."""
    def differs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return ~((x == y) | (np.isnan(x) & np.isnan(y)))

    out = differs(p1, c1)
    if p2 is not None and c2 is not None:
        out |= differs(p2, c2)
    elif p2 is not None or c2 is not None:  # column 2 known on one date only: every product may change
        out[:] = True
    return out
