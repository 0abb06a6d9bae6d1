"""The scenario Monte Carlo on merged lines (``outcomes.precompute(merge=True)``) gives the draws of the per-line
kernel, field by field, on the brief's packages (real warehouse lines) and on a synthetic problem built so that
every field of the merge key matters: lines that differ in one draw input only, two partners, a finite-omega
package (full solve, fed the merged lines' draws), a twin package, retail rows, short and long horizons."""
from __future__ import annotations

import numpy as np
import pytest

from tariffscope.scenarios import outcomes as so, run as sr

RTOL = 1e-12


def _mc(arr: dict[str, np.ndarray], merge: bool, draws: int = 4, seed: int = 11) -> np.ndarray:
    """(draws, packages, outcomes) from ``run._mc_task`` with the merged or the per-line precompute."""
    key = f"test-merge:{merge}:{id(arr)}"
    sr._CACHE.clear()
    sr._CACHE[key] = (arr, so.precompute(arr, merge=merge))
    try:
        return np.stack([sr._mc_task(key, (i, s)) for i, s in enumerate(np.random.SeedSequence(seed).spawn(draws))])
    finally:
        sr._CACHE.pop(key, None)


def _assert_same(merged: np.ndarray, full: np.ndarray) -> None:
    """Equal to RTOL, field by field; a field whose sum cancels (jobs: a few hundred out of billions of dollars of
    volume) is held to RTOL of its largest magnitude over the draws and packages."""
    for j, name in enumerate(so.HEADLINE_KEYS):
        f, m = full[..., j], merged[..., j]
        scale = float(np.abs(f).max())
        np.testing.assert_allclose(m, f, rtol=RTOL, atol=RTOL * scale, err_msg=name)


# --- a synthetic problem --------------------------------------------------------------------------------------

N_PROD, N_ORIG = 8, 5  # origins 0 and 1 are the two partners


def synthetic(horizon: str = "short") -> dict[str, np.ndarray]:
    """Lines product x origin, each two to four times (HTS10 lines of one product with the same rates), plus one
    line per draw input that copies a partner's auto line and differs from it in that input only."""
    rng = np.random.default_rng(3)
    prod, orig = np.meshgrid(np.arange(N_PROD), np.arange(N_ORIG), indexing="ij")
    reps = rng.integers(2, 5, size=prod.size)
    pidx, o = np.repeat(prod.ravel(), reps), np.repeat(orig.ravel(), reps)
    n = pidx.size
    value = rng.uniform(1.0, 100.0, n)
    base = np.where(o == 4, 0.0, 0.025 + 0.01 * (pidx % 3))  # origin 4 pays nothing (a free-trade partner)
    # origin 2 pays what the package's partner pays and has its absorption row: only the partner mask tells them apart
    add = np.array([[0.15, 0.10, 0.15, 0.10, 0.0],   # package 0: partner 0 pays more than most
                    [0.10, 0.25, 0.25, 0.10, 0.0],   # package 1: partner 1
                    [0.15, 0.10, 0.15, 0.10, 0.0],   # package 2: package 0 with a finite omega (full solve)
                    [0.15, 0.10, 0.15, 0.10, 0.0]])  # package 3: package 0 again (its draws are copied)
    new = base[None, :] + add[:, o] * np.where(pidx < 3, 2.0, 1.0)[None, :]
    partner = np.array([0, 1, 0, 0])
    # autos: products 0-2 and some lines of product 3 (auto parts listed by HTS10 inside a wider product)
    auto = (pidx < 3) | ((pidx == 3) & (np.arange(n) % 2 == 1))
    pm = o[None, :] == partner[:, None]
    # absorption rows by origin (row 1: the partners' exporters absorb part of the duty), retail rows on autos
    ab_row = np.where(o <= 2, 1, 0)
    absorption = np.where(ab_row == 1, 0.3, 0.0)
    ab_low, ab_high = np.where(ab_row == 1, 0.1, 0.0), np.where(ab_row == 1, 0.5, 0.2)
    rt_row = np.where(pidx < 3, 1, -1)
    retail = np.where(rt_row == 1, 0.6, 1.0)
    rt_low, rt_high = np.where(rt_row == 1, 0.4, 1.0), np.where(rt_row == 1, 0.8, 1.0)
    arr = {"pidx": pidx.astype(np.int64), "value": value, "base_rate": base, "new_rate": new,
           "omega": np.array([np.inf, np.inf, 2.0, np.inf]), "partner_mask": pm, "auto_mask": pm & auto[None, :],
           "car_mask": pm & (pidx == 0)[None, :], "output_usd": np.full(4, 5e3), "employment": np.full(4, 1e3),
           "years": np.ones(4), "absorption": absorption, "ab_low": ab_low, "ab_high": ab_high, "ab_row": ab_row,
           "retail": retail, "rt_low": rt_low, "rt_high": rt_high, "rt_row": rt_row,
           "sigma": rng.uniform(2.0, 6.0, N_PROD), "eta": rng.uniform(0.5, 1.5, N_PROD),
           "sigma_sd": np.full(N_PROD, 0.3), "eta_sd": np.full(N_PROD, 0.3), "fixed": np.array([False, False]),
           "supplier_multiplier": np.array(0.8),
           "short_ranges": np.array([2.0, 1.0, 3.0, 1.0, 0.5, 1.5]) if horizon == "short" else np.empty(0)}
    # one line per draw input, a copy of partner 0's first auto line with only that input changed
    src = int(np.flatnonzero((o == 0) & (pidx == 1))[0])
    change = {"absorption": 0.4, "ab_low": 0.2, "ab_high": 0.6, "ab_row": 2, "retail": 0.7, "rt_low": 0.5,
              "rt_high": 0.9, "rt_row": 2}
    assert set(change) == set(so.DRAW_LINE_KEYS)  # a new draw input needs its own line here
    for key, new_value in change.items():
        for name, a in arr.items():
            if isinstance(a, np.ndarray) and a.shape[-1:] == (n,) and name not in ("sigma", "eta", "sigma_sd", "eta_sd"):
                arr[name] = np.concatenate([a, a[..., src:src + 1]], axis=-1)
        arr[key][-1] = new_value
        arr["value"][-1] = 7.0 + len(arr["value"]) % 5
        n += 1
    return arr


