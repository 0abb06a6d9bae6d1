"""Downstream (retail) pass-through in the PE model: r = 1 is the model without it, r = 0 leaves volumes
untouched by prices, the margin outcome, the closed form used by the Monte Carlo, the cited data and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from tariffscope.errors import InputError
from tariffscope.models.pe import absorbed_ratios, solve_pe
from tariffscope.models.retail import retail_pass_through, retail_rows


def _market(n: int = 400, seed: int = 11):
    rng = np.random.default_rng(seed)
    prod = rng.integers(0, 30, n)
    return (prod, rng.uniform(1, 10, n), rng.uniform(0, 0.1, n), rng.uniform(0.1, 0.4, n),
            np.linspace(1.3, 6, 30)[prod], rng.uniform(0, 1, n))


@pytest.mark.parametrize("omega", [np.inf, 3.0, 0.5])
@pytest.mark.parametrize("with_absorption", [False, True])
def test_r_one_reproduces_the_model_without_a_retail_stage(omega, with_absorption):
    prod, v, t0, t1, sig, ab = _market()
    ab = np.where(np.arange(ab.size) % 3 == 0, ab, np.nan) if with_absorption else None
    base = solve_pe(prod, v, t0, t1, sig, 0.8, omega, absorption=ab)
    one = solve_pe(prod, v, t0, t1, sig, 0.8, omega, absorption=ab, retail=1.0)
    for f in ("value_new", "volume_new", "importer_price", "exporter_price", "price_index", "trade_diversion", "dwl_change"):
        np.testing.assert_allclose(getattr(one, f), getattr(base, f), rtol=1e-12, atol=1e-12, err_msg=f)
    np.testing.assert_allclose(one.buyer_price, one.importer_price, rtol=1e-12)
    np.testing.assert_allclose(one.importer_margin, 0.0, atol=1e-12)
    assert base.buyer_price is None and base.importer_margin is None


@pytest.mark.parametrize("omega", [np.inf, 2.0])
def test_r_zero_means_prices_do_not_move_volumes(omega):
    prod, v, t0, t1, sig, ab = _market()
    res = solve_pe(prod, v, t0, t1, sig, 0.8, omega, absorption=np.where(np.arange(ab.size) % 2 == 0, ab, np.nan), retail=0.0)
    np.testing.assert_allclose(res.volume_new, v, rtol=1e-13)  # no substitution, no demand change
    np.testing.assert_allclose(res.trade_diversion, 0.0, atol=1e-12)
    np.testing.assert_array_equal(res.buyer_price, 1.0)
    # value moves only with the exporter price; the margin takes the whole landed price change
    np.testing.assert_allclose(res.value_new, v * res.exporter_price, rtol=1e-13)
    np.testing.assert_allclose(res.importer_margin, v * (1 + t0) * (res.importer_price - 1.0), rtol=1e-12)
    np.testing.assert_allclose(res.revenue_new, t1 * res.value_new, rtol=1e-15)  # duty on customs value


def test_one_origin_market_by_hand():
    # one line, absorption a, retail r: p̂ = τ̂^(1-a), q̂ = p̂^r, x̂ = q̂^(-eta), value = x̂ τ̂^(-a)
    a, r, eta, t0, t1 = 0.6, 0.2, 0.76, 0.025, 0.275
    tau = 1.275 / 1.025
    res = solve_pe([0], [100.0], t0, t1, 1.76, eta, absorption=a, retail=r)
    assert res.importer_price[0] == pytest.approx(tau ** (1 - a), rel=1e-13)
    assert res.buyer_price[0] == pytest.approx(tau ** ((1 - a) * r), rel=1e-13)
    assert res.volume_new[0] == pytest.approx(100 * tau ** (-(1 - a) * r * eta), rel=1e-13)
    assert res.value_new[0] == pytest.approx(100 * tau ** (-(1 - a) * r * eta - a), rel=1e-13)
    assert res.importer_margin[0] == pytest.approx(res.volume_new[0] * 1.025 * (tau ** (1 - a) - tau ** ((1 - a) * r)), rel=1e-12)


def test_finite_omega_lines_sit_on_their_supply_curve():
    prod, v, t0, t1, sig, _ = _market()
    r = np.linspace(0.05, 1.0, prod.size)
    res = solve_pe(prod, v, t0, t1, sig, 0.8, 4.0, retail=r)
    np.testing.assert_allclose(res.volume_new / v, res.exporter_price ** 4.0, rtol=1e-9)
    np.testing.assert_allclose(np.log(res.buyer_price), r * np.log(res.importer_price), rtol=1e-12, atol=1e-15)


def test_lower_r_means_less_substitution():
    # two origins, only one pays the new duty: its share falls less when buyers see less of it
    moves = [solve_pe([0, 0], [1.0, 1.0], 0.0, [0.25, 0.0], 3.0, 1.0, retail=r).volume_new[0] for r in (1.0, 0.5, 0.2, 0.0)]
    assert moves[0] < moves[1] < moves[2] < moves[3] == pytest.approx(1.0, rel=1e-14)


def test_absorbed_ratios_with_retail_equal_solve_pe():
    prod, v, _, _, sig, ab = _market()
    rng = np.random.default_rng(4)
    t0 = rng.uniform(0, 0.1, (3, prod.size))
    t1 = t0 + rng.uniform(-0.05, 0.4, (3, prod.size))
    r = rng.uniform(0, 1, prod.size)
    val, vol, price, zl = absorbed_ratios(prod, v, t0, t1, sig, 0.9, ab, log_index=True, retail=r)
    for k in range(3):
        res = solve_pe(prod, v, t0[k], t1[k], sig, 0.9, absorption=ab, retail=r)
        np.testing.assert_allclose(val[k], res.value_new / v, rtol=1e-13)
        np.testing.assert_allclose(vol[k], res.volume_new / v, rtol=1e-13)
        np.testing.assert_allclose(price[k], res.importer_price, rtol=1e-13)
        np.testing.assert_allclose(zl[k], np.log(res.price_index), rtol=1e-12, atol=1e-15)


def test_cars_have_a_cited_retail_row_and_other_products_keep_one():
    rows = {r["product"]: r for r in retail_rows()}
    car = rows["8703"]
    assert car["low"] < car["r"] < car["high"] and "bls_cpi_new_vehicles" in car["evidence"]
    assert any("CUSR0000SETA01" in c for c in car["citations"])
    rt = retail_pass_through(["8703230190", "8704310120", "8708999900", "0101210010"])
    np.testing.assert_array_equal(rt.r, [car["r"], rows["870431"]["r"], 1.0, 1.0])
    np.testing.assert_array_equal(retail_pass_through(["8703230190"], {"8703": 0.7}).r, [0.7])


@pytest.mark.parametrize("call", [
    lambda: solve_pe([0], [1.0], 0.0, 0.1, 2.0, 1.0, retail=1.5),
    lambda: solve_pe([0], [1.0], 0.0, 0.1, 2.0, 1.0, retail=np.nan),
    lambda: retail_pass_through(["8703230190"], -0.1),
    lambda: retail_pass_through(["8703230190"], {"JPN": 0.5}),
])
def test_retail_outside_unit_interval_rejected(call):
    with pytest.raises(InputError, match="retail pass-through"):
        call()


def test_scenario_kernels_carry_the_retail_stage():
    """The Monte Carlo's closed form equals the full solve with the cited r and with a drawn r; r = 1 has no
    importer margin; with the cited r Japan's cars gain less volume under japan-deal than without it."""
    from tariffscope.models.uncertainty import draw_absorption
    from tariffscope.scenarios import outcomes as so, run as sr
    from test_scenarios_schema import LINES, fake_panel

    problem = sr.prepare([sr.get_scenario("japan-deal")], duty_panel=fake_panel, lines=LINES)
    arr = problem.arrays()
    pre = so.precompute(arr)
    cars = np.char.startswith(problem.hts10.astype(str), "8703")
    assert cars.any() and (arr["retail"][cars] < 1).all() and (arr["retail"][~cars & ~np.char.startswith(
        problem.hts10.astype(str), "8704")] == 1).all()
    drawn = draw_absorption(np.random.default_rng(3), arr["rt_row"], arr["rt_low"], arr["rt_high"], arr["retail"])
    for r in (arr["retail"], drawn, np.ones_like(arr["retail"])):
        full = so.headline(sr._solve(arr, 0, problem.sigma, problem.eta, retail=r), arr, 0)
        fast = so.fast_headline(arr, pre, 0, problem.sigma, problem.eta, arr["absorption"], r)
        np.testing.assert_allclose(fast, full, rtol=1e-9, atol=1e-6)
    one = so.headline(sr._solve(arr, 0, problem.sigma, problem.eta, retail=np.ones_like(arr["retail"])), arr, 0)
    cited = so.headline(sr._solve(arr, 0, problem.sigma, problem.eta), arr, 0)
    assert one.us_importer_margin == 0.0 and cited.us_importer_margin != 0.0
    car_vol = [float((res.volume_new - res.volume_base)[arr["car_mask"][0]].sum()) for res in
               (sr._solve(arr, 0, problem.sigma, problem.eta, retail=np.ones_like(arr["retail"])),
                sr._solve(arr, 0, problem.sigma, problem.eta))]
    assert abs(car_vol[1]) < abs(car_vol[0])
