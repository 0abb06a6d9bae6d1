"""Closed-form and property checks of the partial-equilibrium model (tariffscope.models.pe)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tariffscope.errors import InputError
from tariffscope.models.pe import aggregate, solve_pe


def _armington_two_origins(v, t0, t1, sigma, eta):
    """Textbook Armington with infinitely elastic supply, one product, two origins, by hand.

    Shares at tariff-inclusive prices s_i = V_i(1+t0_i)/Σ; P̂ = (Σ s_i τ̂_i^(1-σ))^(1/(1-σ));
    x̂_i = τ̂_i^(-σ) P̂^(σ-η); new customs value = V_i x̂_i (exporter prices unchanged).
    """
    e = [v[i] * (1 + t0[i]) for i in range(2)]
    s = [e[i] / sum(e) for i in range(2)]
    tau = [(1 + t1[i]) / (1 + t0[i]) for i in range(2)]
    P = (s[0] * tau[0] ** (1 - sigma) + s[1] * tau[1] ** (1 - sigma)) ** (1 / (1 - sigma))
    x = [tau[i] ** (-sigma) * P ** (sigma - eta) for i in range(2)]
    return P, x, [v[i] * x[i] for i in range(2)]


def test_one_product_two_origins_matches_analytic_armington():
    v, t0, t1, sigma, eta = [100.0, 300.0], [0.025, 0.025], [0.275, 0.025], 4.0, 1.3
    P, x, val = _armington_two_origins(v, t0, t1, sigma, eta)
    res = solve_pe([0, 0], v, t0, t1, sigma, eta)
    np.testing.assert_allclose(res.price_index, [P, P], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.volume_new / res.volume_base, x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.value_new, val, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res.exporter_price, [1.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(res.importer_price, [1.275 / 1.025, 1.0], atol=1e-15)
    # The hit origin loses, the other gains (diversion), total falls since eta > 0.
    assert val[0] < v[0] and val[1] > v[1]
    assert res.trade_diversion[1] > 0 > res.trade_diversion[0]


def test_finite_supply_elasticity_uniform_tariff_closed_form():
    """Same tariff on every origin: ŵ^(ω+η) = τ̂^(-η) (P̂ = τ̂ŵ, supply x̂ = ŵ^ω, demand x̂ = P̂^-η)."""
    v, t0, t1, sigma, eta, omega = [50.0, 80.0, 20.0], 0.0, 0.2, 5.0, 1.5, 3.0
    res = solve_pe([7, 7, 7], v, t0, t1, sigma, eta, omega)
    w = 1.2 ** (-eta / (omega + eta))
    np.testing.assert_allclose(res.exporter_price, w, atol=1e-12)
    np.testing.assert_allclose(res.volume_new / res.volume_base, w**omega, atol=1e-12)
    np.testing.assert_allclose(res.importer_price, 1.2 * w, atol=1e-12)
    # Exporters absorb part of the tariff: share of the price wedge borne abroad = 1 - ŵ... > 0.
    assert (res.exporter_absorption > 0).all()


def test_finite_supply_solution_satisfies_demand_and_supply_equations():
    """Check the vectorised Newton solution against each market's equilibrium conditions directly."""
    rng = np.random.default_rng(3)
    n_prod, per = 40, 5
    prod = np.repeat(np.arange(n_prod), per)
    v = rng.uniform(1, 100, n_prod * per)
    t0 = rng.uniform(0, 0.1, n_prod * per)
    t1 = t0 + rng.uniform(-0.05, 0.5, n_prod * per).clip(-t0)
    sig = np.repeat(rng.uniform(1.5, 10, n_prod), per)
    eta = np.repeat(rng.uniform(0.3, 3, n_prod), per)
    om = rng.uniform(0.5, 20, n_prod * per)
    res = solve_pe(prod, v, t0, t1, sig, eta, om)
    x = res.volume_new / res.volume_base
    # Supply: x̂ = ŵ^ω; demand: x̂ = p̂^-σ P̂^(σ-η); index: P̂^(1-σ) = Σ s p̂^(1-σ); p̂ = τ̂ ŵ.
    np.testing.assert_allclose(np.log(x), om * np.log(res.exporter_price), atol=1e-9)
    np.testing.assert_allclose(
        np.log(x), -sig * np.log(res.importer_price) + (sig - eta) * np.log(res.price_index), atol=1e-9
    )
    np.testing.assert_allclose(res.importer_price, (1 + t1) / (1 + t0) * res.exporter_price, rtol=1e-12)
    s = v * (1 + t0)
    s = s / np.bincount(prod, weights=s)[prod]
    idx = np.bincount(prod, weights=s * res.importer_price ** (1 - sig)) ** (1 / (1 - sig[::per]))
    np.testing.assert_allclose(res.price_index[::per], idx, atol=1e-9)


