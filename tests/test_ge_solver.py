"""GE solver (exact hat algebra): closed forms, zero shock, adding up, one sector = many sectors."""
from __future__ import annotations

import numpy as np
import pytest

from tariffscope.errors import InputError, ModelError
from tariffscope.models import ge


def _random_world(n: int, k: int | None = None, seed: int = 0) -> np.ndarray:
    """Deterministic positive flows with large domestic sales (a plausible trade matrix)."""
    rng = np.random.default_rng(seed)
    shape = (n, n) if k is None else (n, n, k)
    x = rng.lognormal(0.0, 1.0, size=shape)
    idx = np.arange(n)
    if k is None:
        x[idx, idx] *= 20
    else:
        x[idx, idx, :] *= 20
    return x


def test_symmetric_two_countries_matches_closed_form():
    # Two identical countries, domestic share lam; international t^(1-s) scaled by a.
    # By symmetry p' = p, so P'^(1-s)/P^(1-s) = lam + (1-lam) a and real GDP = (lam + (1-lam) a)^(1/(s-1)),
    # the new import share is (1-lam) a / (lam + (1-lam) a) (Arkolakis-Costinot-Rodriguez-Clare).
    lam, sigma, a = 0.7, 5.0, 1.8
    x = np.array([[lam, 1 - lam], [1 - lam, lam]]) * 100.0
    change = np.array([[1.0, a], [a, 1.0]])
    r = ge.solve_one_sector(x, sigma, change, countries=["A", "B"])
    denom = lam + (1 - lam) * a
    np.testing.assert_allclose(r.price_change, 1.0, rtol=1e-12)
    np.testing.assert_allclose(r.real_gdp_change, denom ** (1 / (sigma - 1)), rtol=1e-10)
    np.testing.assert_allclose(r.flows1[0, 1] / 100.0, (1 - lam) * a / denom, rtol=1e-10)
    np.testing.assert_allclose(r.imr_change, denom ** (1 / (1 - sigma)), rtol=1e-10)


def test_symmetric_two_countries_tariff_with_revenue_closed_form():
    # A symmetric 20% tariff with revenue rebated: p' = p by symmetry; the import share is
    # s' = (1-lam) (1.2)^(1-sigma) / (lam + (1-lam) 1.2^(1-sigma)) at consumer prices and income
    # E' = Y / (1 - s' * 0.2/1.2) (tariff revenue is part of expenditure).
    lam, sigma, tau = 0.6, 4.0, 0.2
    x = np.array([[lam, 1 - lam], [1 - lam, lam]])
    tnew = np.array([[0.0, tau], [tau, 0.0]])
    r = ge.solve_one_sector(x, sigma, tariff_new=tnew, countries=["A", "B"])
    w = (1 - lam) * (1 + tau) ** (1 - sigma)
    s_new = w / (lam + w)
    e_new = 1.0 / (1.0 - s_new * tau / (1 + tau))
    np.testing.assert_allclose(r.price_change, 1.0, rtol=1e-12)
    np.testing.assert_allclose(r.expenditure1, e_new, rtol=1e-10)
    np.testing.assert_allclose(r.tariff_revenue1, e_new * s_new * tau / (1 + tau), rtol=1e-10)
    # real expenditure: E'/P' with P'^(1-s) = lam + w
    np.testing.assert_allclose(r.welfare_change, e_new / (lam + w) ** (1 / (1 - sigma)), rtol=1e-10)


def test_zero_shock_returns_the_baseline():
    x = _random_world(25, seed=3)
    tau = np.full_like(x, 0.05)
    np.fill_diagonal(tau, 0.0)
    r = ge.solve_one_sector(x, 6.0, np.ones_like(x), tau, tau, countries=None)
    assert r.diagnostics["iterations"] == 0
    np.testing.assert_allclose(r.flows1, x, rtol=1e-13)
    np.testing.assert_allclose(r.price_change, 1.0, rtol=0, atol=0)
    np.testing.assert_allclose(r.real_gdp_change, 1.0, rtol=1e-13)
    np.testing.assert_allclose(r.expenditure1, r.expenditure0, rtol=1e-13)
    m = ge.solve_multi_sector(_random_world(10, 3, seed=4), [3.0, 5.0, 8.0])
    np.testing.assert_allclose(m.flows1, m.flows0, rtol=1e-13)


