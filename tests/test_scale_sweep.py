"""Sweeps: grid expansion, tidy table, identical results across executors, charts, target search, CLI.

The model here is a closed-form plug-in (``toy_trade``), so every expected value is computed by hand
from its formula; the PE model's own tests live with the PE model.
"""
from __future__ import annotations

import json
import sys

import cloudpickle
import numpy as np
import pyarrow.parquet as pq
import pytest

from tariffscope import api
from tariffscope.cli import main
from tariffscope.compose.sweep import expand_grid, load_spec, parse_target, run_sweep, set_path
from tariffscope.errors import InputError, ModelError, RuleError
from tariffscope.parallel import get_executor, seed_int, spawn_seeds

cloudpickle.register_pickle_by_value(sys.modules[__name__])

BASE_IMPORTS, BASE_AUTOS, SIGMA, JOBS_PER_USD = 150.0, 55.0, 4.0, 2.0


def toy_trade(params: dict, seed: int) -> dict:
    """Imports fall with the reciprocal rate (CES, sigma 4); autos with the auto floor; a seeded noise term."""
    r, f = params["reciprocal"], params["auto_floor"]
    other = (BASE_IMPORTS - BASE_AUTOS) * (1 + r) ** -SIGMA
    autos = BASE_AUTOS * (1 + f) ** -SIGMA
    noise = float(np.random.default_rng(seed).normal())
    return {"imports_change": other + autos - BASE_IMPORTS,
            "auto_jobs": (autos - BASE_AUTOS) * JOBS_PER_USD,
            "noise": noise}


def failing_model(params: dict, seed: int) -> dict:
    if params["x"] == 3:
        raise ValueError("no solution at x = 3")
    return {"y": params["x"]}


SPEC = {
    "name": "toy",
    "model": f"python:{__name__}:toy_trade",
    "base": {"reciprocal": 0.1, "auto_floor": 0.15},
    "grid": [{"name": "reciprocal", "from": 0.0, "to": 0.30, "step": 0.01},
             {"name": "auto_floor", "from": 0.10, "to": 0.25, "step": 0.025}],
    "seed": 11,
}


def test_grid_values_are_exact_and_cartesian():
    spec = load_spec(SPEC)
    pts = expand_grid(spec)
    assert spec.size == len(pts) == 31 * 7
    assert pts[0] == {"reciprocal": 0.0, "auto_floor": 0.1}
    assert pts[1] == {"reciprocal": 0.0, "auto_floor": 0.125}  # last axis fastest
    assert pts[-1] == {"reciprocal": 0.3, "auto_floor": 0.25}
    assert 0.07 in {p["reciprocal"] for p in pts}  # 0.07, not 0.07000000000000001


def test_set_path():
    d = {"changes": [{"rate": 0.1}, {"rate": 0.2}], "model": {"omega": 1.0}}
    set_path(d, "changes[1].rate", 0.5)
    set_path(d, "model.omega", 3.0)
    assert d == {"changes": [{"rate": 0.1}, {"rate": 0.5}], "model": {"omega": 3.0}}
    with pytest.raises(InputError, match=r"changes\[2\] does not exist"):
        set_path(d, "changes[2].rate", 1)


def test_sweep_table_is_tidy_and_matches_the_formula():
    res = run_sweep(SPEC, backend="serial", progress=False)
    df = res.to_frame()
    assert list(df.columns) == ["sweep", "point", "reciprocal", "auto_floor", "outcome", "label", "unit", "value"]
    assert len(df) == 217 * 3
    w = res.to_frame(wide=True)
    row = w[(w.reciprocal == 0.2) & (w.auto_floor == 0.15)].iloc[0]
    # By hand: other imports 95 * 1.2^-4, autos 55 * 1.15^-4, minus 150.
    assert row.imports_change == pytest.approx(95 * 1.2 ** -4 + 55 * 1.15 ** -4 - 150, rel=1e-12)
    assert row.auto_jobs == pytest.approx((55 * 1.15 ** -4 - 55) * 2, rel=1e-12)
    # Each point's noise comes from its own child seed: point i <- spawn_seeds(11, 217)[i].
    seeds = spawn_seeds(11, 217)
    i = int(row.point)
    assert row.noise == np.random.default_rng(seed_int(seeds[i])).normal()


def test_same_table_on_every_backend():
    ref = run_sweep(SPEC, backend="serial", progress=False).table
    with get_executor("process", workers=2) as ex:
        assert run_sweep(SPEC, executor=ex, progress=False).table.equals(ref)
    batched = dict(SPEC, batch=50)
    assert run_sweep(batched, backend="serial", progress=False).table.equals(ref)