def test_zero_tariff_change_gives_zero_change():
    rng = np.random.default_rng(0)
    n = 200
    prod = rng.integers(0, 30, n)
    t = rng.uniform(0, 0.3, n)
    sig = np.linspace(1.2, 9, 30)[prod]
    res = solve_pe(prod, rng.uniform(1, 10, n), t, t, sig, 1.0, 2.0)
    for arr in (res.value_change, res.volume_change, res.revenue_change, res.trade_diversion, res.dwl_change):
        np.testing.assert_allclose(arr, 0.0, atol=1e-12)


def test_revenue_is_rate_times_new_value_and_lines_add_up():
    rng = np.random.default_rng(1)
    n = 500
    prod = rng.integers(0, 60, n)
    origin = rng.choice(np.array(["JPN", "KOR", "DEU"]), n)
    t0 = rng.uniform(0, 0.1, n)
    t1 = t0 + np.where(origin == "JPN", 0.14, 0.0)
    res = solve_pe(prod, rng.uniform(1, 10, n), t0, t1, np.linspace(2, 6, 60)[prod], 1.2, extra={"origin": origin})
    np.testing.assert_allclose(res.revenue_new, t1 * res.value_new, rtol=1e-15)
    agg = aggregate(res, "origin")
    for col in ("value_new", "revenue_new", "trade_diversion", "dwl_change"):
        assert agg[col].sum() == pytest.approx(float(np.sum(res.column(col))), rel=1e-12)
    totals = res.totals()
    assert totals["value_change"] == pytest.approx(totals["trade_diversion"] + totals["trade_creation"], rel=1e-12)
    jpn = agg.set_index("origin").loc["JPN"]
    assert jpn.value_change < 0 and agg.set_index("origin").loc["KOR"].trade_diversion > 0


def test_cobb_douglas_limit_is_continuous():
    a = solve_pe([0, 0], [1.0, 2.0], 0.0, [0.3, 0.0], 1.0, 0.5)
    b = solve_pe([0, 0], [1.0, 2.0], 0.0, [0.3, 0.0], 1.0 + 1e-7, 0.5)
    np.testing.assert_allclose(a.value_new, b.value_new, rtol=1e-6)


def test_bad_inputs_rejected():
    with pytest.raises(InputError, match="sigma"):
        solve_pe([0, 0], [1, 1], 0, 0.1, [2, 3], 1)
    with pytest.raises(InputError, match="value"):
        solve_pe([0], [-1], 0, 0.1, 2, 1)


@settings(max_examples=60, deadline=None)
@given(
    base=st.floats(0, 0.5), rise=st.floats(0, 1.0), sigma=st.floats(1.05, 15), eta=st.floats(0.05, 5),
    omega=st.one_of(st.just(math.inf), st.floats(0.1, 50)), other=st.floats(0, 0.5),
    shares=st.lists(st.floats(0.01, 100), min_size=2, max_size=4),
)
def test_higher_tariff_never_raises_that_origins_volume(base, rise, sigma, eta, omega, other, shares):
    n = len(shares)
    t0 = np.array([base] + [other] * (n - 1))
    lo = solve_pe(np.zeros(n, int), shares, t0, t0, sigma, eta, omega)
    hi = solve_pe(np.zeros(n, int), shares, t0, t0 + np.r_[rise, np.zeros(n - 1)], sigma, eta, omega)
    assert hi.volume_new[0] <= lo.volume_new[0] * (1 + 1e-12)
    # and the other origins' volumes do not fall when sigma > eta (substitutes)
    if sigma > eta:
        assert (hi.volume_new[1:] >= lo.volume_new[1:] * (1 - 1e-12)).all()
