"""Run scenarios through the PE model: headline outcomes, breakdowns, exposure and Monte Carlo bands.

Every scenario is solved from the data's reference regime (2024 flows, MFN only) to its own regime;
``against`` another scenario reports the difference of the two (per Monte Carlo draw, with common
elasticity draws, so bands of differences are tight where the scenarios agree).

Headline outcomes (``scenarios.outcomes.Headline``, labels in ``HEADLINE``): changes against the
reference or ``against``.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pyarrow as pa

from tariffscope.errors import InputError
from tariffscope.models import elasticities as el
from tariffscope.models import exposure as ex
from tariffscope.models import uncertainty as unc
from tariffscope.models.pe import PELines, aggregate, solve_pe
from tariffscope.scenarios.outcomes import HEADLINE, HEADLINE_KEYS, difference, fast_headline, headline, precompute
from tariffscope.scenarios.panel_run import panel_assumptions, panel_flows, panel_relabel, panel_setup, panel_sources
from tariffscope.scenarios.resolve import _expand_origins, lines_for, measure_prefixes, regime_rates, sector_labels
from tariffscope.scenarios.results import (
    ASSUMPTIONS,
    ComparisonResult,
    SimulationResult,
    metric_dicts,
    records,
    run_sources,
)
from tariffscope.scenarios.schema import Scenario, load_scenario

__all__ = ["HEADLINE", "HEADLINE_KEYS", "builtin_names", "builtin_path", "get_scenario", "Problem", "prepare", "headline",
           "SimulationResult", "ComparisonResult", "simulate", "compare", "panel_flows"]

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"

def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def builtin_path(name: str) -> Path:
    p = BUILTIN_DIR / f"{name}.yaml"
    if not p.exists():
        from difflib import get_close_matches

        near = get_close_matches(name, builtin_names(), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else f"; built-ins: {', '.join(builtin_names())}"
        raise InputError(f"unknown scenario {name!r}{hint}")
    return p


def get_scenario(spec: str | Path | Scenario) -> Scenario:
    """A Scenario from an object, a built-in name or a YAML file path."""
    if isinstance(spec, Scenario):
        return spec
    s = str(spec)
    if s.endswith((".yaml", ".yml")) or os.path.sep in s:
        return load_scenario(s)
    return load_scenario(builtin_path(s))


# --- problem: everything the PE needs, as arrays (shared by the point run and the Monte Carlo) -------------


@dataclass
class Problem:
    names: list[str]
    partners: list[str]
    hts10: np.ndarray          # per line (str)
    origin: np.ndarray         # per line (str)
    sector: np.ndarray         # per line (str)
    pidx: np.ndarray           # product index per line
    products: np.ndarray       # product codes
    value: np.ndarray
    base_rate: np.ndarray      # reference regime (MFN)
    new_rate: np.ndarray       # (n_scenarios, n_lines)
    omega: np.ndarray          # per scenario
    sigma: np.ndarray          # per product (point)
    eta: np.ndarray
    sigma_sd: np.ndarray       # log-sd for the Monte Carlo
    eta_sd: np.ndarray
    partner_mask: np.ndarray   # (n_scenarios, n_lines)
    auto_mask: np.ndarray      # partner's auto and parts lines, (n_scenarios, n_lines)
    car_mask: np.ndarray       # HS 8703 lines of the partner, (n_scenarios, n_lines)
    output_usd: np.ndarray     # per scenario: partner auto output (NaN without facts)
    employment: np.ndarray
    years: np.ndarray
    elasticity_sources: dict[str, dict[str, int]] = field(default_factory=dict)
    facts: list[Any] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ("pidx", "value", "base_rate", "new_rate", "omega", "sigma", "eta", "sigma_sd", "eta_sd",
                "partner_mask", "auto_mask", "car_mask", "output_usd", "employment", "years")
        return {k: getattr(self, k) for k in keys}


def _auto_prefixes() -> list[str]:
    out = list(ex.AUTO_PREFIXES)
    try:
        out += [p for p in measure_prefixes("s232_auto_parts") if p]
    except Exception:  # noqa: BLE001 - no catalogue: HS 8703/8704/8706-8708 only
        pass
    return sorted(set(out))


def prepare(scenarios: Sequence[Scenario], *, duty_panel: Callable[..., pa.Table] | None = None,
            lines: pa.Table | None = None, con: Any = None) -> Problem:
    """The PE problem of ``scenarios``; ``con``: the warehouse connection for the import lines and the duty
    panels (None: tariffscope opens the warehouse itself)."""
    if not scenarios:
        raise InputError("no scenarios given")
    m0 = scenarios[0].model
    for sc in scenarios[1:]:
        if (sc.model.trade_year, sc.model.elasticities, sc.model.level, sc.model.sigma, sc.model.eta) != (
                m0.trade_year, m0.elasticities, m0.level, m0.sigma, m0.eta):
            raise InputError(f"scenario {sc.name!r} uses other elasticities/trade year/level than {scenarios[0].name!r}; "
                             "compare needs them equal")
    if lines is None:
        lines = lines_for(m0.trade_year, con)
    h = np.asarray(lines.column("hts10").to_numpy(zero_copy_only=False)).astype(str).astype(object)
    o = np.asarray(lines.column("origin").to_numpy(zero_copy_only=False)).astype(str).astype(object)
    v = np.asarray(lines.column("value").to_numpy(zero_copy_only=False), dtype=float)
    sector = sector_labels(h)
    rates = []
    base = None
    cache: dict = {}
    for sc in scenarios:
        r = regime_rates(sc, h, o, duty_panel=duty_panel, sectors=sector, cache=cache, con=con)
        rates.append(r["total_rate"])
        base = r["mfn_rate"] if base is None else base
    key = np.array([c[:6] for c in h], dtype=object) if m0.level == "hs6" else h
    products, pidx = np.unique(key.astype(str), return_inverse=True)
    asg = el.assign(products, m0.elasticities, sigma=m0.sigma, eta=m0.eta)
    fixed_s = np.full(products.shape[0], m0.sigma is not None)
    fixed_e = np.full(products.shape[0], m0.eta is not None)
    autos = _auto_prefixes()
    is_auto = np.zeros(h.shape[0], dtype=bool)
    hs = h.astype("U10")
    for p in autos:
        is_auto |= np.char.startswith(hs, p)
    is_car = np.char.startswith(hs, "8703")
    pm, am, cm, out_usd, emp, facts = [], [], [], [], [], []
    for sc in scenarios:
        oset = _expand_origins([sc.partner])
        mask = np.isin(o, np.array(sorted(oset or []), dtype=object))
        pm.append(mask)
        am.append(mask & is_auto)
        cm.append(mask & is_car)
        f = ex.exporter_facts(sc.partner, sc.model.trade_year)
        facts.append(f)
        out_usd.append(f.output_usd if f else np.nan)
        emp.append(f.employment if f else np.nan)
    return Problem(
        names=[sc.name for sc in scenarios], partners=[sc.partner for sc in scenarios], hts10=h, origin=o,
        sector=sector, pidx=pidx.astype(np.int64), products=products, value=v, base_rate=np.asarray(base, dtype=float),
        new_rate=np.vstack(rates), omega=np.array([sc.model.omega for sc in scenarios], dtype=float),
        sigma=asg.sigma, eta=asg.eta, sigma_sd=unc.log_sd(asg.sigma, asg.sigma_se, fixed_s),
        eta_sd=unc.log_sd(asg.eta, asg.eta_se, fixed_e), partner_mask=np.vstack(pm), auto_mask=np.vstack(am),
        car_mask=np.vstack(cm), output_usd=np.array(out_usd), employment=np.array(emp),
        years=np.array([sc.model.years for sc in scenarios], dtype=float),
        elasticity_sources=asg.source_counts(), facts=facts,
    )


def _solve(arr: dict[str, np.ndarray], k: int, sigma_g: np.ndarray, eta_g: np.ndarray, extra=None,
           check: bool = True) -> PELines:
    p = arr["pidx"]
    return solve_pe(p, arr["value"], arr["base_rate"], arr["new_rate"][k], sigma_g[p], eta_g[p], arr["omega"][k],
                    extra=extra, check=check)


# --- Monte Carlo task: module level so it pickles; the problem is loaded once per worker ------------------

_CACHE: dict[str, dict[str, np.ndarray]] = {}


def _load(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    hit = _CACHE.get(path)
    if hit is None:
        with np.load(path) as z:
            arr = {k: z[k] for k in z.files}
        hit = (arr, precompute(arr))
        _CACHE.clear()
        _CACHE[path] = hit
    return hit


def _mc_task(path: str, item: tuple[int, Any]) -> np.ndarray:
    _, seed = item
    arr, pre = _load(path)
    rng = np.random.default_rng(seed)
    s, e = unc.draw(rng, arr["sigma"], arr["sigma_sd"], arr["eta"], arr["eta_sd"])
    out = []
    for k in range(arr["new_rate"].shape[0]):
        if np.isinf(arr["omega"][k]):
            out.append(fast_headline(arr, pre, k, s, e))
        else:
            out.append(headline(_solve(arr, k, s, e, check=False), arr, k))
    return np.vstack(out)


def _draws(problem: Problem, draws: int, seed: int, backend: str, workers: int | None, progress: bool) -> np.ndarray:
    """(draws, n_scenarios, n_metrics) headline samples."""
    if draws <= 0:
        return np.empty((0, len(problem.names), len(HEADLINE)))
    with tempfile.TemporaryDirectory(prefix="tariffscope-mc-") as tmp:
        path = os.path.join(tmp, "problem.npz")
        np.savez(path, **problem.arrays())
        flat = unc.run_draws(partial(_mc_task, path), draws, seed, backend=backend, workers=workers,
                             progress=progress, desc=f"Monte Carlo ({', '.join(problem.names)})")
        _CACHE.pop(path, None)
    return flat.reshape(draws, len(problem.names), len(HEADLINE))


def _compute(scs: list[Scenario], against: Scenario | None, draws: int, seed: int, backend: str,
             workers: int | None, progress: bool, duty_panel, lines, con=None) -> tuple[Problem, list[PELines], np.ndarray, np.ndarray | None]:
    allsc = scs + ([against] if against is not None else [])
    problem = prepare(allsc, duty_panel=duty_panel, lines=lines, con=con)
    arr = problem.arrays()
    extra = {"hts10": problem.hts10, "origin": problem.origin, "sector": problem.sector,
             "hs2": np.array([c[:2] for c in problem.hts10], dtype=object)}
    results = [_solve(arr, k, problem.sigma, problem.eta, extra=extra) for k in range(len(allsc))]
    point = np.vstack([headline(results[k], arr, k) for k in range(len(allsc))])
    samples = _draws(problem, draws, seed, backend, workers, progress) if draws > 0 else None
    if against is not None:
        point = difference(point[:-1], point[-1])
        if samples is not None:
            samples = difference(samples[:, :-1, :], samples[:, -1:, :])
    return problem, results, point, samples


def simulate(scenario: str | Path | Scenario, *, draws: int = 0, seed: int = 0, against: str | Scenario | None = None,
             backend: str = "process", workers: int | None = None, progress: bool = True,
             duty_panel=None, lines: pa.Table | None = None, con: Any = None, panel: str | None = None,
             importer: str | None = None, year: int | None = None) -> SimulationResult:
    """PE of one scenario; with ``panel`` (and ``importer``, ``year``) on that importer's HS6 x origin
    imports from a world panel, with the scenario's explicit rate changes (base: no_additional_tariffs)."""
    if draws < 0:
        raise InputError("draws must be >= 0")
    sc = get_scenario(scenario)
    ag = get_scenario(against) if against is not None else None
    lines, duty_panel, ctx = panel_setup([sc] + ([ag] if ag else []), panel, importer, year, lines, duty_panel)
    problem, results, point, samples = _compute([sc], ag, draws, seed, backend, workers, progress, duty_panel, lines, con)
    res = results[0]
    headline_d = metric_dicts(point[0], samples[:, 0, :] if samples is not None else None)
    arr = problem.arrays()
    ref = results[1] if ag is not None else None  # breakdowns against `against` when given

    def delta(r: PELines, mask: np.ndarray, field_new: str, field_base: str) -> float:
        return float((getattr(r, field_new) - getattr(r, field_base))[mask].sum())

    d_auto = delta(res, arr["auto_mask"][0], "value_new", "value_base")
    d_car = delta(res, arr["car_mask"][0], "volume_new", "volume_base")
    if ref is not None:
        d_auto -= delta(ref, arr["auto_mask"][0], "value_new", "value_base")
        d_car -= delta(ref, arr["car_mask"][0], "volume_new", "volume_base")
    exposure = ex.exporter_exposure(d_auto * sc.model.years, d_car * sc.model.years, problem.facts[0])
    pmask = problem.partner_mask[0]
    by_sector = _versus(res, ref, "sector")
    by_sector_partner = _versus(_subset(res, pmask), _subset(ref, pmask) if ref is not None else None, "sector")
    exposure["balance_by_sector"] = [{"sector": r["sector"], "balance_change": -r["value_change"] * sc.model.years,
                                      "imports_change": r["value_change"] * sc.model.years}
                                     for r in records(by_sector_partner)]
    by_origin = _versus(res, ref, "origin").sort_values("value_change").reset_index(drop=True)
    lines_frame = res.to_frame() if sc.outputs.lines else None
    by_hs2 = _versus(res, ref, "hs2") if "hs2" in sc.outputs.by else None
    out = SimulationResult(
        scenario=sc, against=ag.name if ag else None, headline=headline_d, by_sector=by_sector, by_origin=by_origin,
        exposure=exposure, elasticity_sources=problem.elasticity_sources, draws=draws, seed=seed, lines=lines_frame,
        sources=run_sources(problem), assumptions=ASSUMPTIONS, by_hs2=by_hs2,
    )
    if ctx is not None:
        out.headline = panel_relabel(out.headline, ctx["importer"])
        out.sources, out.assumptions, out.flows = panel_sources(run_sources(problem), ctx), panel_assumptions(ctx), ctx
        out.reference = f"zero tariffs on {ctx['importer']}'s {ctx['year']} flows (panel {ctx['panel']})"
    return out


