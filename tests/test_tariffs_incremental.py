"""Incremental evaluation over constant intervals (``cell_rates_over(incremental=True)``) gives exactly the rates of
evaluating every cell on every interval, over the whole catalogue coverage: on the real traded cells of the base
year and on a synthetic set built to hit the cases where a change reaches cells in a roundabout way (USMCA origins
and their dated claim shares, column 2 origins, Japan's deal parts with conditional scopes and the R11 runner-up,
civil aircraft blocks, chapter 98, HTS revisions changing MFN), under several options."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tariffscope.tariffs import hts
from tariffscope.tariffs.coverage import data_coverage
from tariffscope.tariffs.measures import Catalogue, Measure, load
from tariffscope.tariffs.panel import cell_rates_over, factorize_cells
from tariffscope.tariffs.rules import Compiled

ORIGINS = ["JPN", "CAN", "MEX", "RUS", "BLR", "CUB", "PRK", "CHN", "USA", "DEU", "KOR", "CHE", "BRA", "IND", "VNM", "GBR"]
# metals, wood, pharma, machinery (bearings, computers, semiconductors), vehicles and parts, aircraft, chapter 98
CHAPTERS = ("30", "44", "72", "73", "76", "84", "85", "87", "88", "98")


@pytest.fixture(scope="module")
def con(warehouse):
    return warehouse


@pytest.fixture(scope="module")
def span() -> tuple[dt.date, dt.date]:
    lo, until = data_coverage().catalogue
    return lo, until - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def synthetic(con, span) -> tuple[np.ndarray, np.ndarray]:
    """Every line of CHAPTERS in the first and the last revision of the span (lines that exist in one only take
    their HTS8's first line's MFN or 0 in the other) x ORIGINS."""
    codes: set[str] = set()
    for day in span:
        table = hts.mfn_table(con, hts.revision_in_force(con, day).revision)
        codes |= {c for c in table.hts10 if str(c)[:2] in CHAPTERS}
    lines = np.array(sorted(codes), dtype=object)
    return np.repeat(lines, len(ORIGINS)), np.tile(np.array(ORIGINS, dtype=object), len(lines))


def _compare(con, span, hts10: np.ndarray, origins: np.ndarray, options: dict | None = None,
             catalogue: Catalogue | None = None) -> list[float]:
    """Assert the incremental and the full runs equal on every interval and component; return, per interval after
    the first, the share of cells the incremental run re-evaluated."""
    cells = factorize_cells(hts10, origins)
    shares: list[float] = []
    orig = Compiled.changed_cells

    def spy(self, a, b, h, o, opts):
        out = orig(self, a, b, h, o, opts)
        shares.append(float(out.mean()))
        return out

    Compiled.changed_cells = spy  # type: ignore[method-assign]  # count the cells each step re-evaluates
    try:
        inc = list(cell_rates_over(con, span[0], span[1], hts10, origins, options, catalogue, cells=cells))
    finally:
        Compiled.changed_cells = orig  # type: ignore[method-assign]
    full = cell_rates_over(con, span[0], span[1], hts10, origins, options, catalogue, cells=cells, incremental=False)
    n = 0
    for (s1, e1, r1, v1), (s2, e2, r2, v2) in zip(inc, full, strict=True):
        assert (s1, e1, v1) == (s2, e2, v2)
        assert r1.keys() == r2.keys()
        for k in r1:
            bad = np.flatnonzero(r1[k] != r2[k])
            assert bad.size == 0, (s1, k, str(hts10[bad[0]]), str(origins[bad[0]]), float(r1[k][bad[0]]), float(r2[k][bad[0]]))
        n += 1
    assert n == len(shares) + 1 and n > 40  # the coverage has dozens of constant intervals
    return shares


def test_incremental_equals_full_on_traded_cells(con, span):
    from tariffscope.trade import realized as rz

    base = rz.base_lines(con)
    shares = _compare(con, span, base.hts10, base.partner)
    # the incremental path is taken: most steps leave most cells alone, and some steps change nothing at all
    assert np.median(shares) < 0.5 and min(shares) == 0.0 and max(shares) > 0.3


@pytest.mark.parametrize("options", [
    None,
    {"metal_share": 0.3},
    {"usmca": 0.6},
    {"usmca": True, "floor_mfn_base": "special"},
    {"usmca_shares": "post2025", "ieepa_end": "ruling"},
    {"deal_dates": "legal", "auto_parts_share": 0.4, "semis_share": 0.5, "s122_civil_aircraft_share": 0.3},
], ids=["defaults", "metal_share", "usmca_fixed", "usmca_all_special", "post2025_ruling", "legal_shares"])
def test_incremental_equals_full_on_synthetic_cells(con, span, synthetic, options):
    shares = _compare(con, span, *synthetic, options)
    assert min(shares) < 0.5


def test_synthetic_cells_hit_the_tricky_cases(con, span, synthetic):
    """The synthetic set is what its name claims: it has cells where each roundabout path changes a rate."""
    hts10, origins = synthetic
    rows = list(cell_rates_over(con, span[0], span[1], hts10, origins, incremental=False))
    mfn = np.stack([r["mfn_rate"] for _, _, r, _ in rows])
    total = np.stack([r["total_rate"] for _, _, r, _ in rows])
    moves = lambda a, mask: bool((np.ptp(a[:, mask], axis=0) > 0).any())  # noqa: E731  (a rate moves over the span)
    # USMCA goods: the dated claim shares move the applied MFN of Canadian and Mexican lines (no other layer changes it)
    assert moves(mfn, np.isin(origins, ["CAN", "MEX"]))
    # HTS revisions: column 1 moves on some line of a non-USMCA origin, column 2 on the column 2 origins
    assert moves(mfn, origins == "JPN") and moves(mfn, origins == "RUS")
    # civil aircraft of Japan (a bucket block) and chapter 98 are in the set
    assert any(str(c).startswith("88") for c in hts10[origins == "JPN"])
    assert any(str(c).startswith("9801") for c in hts10)
    assert moves(total, origins == "JPN")


def _narrow_eu_floor(m: Measure) -> Measure:
    """The EU floor on chapter 84 only: its dated bucket blocks (floor_exempt, from 2025-09-25) then fall on
    products outside its own scope, whose rate under it stays nan while the block starts."""
    if m.id != "deal_eu_floor":
        return m
    return m.model_copy(update={"products": m.products.model_copy(update={"prefixes": ["84"]})})


def _usmca_exempt_from_start(m: Measure) -> Measure:
    """The fentanyl duties' USMCA exemption from their first day: on 2025-03-07 only the USMCA share set changes."""
    return m.model_copy(update={"usmca_exempt_from": None}) if m.usmca_exempt_from is not None else m


@pytest.fixture(scope="module")
def variants() -> dict[str, Catalogue]:
    """Catalogue variants where one kind of change reaches cells alone (held for the module: the engine's caches key
    on the catalogue's id, which must not be reused by another variant)."""
    cat = load()
    return {f.__name__: cat.model_copy(update={"measures": tuple(f(m) for m in cat.measures)})
            for f in (_narrow_eu_floor, _usmca_exempt_from_start)}


@pytest.mark.parametrize("variant", ["_narrow_eu_floor", "_usmca_exempt_from_start"])
def test_incremental_equals_full_on_catalogue_variants(con, span, synthetic, variants, variant):
    _compare(con, span, *synthetic, catalogue=variants[variant])