@pytest.mark.parametrize("horizon", ["short", "long"])
def test_merged_draws_equal_the_per_line_draws_on_a_synthetic_problem(horizon):
    arr = synthetic(horizon)
    pre = so.precompute(arr, merge=True)
    n = arr["value"].size
    sizes = [L["value"].size for L in pre["per"] if L is not None]
    assert pre["same_as"] == [None, None, None, 0] and pre["per"][2] is None  # the twin is copied, omega=2 solved
    assert all(s < n / 2 for s in sizes)  # the repeated lines merge
    # the draws run on one line per set of draw inputs: 2 absorption x 2 retail rows, and the 8 changed lines
    assert pre["draw"]["ab_row"].size == 4 + len(so.DRAW_LINE_KEYS)
    full, merged = _mc(arr, False), _mc(arr, True)
    assert np.isfinite(full).all() and np.abs(full).max() > 0
    _assert_same(merged, full)
    np.testing.assert_array_equal(merged[:, 3], merged[:, 0])
    # the finite-omega package is solved on every line with each line's draws taken from its merged line: the same
    # draws, so the same numbers to the last bit
    np.testing.assert_array_equal(merged[:, 2], full[:, 2])


PACKAGE_KEY = ("product", "draw line", "log tariff change", "partner", "auto")


@pytest.mark.parametrize("dropped", [("draw", k) for k in so.DRAW_LINE_KEYS] + [("package", k) for k in PACKAGE_KEY])
def test_a_key_without_one_field_merges_lines_it_must_not(dropped, monkeypatch):
    """The merge key is what makes the merged draws exact: leave any field out of it (a draw input of the draw
    lines' key, or a field of a package's key) and the synthetic problem has lines that differ in that field only,
    which then merge, and the draws no longer agree."""
    arr = synthetic()
    full = _mc(arr, False)
    which, name = dropped
    if which == "draw":
        real = so.line_groups

        def without(columns: list[np.ndarray]) -> np.ndarray:
            if len(columns) == len(so.DRAW_LINE_KEYS):  # the draw lines' key (a package's key has 2 columns)
                columns = [c for c, k in zip(columns, so.DRAW_LINE_KEYS, strict=True) if k != name]
            return real(columns)

        monkeypatch.setattr(so, "line_groups", without)
    else:
        real_key = so._package_key

        def blind(*fields: np.ndarray) -> list[np.ndarray]:  # the key as if every line had the same `name`
            i = PACKAGE_KEY.index(name)
            return real_key(*fields[:i], np.zeros_like(fields[i]), *fields[i + 1:])

        monkeypatch.setattr(so, "_package_key", blind)
    with pytest.raises(AssertionError):
        _assert_same(_mc(arr, True), full)


def test_lines_that_differ_in_their_absorption_row_do_not_merge():
    """Every line its own product-and-rates twin, but each with its own absorption row: nothing merges, and the
    draws still agree with the per-line kernel."""
    arr = synthetic()
    n = arr["value"].size
    arr["ab_row"] = np.arange(n)
    pre = so.precompute(arr, merge=True)
    assert pre["draw"]["ab_row"].size == n
    assert all(L["value"].size == n for L in pre["per"] if L is not None)
    _assert_same(_mc(arr, True), _mc(arr, False))