def _versus(res: PELines, ref: PELines | None, key: str):
    """``aggregate(res, key)``; with ``ref``, the same table for res against ref (both solved from the
    same reference flows): 'base' columns become ref's new values, changes the differences."""
    a = aggregate(res, key)
    if ref is None:
        return a
    b = aggregate(ref, key).set_index(key).reindex(a[key]).reset_index()
    out = a.copy()
    for c in ("value", "volume", "revenue", "expenditure"):
        out[f"{c}_base"] = b[f"{c}_new"].to_numpy()
        if f"{c}_change" in out:
            out[f"{c}_change"] = out[f"{c}_new"] - out[f"{c}_base"]
    for c in ("trade_diversion", "trade_creation", "dwl_change", "exporter_absorption"):
        out[c] = a[c].to_numpy() - b[c].to_numpy()
    out["importer_price_index"] = (1 + a["importer_price_index"].to_numpy()) / (1 + b["importer_price_index"].to_numpy()) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value_change_pct"] = np.where(out["value_base"] > 0, out["value_change"] / out["value_base"], 0.0)
        out["volume_change_pct"] = np.where(out["volume_base"] > 0, out["volume_change"] / out["volume_base"], 0.0)
    return out


def _subset(res: PELines, mask: np.ndarray) -> PELines:
    kw = {}
    for name in res.__dataclass_fields__:
        val = getattr(res, name)
        if name == "extra":
            kw[name] = {k: v[mask] for k, v in val.items()}
        elif isinstance(val, np.ndarray):
            kw[name] = val[mask]
        else:
            kw[name] = val
    return PELines(**kw)


