"""Scenario resolution reads the catalogue as the engine does: the same product lines of a measure on a date
(dated list rows, value filters, exclusions), exact panel columns, clear errors for unknown names."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from tariffscope.errors import InputError
from tariffscope.scenarios import resolve as rs
from tariffscope.scenarios.schema import ProductScope, parse_scenario
from tariffscope.tariffs.measures import load
from tariffscope.tariffs.rules import Compiled

APRIL_1 = dt.date(2025, 4, 1)


def _padded(prefixes) -> list[str]:
    """One 10-digit code per prefix (the prefix padded with zeros): a line each prefix covers. (annex_ii.csv
    also lists a 12-digit statistical suffix, 850511007000: cut to the HTS10 it stands for.)"""
    return sorted({p[:10].ljust(10, "0") for p in prefixes if p})


def _engine_lines(measure_id: str, codes: list[str], on: dt.date) -> np.ndarray:
    """Which codes the engine's compiled rules put in the measure's product scope on ``on``."""
    cat = load()
    comp = Compiled(cat, codes, ["DEU"])
    cm = next(c for c in comp.measures if c.m.id == measure_id and c.m.in_force(on))
    return ~np.isnan(cm.product_rates(on.toordinal(), comp.n_h))


def test_steel_lines_agree_with_the_engine_on_2025_04_01():
    m = rs.catalogue_measure("s232_steel_25", APRIL_1)
    every_row = rs.measure_prefixes("s232_steel_25")
    codes = _padded(every_row)
    assert len(every_row) == 203
    h = np.array(codes, dtype=object)
    ours = rs.scope_mask(h, np.full(len(h), "DEU", dtype=object), ["all"], ProductScope(measures=[m.id]), on=APRIL_1)
    engine = _engine_lines(m.id, codes, APRIL_1)
    assert ours.tolist() == engine.tolist()
    # The three derivative rows dated 2025-08-18 are outside the scope on April 1, inside it in September.
    assert sorted(h[~ours]) == ["7216910010", "7307193000", "7307199000"]
    assert len(rs.measure_prefixes("s232_steel_25", APRIL_1)) == 200


@pytest.mark.parametrize("on", [dt.date(2025, 4, 1), dt.date(2025, 8, 20), dt.date(2026, 1, 15), dt.date(2026, 5, 1)])
def test_every_measure_in_force_has_the_engines_lines(on):
    cat = load()
    for m in cat.in_force(on):
        every = m.products_on(None)
        codes = _padded([*every[0], *every[1]]) + ["0101210010", "8703230190", "9403600000"]
        ours = rs._measure_lines(np.array(codes, dtype=object), m, on)
        assert ours.tolist() == _engine_lines(m.id, codes, on).tolist(), m.id


def test_unknown_names_are_input_errors_with_suggestions():
    with pytest.raises(InputError, match="did you mean 's232_steel_25'"):
        rs.catalogue_measure("s232_stel_25")
    h = np.array(["7206100000"], dtype=object)
    with pytest.raises(InputError, match="unknown sector 'stel'.*'steel'"):
        rs.scope_mask(h, np.array(["DEU"], dtype=object), ["all"], ProductScope.model_construct(prefixes=[], sectors=["stel"], measures=[], exclude_prefixes=[]))


def _panel(day, origins=None, hts10=None, options=None, column="rate_232"):
    o = origins or ["DEU"]
    return pa.table({"hts10": ["7206100000"] * len(o), "origin": o, "mfn_rate": [0.0] * len(o),
                     column: [0.25] * len(o), "total_rate": [0.25] * len(o)})


def test_measure_changes_use_the_exact_panel_column():
    lines = pa.table({"hts10": ["7206100000"], "origin": ["DEU"], "value": [1.0]})
    sc = parse_scenario("name: x\nbase: {date: 2025-04-01}\nchanges:\n  - measure: s232_steel_25\n    action: remove\n")
    assert rs.resolve(sc, duty_panel=_panel, lines=lines)["new_rate"].to_pylist() == [0.0]
    # A column merely containing the authority's name is not the engine's column: no guessing.
    with pytest.raises(InputError, match=r"no column 'rate_232'.*did you mean 'rate_232_steel'"):
        rs.resolve(sc, duty_panel=lambda d, **kw: _panel(d, column="rate_232_steel", **kw), lines=lines)


@pytest.mark.parametrize("names", [["june-2025", "july-9-hike", "auto-relief", "japan-deal"], ["korea-june-2025", "korea-deal"]])
def test_rates_on_the_traded_lines_equal_the_full_panels(warehouse, names):
    """The scenario rates evaluated on the ~330k traded (line, origin) cells only are, to the last bit, those of the
    engine's full HTS10 x origin panel aligned to the lines (including lines whose code the revision in force
    lacks: MFN only, 0), for the reference and every package's regime and the measures' snapshot dates."""
    from tariffscope.scenarios import run
    from tariffscope.tariffs.panel import duty_panel

    calls: list[dt.date] = []

    def full_panel(day, **kw):
        calls.append(day)
        return duty_panel(warehouse, day, **kw)

    scs = [run.get_scenario(n) for n in names]
    cells = run.prepare(scs, con=warehouse)
    full = run.prepare(scs, con=warehouse, duty_panel=full_panel)
    assert len(set(calls)) >= 2  # the reference and at least one other regime date went through the full panel
    assert np.array_equal(cells.base_rate, full.base_rate)
    assert np.array_equal(cells.new_rate, full.new_rate)
    assert (cells.new_rate != cells.base_rate).any()  # the packages change rates: the comparison is not vacuous
    lines = rs.lines_for(2024, warehouse)
    h = np.asarray(lines.column("hts10").to_numpy(zero_copy_only=False)).astype(object)
    o = np.asarray(lines.column("origin").to_numpy(zero_copy_only=False)).astype(object)
    day = scs[-1].base.date
    a = rs._aligned_panel(rs._panel_on(warehouse), day, h, o, {})
    b = rs._aligned_panel(full_panel, day, h, o, {})
    assert a.columns == b.columns and np.array_equal(a.hit, b.hit)
    assert 0 < (~a.hit).sum() < 0.05 * h.size  # a few thousand lines have codes the revision lacks: absent in both
    for c in a.columns:
        assert np.array_equal(a.get(c, np.nan), b.get(c, np.nan), equal_nan=True), c