# --- the brief's packages on the warehouse's lines ---------------------------------------------------------------

PACKAGES = {"JPN": ["june-2025", "july-9-hike", "auto-relief", "japan-deal", "japan-deal-2025"],
            "KOR": ["korea-june-2025", "korea-deal"], "EU27": ["eu-june-2025", "eu-deal"]}


@pytest.mark.parametrize(("partner", "horizon"), [("JPN", None), ("KOR", None), ("EU27", None), ("JPN", "long")])
def test_merged_draws_equal_the_per_line_draws_on_the_brief_packages(partner, horizon, warehouse):
    scs = [sr.with_options(sr.get_scenario(name), horizon) for name in PACKAGES[partner]]
    problem = sr.prepare(scs, con=warehouse)
    arr = {k: np.asanyarray(v) for k, v in problem.arrays().items()}
    pre = so.precompute(arr, merge=True)
    n = arr["value"].size
    assert n > 100_000 and all(L["value"].size < 0.6 * n for L in pre["per"] if L is not None)
    _assert_same(_mc(arr, True, draws=3), _mc(arr, False, draws=3))


# --- the backtest's Monte Carlo -----------------------------------------------------------------------------------

@pytest.mark.parametrize("horizon", ["short", "long"])
def test_backtest_draws_on_merged_lines_equal_the_per_line_draws(horizon, warehouse, monkeypatch):
    """The backtest's draws merge lines with the same product, monthly log tariff changes, draw inputs and cells:
    Japan's 2025 backtest has about half as many lines to solve, and the same draws to 1e-12."""
    from tariffscope.compose import backtest as bt

    seen: dict[str, tuple] = {}
    real = bt._monte_carlo

    def spy(*args):
        seen["args"] = args
        return real(*args)

    monkeypatch.setattr(bt, "_monte_carlo", spy)
    bt.backtest(warehouse, "JPN", "2025-01", "2025-06", horizon=horizon, draws=4, seed=2)
    pb = seen["args"][0]
    groups = bt.line_groups([pb.product, pb.absorption, pb.ab_low, pb.ab_high, pb.ab_row, pb.retail, pb.rt_low,
                             pb.rt_high, pb.rt_row, *(np.log1p(pb.rate) - np.log1p(pb.prev_rate)), *pb.cell_ids.values()])
    assert groups.max() + 1 < 0.6 * pb.value.size
    merged, full = real(*seen["args"]), real(*seen["args"], merge=False)
    for lv in full:
        assert np.isfinite(full[lv]).all()
        np.testing.assert_allclose(merged[lv], full[lv], rtol=RTOL, err_msg=lv)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_line_groups_tell_apart_narrow_floats(dtype):
    """A float column narrower than 64 bits compares by its own bits: cast to integers it truncated 0.25 and 0.75
    to 0 and merged lines whose tariff change or absorption differ."""
    from tariffscope.models.pe import line_groups

    col = np.array([0.25, 0.75, 0.25, np.nan, np.nan], dtype=dtype)
    assert line_groups([col]).tolist() == [0, 1, 0, 2, 2]
    assert line_groups([np.zeros(5, dtype=np.int64), col]).tolist() == [0, 1, 0, 2, 2]


def test_line_groups_on_text_and_empty_columns():
    from tariffscope.models.pe import first_lines, line_groups

    assert line_groups([np.array(["JPN", "KOR", "JPN"], dtype=object)]).tolist() == [0, 1, 0]
    empty = line_groups([np.zeros(0), np.zeros(0, dtype=np.int64)])
    assert empty.shape == (0,) and first_lines(empty).shape == (0,)


def test_two_threads_drawing_in_process_keep_their_own_problem(monkeypatch):
    """Serial draws read their problem from a process-wide cache. A second comparison on another thread used to clear
    that cache when it started, so the first one's next draw found nothing and failed; each now keeps its own entry."""
    import threading
    import time
    from types import SimpleNamespace

    problems = [SimpleNamespace(names=["a", "b", "c", "d"], arrays=lambda h=h: synthetic(h)) for h in ("short", "long")]
    want = [sr._draws(p, 6, 3, "serial", None, False) for p in problems]
    real = sr._mc_task

    def slow_task(key, item):  # the two runs' draws interleave
        time.sleep(0.02)
        return real(key, item)

    monkeypatch.setattr(sr, "_mc_task", slow_task)
    got: dict[int, object] = {}

    def run(i: int) -> None:
        try:
            got[i] = sr._draws(problems[i], 6, 3, "serial", None, False)
        except Exception as exc:  # noqa: BLE001 - the failure is what the test reports
            got[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(2):
        assert isinstance(got[i], np.ndarray), got[i]
        np.testing.assert_array_equal(got[i], want[i])
    assert not [k for k in sr._CACHE if str(k).startswith("memory:")]  # each run removed its entry
