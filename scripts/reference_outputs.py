#!/usr/bin/env python
"""Reference outputs: today's results of the built-in scenarios, the GE experiments and a few headline
calls, saved as JSON in ``tests/reference_outputs/`` so a refactor can be proven behaviour-neutral.

Like Tax-Calculator's reform outputs: each file holds the call that produced it and its outcomes (the
headline figures and the per-sector / per-origin / per-country tables). ``tests/test_reference_outputs.py``
recomputes every case and compares it with the saved file (``compare`` below: relative tolerance 1e-9,
plus an absolute floor so float noise around zero, e.g. the baseline-2024 scenario that simulates to no
change, does not count as a difference). When a change of output is intended, regenerate with
``make reference`` and commit the JSON diff with the change that explains it.

Everything runs on the embedded data in a fresh ``TARIFFSCOPE_HOME``; the GE experiments read their
data through the experiments' own mechanism (``resolve_experiment``; today the Advanced Guide files in
the raw data folder).

Usage: ``.venv/bin/python scripts/reference_outputs.py [--only SUBSTRING] [--check]``
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "tests" / "reference_outputs"

REL_TOL = 1e-9
#: Experiments that estimate their coefficients (PPML through pyfixest) do not reproduce exactly from one
#: process to the next: the coefficients move in their 12th digit and the fitted baseline flows by ~1e-6,
#: which differences such as trade balances or near-zero % changes inherit in absolute terms. They are
#: compared against the scale of each column (max |value| over the rows) at 1e-4 (measured: below 3e-6).
ESTIMATED_REL_TOL = 1e-4
#: Absolute floors: a hundredth of a currency unit for money (sums of ~1e11 USD carry ~1e-5 of noise),
#: 1e-9 for everything else (rates, shares, percentages, jobs, solver residuals below their 1e-10 tolerance).
MONEY_ATOL = 1e-2
OTHER_ATOL = 1e-9
_MONEY_UNITS = {"usd", "jpy", "local"}
# Money columns and keys by name: values, revenues, flows and their changes; not the shares or % changes.
_MONEY_KEY = re.compile(r"usd|value|revenue|dwl|diversion|creation|expenditure|output_local|balance|exports|"
                        r"imports|absorption|amount|duty|flow|output_baseline|customs|base$|_new$|_change$")
_NOT_MONEY_KEY = re.compile(r"pct$|share|rate|index|price")

#: Keys dropped from every saved output: wall-clock timings vary run to run; provenance prose and
#: assumption text are not outcomes (the docs check covers the text users see).
VOLATILE_KEYS = {"seconds", "sources", "assumptions"}

#: What a Monte Carlo file keeps: the bands (the tables are the point estimates, saved without draws).
MC_KEEP = ("scenario", "partner", "against", "draws", "seed", "headline", "exposure")
PE_MONTE_CARLO = [("japan-deal", 40, 1), ("auto-relief", 40, 1)]  # (scenario, draws, seed)
GE_MONTE_CARLO = [("canada_japan_pta", 20)]  # (experiment, draws); seed from the SPEC


@dataclass(frozen=True)
class Case:
    """One saved reference output: ``path`` under OUT_DIR, the call as text, how to compute it."""

    path: str
    call: str
    run: Callable[[], Any]
    raw: bool = False  # needs the raw data folder (no case does today: the GE data ship with the package)
    keep: tuple[str, ...] = ()  # top-level output keys to save (empty: all)
    rel_tol: float = REL_TOL
    column_scale: bool = False  # tolerance relative to each table column's largest value (estimated fits)


def _pe(name: str, draws: int = 0, seed: int = 0) -> Callable[[], Any]:
    def run() -> Any:
        from tariffscope import api

        # serial backend: the same draws in the same order on any machine, no worker processes
        return api.simulate(name, draws=draws, seed=seed, backend="serial", progress=False)

    return run


def _ge(path: Path, draws: int | None = None) -> Callable[[], Any]:
    def run() -> Any:
        from tariffscope import api

        return api.ge_simulate(path, draws=draws, workers=1 if draws else None,
                               backend="serial" if draws else None)

    return run


def _call(fn: str, *args: Any, **kwargs: Any) -> Callable[[], Any]:
    def run() -> Any:
        from tariffscope import api

        return getattr(api, fn)(*args, **kwargs)

    return run


def _sig(fn: str, *args: Any, **kwargs: Any) -> str:
    parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"api.{fn}({', '.join(parts)})"


def cases() -> list[Case]:
    """Every reference case, in a stable order (the built-in scenarios and shipped experiments are listed
    at run time, so a new scenario without a reference file fails the test until it is generated)."""
    from tariffscope import api
    from tariffscope.models.ge_spec import list_experiments

    out: list[Case] = []
    for sc in api.scenarios():
        n = sc["name"]
        out.append(Case(f"pe/{n}.json", _sig("simulate", n, draws=0, backend="serial"), _pe(n)))
    for n, draws, seed in PE_MONTE_CARLO:
        out.append(Case(f"pe/{n}__draws{draws}_seed{seed}.json",
                        _sig("simulate", n, draws=draws, seed=seed, backend="serial"), _pe(n, draws, seed),
                        keep=MC_KEEP))
    experiments = list_experiments()
    for stem, path in experiments.items():
        estimated = "estimate" in ((yaml.safe_load(path.read_text()) or {}).get("coefficients") or {})
        out.append(Case(f"ge/{stem}.json", f"api.ge_simulate('{stem}')", _ge(path),
                        rel_tol=ESTIMATED_REL_TOL if estimated else REL_TOL, column_scale=estimated))
    for stem, draws in GE_MONTE_CARLO:
        path = experiments[stem]
        out.append(Case(f"ge/{stem}__draws{draws}.json",
                        f"api.ge_simulate('{stem}', draws={draws}, workers=1, backend='serial')",
                        _ge(path, draws)))
    headline: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
        ("duty_8703230140_JPN_2025-06-15", "duty", ("8703.23.01.40", "Japan", "2025-06-15"), {"customs_value": 30000}),
        ("duty_8703230140_JPN_2025-10-15", "duty", ("8703.23.01.40", "JPN", "2025-10-15"), {"customs_value": 30000}),
        ("duty_8481809050_CHN_2025-10-15", "duty", ("8481.80.90.50", "CHN", "2025-10-15"), {"customs_value": 10000}),
        ("etr_JPN_2025-10-15_by_authority", "etr", ("JPN",), {"date": "2025-10-15", "by": "authority"}),
        ("etr_WLD_2025-10-15_by_authority", "etr", ("WLD",), {"date": "2025-10-15", "by": "authority"}),
        ("balance_USA_JPN_2024_by_sector", "balance", ("USA", "JPN", "2024"), {"by": "sector"}),
        ("balance_USA_CHN_2024_by_hs2", "balance", ("USA", "CHN", "2024"), {"by": "hs2"}),
        ("statutory_vs_realized_JPN_2025", "statutory_vs_realized", ("JPN", "2025-01", "2025-12"), {}),
    ]
    for stem, fn, args, kwargs in headline:
        out.append(Case(f"headline/{stem}.json", _sig(fn, *args, **kwargs), _call(fn, *args, **kwargs)))
    return out


# --- normalisation -----------------------------------------------------------------------------


def plain(obj: Any) -> Any:
    """JSON-ready data from a result (``to_dict()`` when it has one), with numpy scalars as Python ones,
    NaN as None and the volatile keys dropped."""
    if hasattr(obj, "to_dict") and not isinstance(obj, dict):
        obj = obj.to_dict()
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items() if k not in VOLATILE_KEYS}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return str(obj)


def compute(case: Case) -> dict[str, Any]:
    out = plain(case.run())
    if case.keep:
        out = {k: v for k, v in out.items() if k in case.keep}
    return {"call": case.call, "output": out}


# --- comparison --------------------------------------------------------------------------------


def _atol(key: str, unit: str | None) -> float:
    if unit is not None and key in ("value", "p05", "p50", "p95", "mean", "std"):
        return MONEY_ATOL if unit in _MONEY_UNITS else OTHER_ATOL
    k = key.lower()
    if _NOT_MONEY_KEY.search(k):
        return OTHER_ATOL
    return MONEY_ATOL if _MONEY_KEY.search(k) else OTHER_ATOL


def _column_scales(rows: list[Any]) -> dict[str, float]:
    scales: dict[str, float] = {}
    for row in rows:
        if isinstance(row, dict):
            for k, v in row.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    scales[k] = max(scales.get(k, 0.0), abs(v))
    return scales


def compare(expected: Any, actual: Any, where: str = "", key: str = "", unit: str | None = None,
            rel_tol: float = REL_TOL, column_scale: bool = False, scale: float = 0.0,
            columns: dict[str, float] | None = None) -> Iterator[str]:
    """Every difference between a saved output and a fresh one, one line each naming the field
    (``.output.by_origin[3].value_change: expected ..., got ...``). With ``column_scale`` the tolerance
    of a table cell is relative to the largest value of its column (``columns``: those maxima)."""
    if isinstance(expected, bool) or isinstance(actual, bool) or not (
            isinstance(expected, (int, float)) and isinstance(actual, (int, float))):
        if isinstance(expected, dict) and isinstance(actual, dict):
            u = expected.get("unit") if isinstance(expected.get("unit"), str) else unit
            for k in expected:
                if k not in actual:
                    yield f"{where}.{k}: missing from the new output"
                else:
                    yield from compare(expected[k], actual[k], f"{where}.{k}", k, u, rel_tol, column_scale,
                                       (columns or {}).get(k, 0.0))
            for k in actual:
                if k not in expected:
                    yield f"{where}.{k}: new in the output (not in the reference)"
            return
        if isinstance(expected, list) and isinstance(actual, list):
            if len(expected) != len(actual):
                yield f"{where}: {len(expected)} items in the reference, {len(actual)} now"
            cols = _column_scales(expected) if column_scale else None
            for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
                yield from compare(e, a, f"{where}[{i}]", key, unit, rel_tol, column_scale, columns=cols)
            return
        if expected != actual:
            yield f"{where}: expected {expected!r}, got {actual!r}"
        return
    tol = max(rel_tol * max(abs(expected), abs(actual), scale), _atol(key, unit))
    if abs(expected - actual) > tol:
        yield (f"{where}: expected {expected!r}, got {actual!r} "
               f"(difference {actual - expected:.3g}, tolerance {tol:.3g})")


# --- writing -----------------------------------------------------------------------------------


def _row(value: Any) -> bool:
    """A table row: a dict whose values are scalars or lists of scalars."""
    return isinstance(value, dict) and all(
        not isinstance(v, (dict, list)) or (isinstance(v, list) and not any(isinstance(x, (dict, list)) for x in v))
        for v in value.values())


def one(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def dumps(obj: Any, indent: int = 0) -> str:
    """JSON with one line per table row, so a diff shows which rows moved."""
    pad, inner = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict) and obj and not (_row(obj) and len(one(obj)) <= 110):
        return "{\n" + ",\n".join(f"{inner}{one(k)}: {dumps(v, indent + 1)}" for k, v in obj.items()) + f"\n{pad}}}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        rows = [one(v) if _row(v) else dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(inner + r for r in rows) + f"\n{pad}]"
    return one(obj)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="only the cases whose path contains this text")
    ap.add_argument("--check", action="store_true", help="compare with the saved files instead of writing them")
    args = ap.parse_args(argv)
    # a fresh warehouse: the reference must not depend on what a user's home holds
    os.environ["TARIFFSCOPE_HOME"] = tempfile.mkdtemp(prefix="tariffscope-reference-")
    failures = 0
    for case in cases():
        if args.only and args.only not in case.path:
            continue
        target = OUT_DIR / case.path
        got = compute(case)
        if args.check:
            diffs = (list(compare(json.loads(target.read_text()), got, rel_tol=case.rel_tol,
                                  column_scale=case.column_scale)) if target.exists()
                     else ["no reference file"])
            failures += bool(diffs)
            print(f"{'ok  ' if not diffs else 'DIFF'} {case.path}" + "".join(f"\n  {d}" for d in diffs[:10]))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dumps(got) + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(REPO)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
