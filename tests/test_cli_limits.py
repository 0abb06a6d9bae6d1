"""Resource limits and number domains (issue 15): one safe YAML loader, bounded run sizes, finite numbers.

Each case was accepted before (a billion-laughs file ran 65 s at 6.3 GB, ``--workers 0`` meant all
cores, ``rate: true`` was a 100% tariff, GE ``sigma: 1`` divided by zero) and is now refused at once
with the field or option and the bound in the message.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from _clierr import one_line_error
from tariffscope.cli import main
from tariffscope.errors import InputError, RuleError

REPO = Path(__file__).resolve().parents[1]

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def test_yaml_loader_refuses_aliases_fast() -> None:
    from tariffscope.ingest.safeyaml import load_yaml

    t0 = time.perf_counter()
    with pytest.raises(InputError, match="laughs.yaml, line .*more than 200,000 values once aliases are expanded"):
        load_yaml(LAUGHS, source="laughs.yaml")
    assert time.perf_counter() - t0 < 1.0
    with pytest.raises(InputError, match="recursive alias"):
        load_yaml("a: &a [1, *a]\n")
    import yaml

    shared = {"rate": 0.15}  # yaml.safe_dump writes an anchor and aliases for a repeated object: still readable
    assert load_yaml(yaml.safe_dump({"changes": [shared, shared]})) == {"changes": [shared, shared]}


@pytest.mark.parametrize("text, message", [
    ("name: x\nname: y\n", r"key 'name' is given twice \(lines 1 and 2\)"),
    ("a:\n  rate: 0.1\n  rate: 0.2\n", "key 'rate' is given twice"),
    ("a: " + "[" * 200 + "]" * 200, "nested deeper than 50"),
    ("a: [1, 2", "not valid YAML"),
    ("x: !!python/object:os.system ls", "not valid YAML"),
])
def test_yaml_loader_limits(text: str, message: str) -> None:
    from tariffscope.ingest.safeyaml import load_yaml

    with pytest.raises(InputError, match=message):
        load_yaml(text, source="t.yaml")


def test_yaml_loader_size_and_encoding(tmp_path: Path) -> None:
    from tariffscope.ingest.safeyaml import MAX_BYTES, load_yaml, read_yaml_file

    with pytest.raises(InputError, match="limited to"):
        load_yaml("#" * (MAX_BYTES + 1))
    p = tmp_path / "u16.yaml"
    p.write_text("name: x\n", encoding="utf-16")
    with pytest.raises(InputError, match="not UTF-8"):
        read_yaml_file(p)
    assert load_yaml("a: 1\n<<: {b: 2}\n") == {"a": 1, "b": 2}  # merge keys without aliases still work


def test_no_yaml_safe_load_left_in_the_package() -> None:
    # one loader everywhere: a new yaml.safe_load would bypass the limits above
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "src" / "tariffscope").rglob("*.py")
                 if p.name != "safeyaml.py" and ("yaml.safe_load(" in p.read_text() or "yaml.load(" in p.read_text())]
    assert offenders == []


SCENARIO = "name: t\nbase: {{date: 2025-06-15}}\n{body}\n"


@pytest.mark.parametrize("body, message", [
    ("changes:\n  - origins: [JPN]\n    rate: .inf", "changes[0].rate"),
    ("changes:\n  - origins: [JPN]\n    rate: .nan", "changes[0].rate"),
    ("changes:\n  - origins: [JPN]\n    rate: true", "changes[0].rate: must be a number, not true/false"),
    ("changes:\n  - origins: [JPN]\n    rate: 15", "changes[0].rate: Input should be less than or equal to 10"),
    ("changes:\n  - measure: ieepa_recip_phase1\n    action: set\n    rate: .inf", "changes[0].rate"),
    ("model: {years: .inf}", "model.years"),
    ("model: {sigma: .nan}", "model.sigma"),
    ("model: {trade_year: true}", "model.trade_year"),
    ("date: 0001-01-01", "date: 0001-01-01 is outside the measure catalogue's coverage"),
])
def test_scenario_numbers_in_domain(body: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(SCENARIO.format(body=body))
    assert main(["scenarios", "validate", str(p)]) == 1
    assert message in one_line_error(capsys)


def test_scenario_base_date_outside_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "s.yaml"
    p.write_text("name: t\nbase: {date: 0001-01-01}\n")
    assert main(["scenarios", "validate", str(p)]) == 1
    assert "base.date: 0001-01-01 is outside" in one_line_error(capsys)
    p.write_text("name: t\nbase: {date: 2025-06-15}\nmodel: {omega: .inf}\n")  # infinity is meaningful here
    assert main(["scenarios", "validate", str(p)]) == 0


@pytest.mark.parametrize("sigma", ["-5", "0", "1", ".inf", "true", "{a: 0.5}"])
def test_ge_sigma_in_domain(sigma: str) -> None:
    from pydantic import ValidationError

    from tariffscope.ingest.safeyaml import load_yaml
    from tariffscope.models.ge_spec import ModelSpec

    with pytest.raises(ValidationError, match="sigma"):
        ModelSpec(sigma=load_yaml(f"s: {sigma}")["s"])


def test_ge_sigma_refused_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tariffscope.models.ge_spec import GE_DATA_DIR

    src = (GE_DATA_DIR / "canada_japan_pta_exact.yaml").read_text()
    assert "\n  sigma: 5\n" in src
    spec = tmp_path / "sigma.yaml"  # its data path resolves to the packaged table
    spec.write_text(src.replace("\n  sigma: 5\n", "\n  sigma: 1\n"))
    assert main(["ge", "simulate", str(spec)]) == 1
    assert "model.sigma" in one_line_error(capsys)


@pytest.mark.parametrize("argv, message", [
    (["simulate", "june-2025", "--workers", "0"], "--workers must be between 1 and 256"),
    (["simulate", "june-2025", "--draws", "2147483648"], "--draws must be between 0 and 10,000"),
    (["simulate", "june-2025", "--draws", "-1"], "--draws must be between 0 and 10,000"),
    (["compare", "june-2025", "--workers", "-3"], "--workers must be between 1 and 256"),
    (["ge", "simulate", "us-japan-2025", "--draws", "1"], "--draws must be between 2 and 10,000"),
    (["ge", "simulate", "us-japan-2025", "--workers", "0"], "--workers must be between 1"),
    (["ge", "simulate", "us-japan-2025", "--backend", "threads"], "bad --backend"),
    (["brief", "--draws", "2147483648", "--quiet"], "draws must be between 1 and 1000"),
    (["sweep", "examples/sweeps/japan-recip-auto-floor.yaml", "--workers", "0"], "--workers must be between 1"),
])
def test_run_sizes_bounded(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.perf_counter()
    assert main(argv) == 1
    assert message in one_line_error(capsys)
    assert time.perf_counter() - t0 < 30  # refused before the work, not after it


def test_sweep_axis_counted_before_expansion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "sweep.yaml"
    p.write_text("name: s\nmodel: pe\nbase: june-2025\ngrid:\n  - {name: r, path: 'changes[0].rate', from: 0, to: 1, step: 1.0e-12}\n")
    t0 = time.perf_counter()
    assert main(["sweep", str(p), "--out", str(tmp_path / "o")]) == 1
    assert "more than 200,000 values" in one_line_error(capsys)
    assert time.perf_counter() - t0 < 10
    p.write_text("name: s\nmodel: pe\nbase: june-2025\ngrid:\n  - {name: r, values: [0.1, .inf]}\n")
    assert main(["sweep", str(p)]) == 1
    assert "finite" in one_line_error(capsys)


@pytest.mark.parametrize("spec", ["examples/sweeps/japan-pe-recip-auto-floor.yaml", "examples/sweeps/japan-ge-tariff.yaml"])
def test_sweep_target_outcome_checked_before_any_work(spec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An outcome the sweep does not produce was found only after the whole grid ran (30 s and more)."""
    from tariffscope.compose.sweep import check_target, load_spec, produced_outcomes, run

    loaded = load_spec(REPO / spec)
    check_target(loaded, None)  # the example's own target names outcomes the sweep produces
    valid = produced_outcomes(loaded)
    assert valid is not None and "deficit_cut_pct" in valid

    def no_grid(*args: object, **kwargs: object) -> None:
        raise AssertionError("the grid ran before the target was checked")

    monkeypatch.setattr(run, "run_sweep", no_grid)
    t0 = time.perf_counter()
    assert main(["sweep", str(REPO / spec), "--out", str(tmp_path / "o"), "--no-progress",
                 "--target", "deficit_cut_pct >= 10; maximize exporter_jobz"]) == 1
    line = one_line_error(capsys)
    assert "target names outcome(s) exporter_jobz that sweep" in line
    assert "valid outcomes: " + ", ".join(valid) in line
    assert time.perf_counter() - t0 < 10
    # the spec's own target is checked the same way (through the Python API too)
    with pytest.raises(InputError, match="nope_outcome"):
        run.sweep(loaded.model_copy(update={"target": "nope_outcome >= 1"}), out=tmp_path / "o2")


