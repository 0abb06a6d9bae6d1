"""Order-free (Shapley) attribution of the gap between a partner's published figures and the US mirror."""
from __future__ import annotations

import itertools
import math

import pytest

from tariffscope.errors import IngestError
from tariffscope.trade import _sample
from tariffscope.trade.mirror import (
    CIF_FACTOR,
    read_partner_figures,
    reconcile,
    shapley_values,
)


def _interacting(c: frozenset) -> float:
    """A set function with every kind of interaction: multiplicative factors plus a pairwise and a triple term."""
    v = 100.0
    for p, f in (("fx", 0.97), ("val", 1.0315), ("lag", 1.02), ("x", 0.9)):
        v *= f if p in c else 1.0
    v += 5.0 * ("fx" in c and "lag" in c) - 3.0 * ("val" in c and "lag" in c and "x" in c)
    return v


def test_shapley_sums_to_the_total_change():
    players = ["fx", "val", "lag", "x"]
    phi = shapley_values(players, _interacting)
    assert math.isclose(sum(phi.values()), _interacting(frozenset(players)) - _interacting(frozenset()), rel_tol=1e-12)


def test_shapley_does_not_depend_on_the_order():
    base = shapley_values(["fx", "val", "lag", "x"], _interacting)
    for order in itertools.permutations(["fx", "val", "lag", "x"]):
        phi = shapley_values(list(order), _interacting)
        assert all(math.isclose(phi[k], base[k], rel_tol=1e-12) for k in base)


def test_shapley_two_factor_closed_form():
    # v = X a^[a in S] b^[b in S]: phi_a = X (a - 1)(1 + b) / 2, phi_b = X (b - 1)(1 + a) / 2
    x, a, b = 10.34, 0.995, 1.0315
    phi = shapley_values(["a", "b"], lambda c: x * (a if "a" in c else 1.0) * (b if "b" in c else 1.0))
    assert math.isclose(phi["a"], x * (a - 1) * (1 + b) / 2, rel_tol=1e-12)
    assert math.isclose(phi["b"], x * (b - 1) * (1 + a) / 2, rel_tol=1e-12)


def test_shapley_additive_game_gives_each_its_own_effect():
    eff = {"p": 3.0, "q": -1.5, "r": 0.25}
    phi = shapley_values(list(eff), lambda c: sum(eff[i] for i in c))
    assert phi == pytest.approx(eff)
    # a player that never changes anything gets nothing
    assert shapley_values(["p", "dummy"], lambda c: 2.0 * ("p" in c))["dummy"] == 0.0


@pytest.fixture()
def con():
    c = _sample.sample_warehouse()
    yield c
    c.close()


@pytest.fixture()
def figures(tmp_path):
    p = tmp_path / "partner.csv"
    p.write_text("period,flow,value,currency\n2024,exports,400000,JPY\n2024,imports,200000,JPY\n"
                 "2024,balance,200000,JPY\n2024-06,exports,1500,USD\n")
    return p


def test_reconcile_rows_carry_shapley_shares_that_add_up(con, figures):
    r = reconcile(figures, "JPN", "USA", con=con, lag_months=1)
    for x in r.rows:
        sh = x.shapley_exchange_rate + x.shapley_valuation + x.shapley_timing
        # Shapley shares the same total as the ordered steps; the residual is the same in both
        assert math.isclose(sh, x.exchange_rate + x.valuation + x.timing, rel_tol=1e-12, abs_tol=1e-9)
        assert math.isclose(sh + x.residual, x.gap, rel_tol=1e-12, abs_tol=1e-9)
    exp, imp, bal, usd = r.rows
    for k in ("shapley_exchange_rate", "shapley_valuation", "shapley_timing"):
        assert math.isclose(getattr(bal, k), getattr(exp, k) - getattr(imp, k), abs_tol=1e-6)  # linear in the flows
    # Japan's imports: no timing (US exports of 2023-12 not loaded), so two factors and the closed form holds:
    # valuation = (f - 1)(M0 + M1) / 2 with M1 the mirror at the customs-rate proxy
    m0, m1 = imp.mirror_estimate, imp.mirror_estimate + imp.exchange_rate
    assert imp.shapley_timing == 0.0
    assert math.isclose(imp.shapley_valuation, (CIF_FACTOR - 1) * (m0 + m1) / 2, rel_tol=1e-12)
    assert usd.shapley_exchange_rate == 0.0 and usd.shapley_valuation == 0.0


def test_reads_the_published_figures_layout(tmp_path):
    p = tmp_path / "mof.csv"
    p.write_text("period,reporter,partner,flow,product,value_jpy_bn,precision,source\n"
                 "2024,JPN,USA,exports,total,21300,rounded,made up\n2024,JPN,USA,exports,autos,7200,rounded,made up\n"
                 "2024,JPN,WLD,imports,total,112420,as published,made up\n")
    skipped: list[str] = []
    (fig,) = read_partner_figures(p, skipped)
    assert (fig.period, fig.flow, fig.value, fig.currency) == ("2024", "exports", 21.3e12, "JPY")
    assert len(skipped) == 2 and "autos" in skipped[0]
    p.write_text("period,reporter,partner,flow,product,value_jpy_bn,precision,source\n2024,JPN,USA,exports,total,x,,\n")
    with pytest.raises(IngestError, match="line 2"):
        read_partner_figures(p)


@pytest.mark.slow
@pytest.mark.raw
def test_japan_published_2024_against_the_mirror(warehouse, raw):
    r = reconcile(raw / "japan_mof" / "published_figures_2024.csv", "JPN", "USA", lag_months=1, con=warehouse)
    rows = {x.flow: x for x in r.rows}
    assert set(rows) == {"exports", "imports", "balance"} and rows["balance"].partner_figure == 8.6e12
    bal = rows["balance"]
    # the mirror (US: deficit 68.25 bn at monthly average rates) is above Japan's published surplus
    assert 10.0e12 < bal.mirror_estimate < 10.7e12 and bal.gap < 0
    # valuation (CIF on Japan's imports) narrows the surplus; the residual is the largest part of the gap
    assert bal.shapley_valuation < 0 and abs(bal.residual) > abs(bal.gap) / 2
    # Japan's exports to the US are smaller than US imports from Japan (origin vs consignment)
    assert rows["exports"].residual < 0 and rows["imports"].residual > 0
    assert any("automobiles and automobile parts" in n for n in r.notes)