@pytest.mark.parametrize("revenue", [True, False])
def test_adding_up_after_every_solve(revenue):
    # World expenditure net of tariff revenue equals world output, and every market clears.
    x = _random_world(30, seed=5)
    rng = np.random.default_rng(6)
    change = np.exp(rng.normal(0, 0.3, size=x.shape))
    tau1 = rng.uniform(0, 0.3, size=x.shape)
    np.fill_diagonal(tau1, 0)
    r = ge.solve_one_sector(x, 5.0, change, None, tau1, tariff_revenue=revenue)
    assert r.diagnostics["adding_up_gap"] < 1e-12
    world_y = r.output1.sum()
    np.testing.assert_allclose((r.expenditure1 - r.tariff_revenue1).sum(), world_y, rtol=1e-12)
    np.testing.assert_allclose(r.flows1.sum(1), r.output1, rtol=1e-9)  # market clearing
    np.testing.assert_allclose(world_y, r.output0.sum(), rtol=1e-12)  # numeraire: world output
    # trade imbalances held fixed
    np.testing.assert_allclose(r.expenditure1 - r.output1 - r.tariff_revenue1,
                               r.expenditure0 - r.output0 - r.tariff_revenue0, rtol=1e-8, atol=1e-9 * world_y)
    m = ge.solve_multi_sector(_random_world(12, 4, seed=7), [2.5, 4.0, 6.0, 9.0],
                              np.exp(rng.normal(0, 0.2, size=(12, 12, 4))), tariff_revenue=revenue)
    assert m.diagnostics["adding_up_gap"] < 1e-12


def test_multi_sector_with_one_sector_equals_one_sector_solver():
    x = _random_world(20, seed=8)
    rng = np.random.default_rng(9)
    change = np.exp(rng.normal(0, 0.25, size=x.shape))
    tau1 = rng.uniform(0, 0.25, size=x.shape)
    one = ge.solve_one_sector(x, 4.5, change, None, tau1)
    many = ge.solve_multi_sector(x[:, :, None], 4.5, change[:, :, None], None, tau1[:, :, None])
    np.testing.assert_allclose(many.flows1[:, :, 0], one.flows1, rtol=1e-9)
    np.testing.assert_allclose(many.price_change[:, 0], one.price_change, rtol=1e-9)
    np.testing.assert_allclose(many.real_gdp_change, one.real_gdp_change, rtol=1e-9)
    np.testing.assert_allclose(many.imr_change, one.imr_change, rtol=1e-9)
    f1 = one.to_frame().drop(columns="omr_change_pct")
    np.testing.assert_allclose(many.to_frame().to_numpy(dtype=float), f1.to_numpy(dtype=float), rtol=1e-7, atol=1e-9)


def test_sector_specific_elasticities_matter_and_sectors_do_not_interact_without_income_effects():
    # A shock confined to sector 0 moves sector-0 flows; a higher sigma there gives a larger response.
    x = _random_world(8, 2, seed=10)
    change = np.ones_like(x)
    change[0, 1, 0] = 2.0
    lo = ge.solve_multi_sector(x, [3.0, 3.0], change)
    hi = ge.solve_multi_sector(x, [8.0, 3.0], change)
    assert lo.flows1[0, 1, 0] > lo.flows0[0, 1, 0]
    assert hi.sector_pairs_frame().shape[0] == 8 * 8 * 2


def test_rebase_keeps_real_results():
    x = _random_world(15, seed=11)
    change = np.ones_like(x)
    change[2, 5] = change[5, 2] = 1.5
    r = ge.solve_one_sector(x, 5.0, change, countries=[f"K{i}" for i in range(15)])
    b = r.rebase("K3")
    np.testing.assert_allclose(b.real_gdp_change, r.real_gdp_change, rtol=1e-12)
    assert b.imr_change[3] == pytest.approx(1.0)


def test_non_convergence_is_a_clear_model_error():
    x = _random_world(10, seed=12)
    change = np.ones_like(x)
    change[0, :] = 50.0
    with pytest.raises(ModelError, match="did not converge: max relative excess demand .* after 3 iterations"):
        ge.solve_one_sector(x, 5.0, change, max_iter=3)


def test_bad_inputs_are_input_errors():
    with pytest.raises(InputError, match="square"):
        ge.solve_one_sector(np.ones((2, 3)), 5.0)
    with pytest.raises(InputError, match="sigma must be > 1"):
        ge.solve_one_sector(np.ones((2, 2)), 1.0)
    with pytest.raises(InputError, match="non-negative"):
        ge.solve_one_sector(np.array([[1.0, -1.0], [1.0, 1.0]]), 5.0)


def test_gegravity_convention_zero_shock_and_structural_flows():
    rng = np.random.default_rng(13)
    n = 12
    cost = np.exp(rng.normal(-2, 1, size=(n, n)))
    np.fill_diagonal(cost, 1.0)
    y = rng.lognormal(10, 1, size=n)
    e = y * rng.uniform(0.9, 1.1, size=n)
    names = [f"K{i}" for i in range(n)]
    r = ge.solve_gegravity_convention(cost, cost, y, e, 5.0, "K0", countries=names)
    np.testing.assert_allclose(r.price_change, 1.0, rtol=1e-10)
    np.testing.assert_allclose(r.flows1, r.flows0, rtol=1e-10)
    x = ge.structural_flows(cost, y, e, 0)
    np.testing.assert_allclose(x.sum(0), e, rtol=1e-10)  # columns add up to expenditure
    assert r.imr0[0] == pytest.approx(1.0)  # P_reference = 1