def test_sweep_target_respects_the_spec_outcomes(tmp_path: Path) -> None:
    from tariffscope.compose.sweep import check_target, load_spec

    spec = load_spec({"name": "s", "model": "pe", "base": "june-2025", "outcomes": ["tariff_revenue"],
                      "grid": [{"name": "r", "path": "changes[0].rate", "values": [0.1]}]})
    check_target(spec, "tariff_revenue >= 0")
    with pytest.raises(InputError, match="valid outcomes: tariff_revenue$"):
        check_target(spec, "deficit_cut_pct >= 10")  # produced by the model, but not kept by this spec


def _hs10_codes(n: int) -> list[str]:
    """``n`` distinct HS10 codes of the embedded 2024 imports (a per-line schedule, as a user would write one)."""
    from tariffscope.api import open_warehouse

    con = open_warehouse()
    try:
        return [r[0] for r in con.execute("SELECT DISTINCT product_code FROM trade_flows WHERE product_level = 10 "
                                          "ORDER BY 1 LIMIT ?", [n]).fetchall()]
    finally:
        con.close()


def test_scenario_validation_is_linear_in_changes() -> None:
    """4,000 changes took 30 s (an all-pairs overlap check); now well under a second per 1,000."""
    from tariffscope.scenarios.schema import MAX_CHANGES, scenario_from_dict

    codes = _hs10_codes(4000)
    assert len(codes) == 4000
    changes = [{"origins": ["JPN"], "products": {"prefixes": [c]}, "mode": "set", "rate": 0.1} for c in codes]
    scenario_from_dict({"name": "warm", "base": {"date": "2025-06-15"}})  # catalogue and country tables loaded once

    def seconds(n: int) -> float:
        t0 = time.perf_counter()
        sc = scenario_from_dict({"name": "per-line", "base": {"date": "2025-06-15"}, "changes": changes[:n]})
        assert len(sc.changes) == n
        return time.perf_counter() - t0

    # best of three, the two sizes interleaved: a busy machine slows a run, never speeds it up, and a burst of
    # load then falls on both sizes rather than on the larger one only (it failed once at load 9 with best of two)
    t05, t4 = math.inf, math.inf
    for _ in range(3):
        t05, t4 = min(t05, seconds(500)), min(t4, seconds(4000))
    # linear: 8x the changes take about 8x the time; all pairs took 64x (1.6 s for 1,000 -> 25 s for 4,000).
    # The 3x margin absorbs a loaded machine's jitter and still fails an all-pairs check by far.
    assert t4 < 24 * t05 + 0.1, (t05, t4)
    assert t4 < 8.0  # well under a second per 1,000 on an idle machine, and bounded on a loaded one
    # the last change overlapping an early one is still found, and named as the all-pairs loop named it
    changes.append({"origins": ["all"], "products": {"prefixes": [codes[5][:6]]}, "mode": "add", "rate": 0.05})
    first = next(j for j, c in enumerate(codes) if c.startswith(codes[5][:6]))
    with pytest.raises(RuleError, match=rf"changes\[4000\]\.window: overlaps changes\[{first}\] "):
        scenario_from_dict({"name": "per-line", "base": {"date": "2025-06-15"}, "changes": changes})
    too_many = [{"origins": ["JPN"], "rate": 0.1}] * (MAX_CHANGES + 1)
    with pytest.raises(RuleError, match=f"changes: List should have at most {MAX_CHANGES:,}|at most {MAX_CHANGES}"):
        scenario_from_dict({"name": "x", "base": {"date": "2025-06-15"}, "changes": too_many})