def compare(scenarios: Sequence[str | Path | Scenario], *, against: str | Scenario | None = None, draws: int = 100,
            seed: int = 0, backend: str = "process", workers: int | None = None, progress: bool = True,
            duty_panel=None, lines: pa.Table | None = None, con: Any = None, panel: str | None = None,
            importer: str | None = None, year: int | None = None) -> ComparisonResult:
    if not scenarios:
        raise InputError("compare needs at least one scenario")
    if draws < 0:
        raise InputError("draws must be >= 0")
    scs = [get_scenario(s) for s in scenarios]
    ag = get_scenario(against) if against is not None else None
    lines, duty_panel, ctx = panel_setup(scs + ([ag] if ag else []), panel, importer, year, lines, duty_panel)
    problem, _, point, samples = _compute(scs, ag, draws, seed, backend, workers, progress, duty_panel, lines, con)
    packages = []
    for k, sc in enumerate(scs):
        packages.append({"name": sc.name, "description": sc.description, "partner": sc.partner,
                         "headline": metric_dicts(point[k], samples[:, k, :] if samples is not None else None)})
    out = ComparisonResult(names=[s.name for s in scs], against=ag.name if ag else None, packages=packages,
                           draws=draws, seed=seed, sources=run_sources(problem), assumptions=ASSUMPTIONS)
    if ctx is not None:
        for p in out.packages:
            panel_relabel(p["headline"], ctx["importer"])
        out.sources, out.assumptions, out.flows = panel_sources(run_sources(problem), ctx), panel_assumptions(ctx), ctx
        out.reference = f"zero tariffs on {ctx['importer']}'s {ctx['year']} flows (panel {ctx['panel']})"
    return out