def test_target_search():
    res = run_sweep(SPEC, backend="serial", progress=False)
    w = res.to_frame(wide=True)
    # Cut imports by at least 30 at the least auto job loss: auto_jobs is highest (least negative) at the lowest
    # floor, 0.10; at that floor, the smallest reciprocal rate meeting the cut is found by brute force here.
    tr = res.find_target("imports_change <= -30; maximize auto_jobs")
    ok = w[w.imports_change <= -30]
    best = ok.loc[ok.auto_jobs.idxmax()]
    assert tr.found and tr.point == int(best.point) and tr.feasible == len(ok)
    assert tr.params == {"reciprocal": best.reciprocal, "auto_floor": 0.1}
    none = res.find_target("imports_change <= -1000")
    assert not none.found and none.feasible == 0
    with pytest.raises(InputError, match="unknown outcome 'jobs'"):
        res.find_target("maximize jobs")
    with pytest.raises(InputError, match="target clause"):
        parse_target("imports fall a lot")


def test_outputs_parquet_and_charts(tmp_path):
    run = api.sweep(dict(SPEC, target="imports_change <= -30; maximize auto_jobs"), out=tmp_path,
                    backend="serial", progress=False, chart_format="svg")
    pq_path = tmp_path / "toy.parquet"
    t = pq.read_table(pq_path)
    assert t.num_rows == 217 * 3
    meta = t.schema.metadata
    assert json.loads(meta[b"tariffscope.sweep"])["name"] == "toy"
    assert json.loads(meta[b"tariffscope.sources"])[0]["source"].endswith(":toy_trade")
    charts = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert charts == ["toy_auto_jobs.svg", "toy_imports_change.svg", "toy_noise.svg"]
    assert "<svg" in (tmp_path / "toy_imports_change.svg").read_text()[:500]
    assert run.target is not None and run.target.found


def test_task_error_names_the_grid_point():
    spec = {"name": "bad", "model": f"python:{__name__}:failing_model", "grid": [{"name": "x", "values": [1, 2, 3, 4]}]}
    with pytest.raises(ModelError, match=r"task .* failed: ValueError: no solution at x = 3"):
        run_sweep(spec, backend="serial", progress=False)


@pytest.mark.parametrize("spec, msg", [
    ({"name": "a", "grid": []}, "grid: List should have at least 1 item"),
    ({"name": "a", "grid": [{"name": "x", "from": 1, "to": 0, "step": 0.1}]}, "grid[0]: to must be >= from"),
    ({"name": "a", "grid": [{"name": "x", "values": [1], "step": 1}]}, "give either values or from/to/step"),
    ({"name": "a", "model": "gams", "grid": [{"name": "x", "values": [1]}]}, "model must be pe, ge or python"),
    ({"name": "a", "grid": [{"name": "x", "values": [1]}], "target": "x is big"}, "target clause"),
])
def test_spec_errors(spec, msg):
    with pytest.raises((RuleError, InputError), match=msg.replace("[", r"\[").replace("]", r"\]")):
        load_spec(spec)


def test_cli_sweep(tmp_path, capsys):
    spec = tmp_path / "toy.yaml"
    import yaml

    spec.write_text(yaml.safe_dump(SPEC))
    out = tmp_path / "out"
    rc = main(["sweep", str(spec), "--out", str(out), "--backend", "serial", "--no-progress",
               "--target", "imports_change <= -30; maximize auto_jobs"])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "sweep toy (python:" in text and "217 grid points" in text
    assert "best is point" in text and (out / "toy.parquet").exists() and (out / "toy_auto_jobs.png").exists()
    rc = main(["sweep", str(spec), "--out", str(out), "--backend", "serial", "--no-progress", "--no-charts",
               "--target", "imports_change <= -1000"])
    assert rc == 1
    assert "no grid point of 217 meets the target: imports_change <= -1000" in capsys.readouterr().err


def test_ge_sweep_matches_the_ge_api(tmp_path):
    """Three points of the GE example sweep; each equals a direct ``api.ge_simulate`` of that SPEC."""
    from pathlib import Path

    from tariffscope.models.ge_spec import GESpec, load_spec as load_ge_spec

    repo = Path(__file__).resolve().parents[1]
    spec = load_spec(repo / "examples" / "sweeps" / "japan-ge-tariff.yaml")
    small = spec.model_copy(update={"grid": [spec.grid[0].model_copy(update={"start": 0.0, "stop": 0.2, "step": 0.1})]})
    small._source_dir = spec._source_dir
    res = run_sweep(small, backend="serial", progress=False)
    w = res.to_frame(wide=True)
    assert list(w.us_tariff_on_japan) == [0.0, 0.1, 0.2]
    # A higher US tariff on Japan cuts the bilateral deficit more (monotone in this model).
    assert w.deficit_cut_pct.is_monotonic_increasing and w.deficit_cut_pct.iloc[0] < 10 < w.deficit_cut_pct.iloc[2]
    gspec, base_dir = load_ge_spec(repo / "src" / "tariffscope" / "data" / "ge" / "us_tariffs_2025_japan.yaml")
    data = gspec.model_dump(mode="json")
    data["changes"][0]["rate"] = 0.1
    direct = api.ge_simulate(GESpec.model_validate(data)).to_frame()
    assert w.loc[1, "welfare_change_pct_JPN"] == direct.at["JPN", "welfare_change_pct"]
    assert w.loc[1, "real_gdp_change_pct_USA"] == direct.at["USA", "real_gdp_change_pct"]
    assert {s["source"] for s in res.sources} >= {"tariffscope.api.ge_simulate"}