def test_indexed_overlap_check_matches_all_pairs() -> None:
    """The indexed check finds exactly the pair the all-pairs rule finds, on random change lists that mix
    origins (some 'all'), prefixes of every length, sectors, measures, whole-product scopes and windows."""
    import random

    from tariffscope.scenarios.schema import RateChange, _changes_overlap, _first_overlap, scenario_from_dict

    rng = random.Random(15)
    codes = _hs10_codes(400)
    sectors = ["passenger_vehicles", "automobile_parts", "steel", "machinery"]
    found = 0
    for _ in range(300):
        changes = []
        for _ in range(rng.randint(2, 12)):
            products: dict = {}
            for _ in range(rng.randint(0, 2)):
                kind = rng.random()
                if kind < 0.6:
                    c = rng.choice(codes)
                    products.setdefault("prefixes", []).append(c[:rng.choice([2, 4, 6, 8, 10])])
                elif kind < 0.85:
                    products.setdefault("sectors", []).append(rng.choice(sectors))
                else:
                    products.setdefault("measures", []).append(rng.choice(["s232_autos", "s232_auto_parts"]))
            year = rng.choice([None, 2025, 2026])
            window = {"from": f"{year}-01-01", "until": f"{year}-07-01"} if year else {}
            changes.append({"origins": rng.choice([["JPN"], ["CAN"], ["all"], ["JPN", "MEX"]]),
                            "products": products, "window": window, "mode": "add", "rate": 0.1})
        models = [RateChange.model_validate(c) for c in changes]
        brute = next(((i, j) for i in range(len(models)) for j in range(i) if _changes_overlap(models[i], models[j])),
                     None)
        assert _first_overlap(models) == brute, changes
        found += brute is not None
        if brute is None:
            scenario_from_dict({"name": "x", "base": {"date": "2025-06-15"}, "changes": changes})
    assert 30 < found < 270  # both outcomes were exercised
