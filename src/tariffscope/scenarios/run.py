"""Run scenarios through the PE model: headline outcomes, breakdowns, exposure and Monte Carlo bands.

Every scenario is solved on the 2024 flows from its reference regime (``reference:``, default the regime in
force on 2025-01-01; or MFN only) to its own regime, at its horizon (``model.horizon``, default short: the
one-year elasticities of ``models.elasticities``), with the exporter absorption of the cited pass-through
data (``elasticities.pass_through``) unless the scenario sets a finite export supply elasticity ``omega``;
``against`` another scenario reports the difference of the two (per Monte Carlo draw, with common
elasticity draws, so bands of differences are tight where the scenarios agree).

Headline outcomes (``scenarios.outcomes.Headline``, labels in ``HEADLINE``): changes against the
reference or ``against``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tariffscope.errors import InputError
from tariffscope.models import elasticities as el, exports as xm, exposure as ex, uncertainty as unc
from tariffscope.models.pe import PELines, aggregate, solve_pe
from tariffscope.models.retail import retail_pass_through
from tariffscope.scenarios import packages as pk
from tariffscope.scenarios.outcomes import HEADLINE, HEADLINE_KEYS, difference, fast_headline, headline, precompute
from tariffscope.scenarios.panel_run import panel_assumptions, panel_flows, panel_relabel, panel_setup, panel_sources
from tariffscope.scenarios.resolve import (
    _expand_origins,
    lines_for,
    measure_prefixes,
    reference_day,
    reference_label,
    reference_rates,
    regime_rates,
    sector_labels,
)
from tariffscope.scenarios.results import (
    ASSUMPTIONS,
    ComparisonResult,
    SimulationResult,
    basis_line,
    metric_dicts,
    records,
    run_basis,
    run_sources,
)
from tariffscope.scenarios.schema import Scenario, load_scenario

__all__ = ["HEADLINE", "HEADLINE_KEYS", "builtin_names", "builtin_path", "get_scenario", "Problem", "prepare", "headline",
           "SimulationResult", "ComparisonResult", "simulate", "compare", "panel_flows", "with_options", "draw_parameters"]

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
    base_rate: np.ndarray      # reference regime (scenario.reference)
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
    absorption: np.ndarray     # per line: share of the duty change the exporter absorbs (NaN: omega decides)
    ab_low: np.ndarray         # Monte Carlo range of the absorption per line
    ab_high: np.ndarray
    ab_row: np.ndarray         # the pass_through.yaml row of each line (draws are shared per row)
    retail: np.ndarray         # per line: downstream (retail) pass-through r (retail_pass_through.yaml)
    rt_low: np.ndarray         # its Monte Carlo range
    rt_high: np.ndarray
    rt_row: np.ndarray         # the retail_pass_through.yaml row of each line
    short_ranges: np.ndarray   # short horizon: [te, te_low, te_high, eta, eta_low, eta_high] (empty: long)
    fixed: np.ndarray          # [sigma overridden, eta overridden]
    supplier_multiplier: np.ndarray  # BEA supplier linkage of the auto industry (scalar array)
    horizon: str = "short"
    reference: str = "2025-01-01"
    elasticity_sources: dict[str, dict[str, int]] = field(default_factory=dict)
    facts: list[Any] = field(default_factory=list)
    absorption_override: dict[str, float] = field(default_factory=dict)  # model.absorption (named in the basis)

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ("pidx", "value", "base_rate", "new_rate", "omega", "sigma", "eta", "sigma_sd", "eta_sd",
                "partner_mask", "auto_mask", "car_mask", "output_usd", "employment", "years", "absorption",
                "ab_low", "ab_high", "ab_row", "retail", "rt_low", "rt_high", "rt_row", "short_ranges", "fixed",
                "supplier_multiplier")
        return {k: getattr(self, k) for k in keys}


def _auto_prefixes() -> list[str]:
    out = list(ex.AUTO_PREFIXES)
    # No usable catalogue: fall back to HS 8703/8704/8706-8708 only.
    with contextlib.suppress(Exception):
        out += [p for p in measure_prefixes("s232_auto_parts") if p]
    return sorted(set(out))


def prepare(scenarios: Sequence[Scenario], *, duty_panel: Callable[..., pa.Table] | None = None,
            lines: pa.Table | None = None, con: Any = None, us_pass_through: bool = True) -> Problem:
    """The PE problem of ``scenarios``; ``con``: the warehouse connection for the import lines and the duty
    panels (None: tariffscope opens the warehouse itself). ``us_pass_through=False`` (world-panel runs of other
    importers): full pass-through, as the cited absorption evidence is about US import prices."""
    if not scenarios:
        raise InputError("no scenarios given")
    m0 = scenarios[0].model
    for sc in scenarios[1:]:
        if (sc.model.trade_year, sc.model.elasticities, sc.model.level, sc.model.sigma, sc.model.eta,
                sc.model.horizon, sc.reference) != (m0.trade_year, m0.elasticities, m0.level, m0.sigma, m0.eta,
                                                   m0.horizon, scenarios[0].reference):
            raise InputError(f"scenario {sc.name!r} uses other elasticities/trade year/level/horizon/reference than "
                             f"{scenarios[0].name!r}; compare needs them equal")
    if lines is None:
        lines = lines_for(m0.trade_year, con)
    h = np.asarray(lines.column("hts10").to_numpy(zero_copy_only=False)).astype(str).astype(object)
    o = np.asarray(lines.column("origin").to_numpy(zero_copy_only=False)).astype(str).astype(object)
    v = np.asarray(lines.column("value").to_numpy(zero_copy_only=False), dtype=float)
    sector = sector_labels(h)
    cache: dict = {}
    base = reference_rates(scenarios[0].reference, h, o, duty_panel=duty_panel, cache=cache, con=con)
    rates = [regime_rates(sc, h, o, duty_panel=duty_panel, sectors=sector, cache=cache, con=con)["total_rate"]
             for sc in scenarios]
    key = np.array([c[:6] for c in h], dtype=object) if m0.level == "hs6" else h
    products, pidx = np.unique(key.astype(str), return_inverse=True)
    asg = el.assign(products, m0.elasticities, sigma=m0.sigma, eta=m0.eta, horizon=m0.horizon)
    short = np.empty(0)
    if m0.horizon == "short":
        par = el.horizon_parameters("short")
        te, imp = par["trade_elasticity"], par["import_demand"]
        short = np.array([te["value"], te["low"], te["high"], imp["value"], imp["low"], imp["high"]], dtype=float)
    # Exporter absorption from the cited evidence, used where supply is perfectly elastic (omega = inf, the
    # default); a scenario with a finite omega has an export supply curve that sets exporters' prices (_solve).
    # model.absorption overrides the cited values (over full pass-through on a world panel); one per run
    if any(sc.model.absorption != m0.absorption for sc in scenarios[1:]):
        raise InputError("the scenarios set different model.absorption; compare needs one (or --absorption)")
    pt = el.pass_through(o, h, (m0.absorption or None) if us_pass_through else {"*": 0.0, **m0.absorption})
    # Downstream pass-through from the cited US retail-price evidence (cars); other importers' panels: r = 1.
    rt = retail_pass_through(h, None if us_pass_through else 1.0)
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
        years=np.array([sc.model.years for sc in scenarios], dtype=float), absorption=pt.absorption,
        ab_low=pt.low, ab_high=pt.high, ab_row=pt.row, retail=rt.r, rt_low=rt.low, rt_high=rt.high, rt_row=rt.row,
        short_ranges=short,
        fixed=np.array([m0.sigma is not None, m0.eta is not None]),
        supplier_multiplier=np.array(ex.supplier_multiplier()), horizon=m0.horizon, reference=scenarios[0].reference,
        elasticity_sources=asg.source_counts(), facts=facts, absorption_override=dict(m0.absorption),
    )


def _solve(arr: dict[str, np.ndarray], k: int, sigma_g: np.ndarray, eta_g: np.ndarray, extra=None,
           check: bool = True, absorption: np.ndarray | None = None, retail: np.ndarray | None = None) -> PELines:
    p = arr["pidx"]
    ab = None
    if np.isinf(arr["omega"][k]):  # a finite omega: the export supply curve sets exporters' prices instead
        ab = absorption if absorption is not None else arr["absorption"]
    return solve_pe(p, arr["value"], arr["base_rate"], arr["new_rate"][k], sigma_g[p], eta_g[p], arr["omega"][k],
                    extra=extra, check=check, absorption=ab, retail=retail if retail is not None else arr["retail"])


# --- Monte Carlo task: module level so it pickles; the problem is loaded once per worker ------------------

_CACHE: dict[str, tuple[dict[str, np.ndarray], dict[str, Any]]] = {}


def _load(path: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    hit = _CACHE.get(path)
    if hit is None:
        with np.load(path) as z:
            arr = {k: z[k] for k in z.files}
        hit = (arr, precompute(arr, merge=True))
        _CACHE.clear()
        _CACHE[path] = hit
    return hit


def draw_parameters(arr: dict[str, np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Monte Carlo draw of (sigma, eta per product; absorption per line).

    Short horizon: one draw of the one-year trade elasticity and import-demand elasticity over their literature
    ranges (``uncertainty.draw_scalar``), shared by every product (they are one estimate, not one per product);
    long horizon: the per-product lognormal draws. Absorption: one draw per evidence row over its range.
    Overridden elasticities (scenario ``model.sigma``/``model.eta``) stay fixed.
    """
    short = arr["short_ranges"]
    if short.size:
        s = np.full_like(arr["sigma"], 1.0 + unc.draw_scalar(rng, *short[:3]))
        e = np.full_like(arr["eta"], unc.draw_scalar(rng, *short[3:]))
        s = np.where(arr["fixed"][0], arr["sigma"], s)
        e = np.where(arr["fixed"][1], arr["eta"], e)
    else:
        s, e = unc.draw(rng, arr["sigma"], arr["sigma_sd"], arr["eta"], arr["eta_sd"])
    return s, e, unc.draw_absorption(rng, arr["ab_row"], arr["ab_low"], arr["ab_high"], arr["absorption"])


def _mc_task(path: str, item: tuple[int, Any]) -> np.ndarray:
    _, seed = item
    arr, pre = _load(path)
    rng = np.random.default_rng(seed)
    # on the merged lines' draw inputs (precompute): the same draws as on every line, line for line
    d = pre["draw"]
    s, e, ab = draw_parameters(d, rng)
    # drawn after the other parameters, so that their draws are those of a run without a retail row
    rr = unc.draw_absorption(rng, d["rt_row"], d["rt_low"], d["rt_high"], d["retail"])
    out: list[Any] = []
    for k in range(arr["new_rate"].shape[0]):
        twin = pre["same_as"][k]
        if twin is not None:  # the same inputs as an earlier scenario: the same draw of its headline
            out.append(out[twin])
        elif np.isinf(arr["omega"][k]):
            out.append(fast_headline(arr, pre, k, s, e, ab, rr))
        else:  # the full solve needs every line's draws: each line's are those of its merged line
            g = pre["groups"]
            ab_k, rr_k = (ab, rr) if g is None else (ab[g], rr[g])
            out.append(headline(_solve(arr, k, s, e, check=False, absorption=ab_k, retail=rr_k), arr, k))
    return np.vstack(out)


def _draws(problem: Problem, draws: int, seed: int, backend: str, workers: int | None, progress: bool) -> np.ndarray:
    """(draws, n_scenarios, n_metrics) headline samples."""
    if draws <= 0:
        return np.empty((0, len(problem.names), len(HEADLINE)))
    if backend == "serial":  # tasks in this process: the problem as it is, no file and no second copy of it
        key = f"memory:{id(problem)}"
        arr = {k: np.asanyarray(v) for k, v in problem.arrays().items()}  # what np.savez would store
        # its own entry only (popped below): clearing the cache here dropped the entry of a comparison running
        # on another thread of this process (two API callers, serial draws), whose next draw then failed
        _CACHE[key] = (arr, precompute(arr, merge=True))
        try:
            flat = unc.run_draws(partial(_mc_task, key), draws, seed, backend=backend, workers=workers,
                                 progress=progress, desc=f"Monte Carlo ({', '.join(problem.names)})")
        finally:
            _CACHE.pop(key, None)
        return flat.reshape(draws, len(problem.names), len(HEADLINE))
    with tempfile.TemporaryDirectory(prefix="tariffscope-mc-") as tmp:
        path = os.path.join(tmp, "problem.npz")
        np.savez(path, **problem.arrays())  # type: ignore[arg-type]  # mypy: a **dict[str, ndarray] might fill the bool allow_pickle
        flat = unc.run_draws(partial(_mc_task, path), draws, seed, backend=backend, workers=workers,
                             progress=progress, desc=f"Monte Carlo ({', '.join(problem.names)})")
        _CACHE.pop(path, None)
    return flat.reshape(draws, len(problem.names), len(HEADLINE))


def _compute(scs: list[Scenario], against: Scenario | None, draws: int, seed: int, backend: str,
             workers: int | None, progress: bool, duty_panel, lines, con=None,
             us_pass_through: bool = True, keep_lines: bool = True
             ) -> tuple[Problem, list[PELines], np.ndarray, np.ndarray | None, dict[str, Any] | None]:
    """Problem, per-line solves (empty unless ``keep_lines``: a comparison needs only the headlines, and five
    solves of ~330k lines held through the Monte Carlo were ~200 MB), point headlines, draws, partner sides."""
    allsc = scs + ([against] if against is not None else [])
    problem = prepare(allsc, duty_panel=duty_panel, lines=lines, con=con, us_pass_through=us_pass_through)
    arr = problem.arrays()
    results: list[PELines] = []
    if keep_lines:
        extra = {"hts10": problem.hts10, "origin": problem.origin, "sector": problem.sector,
                 "hs2": np.array([c[:2] for c in problem.hts10], dtype=object)}
        results = [_solve(arr, k, problem.sigma, problem.eta, extra=extra) for k in range(len(allsc))]
        point = np.vstack([headline(results[k], arr, k) for k in range(len(allsc))])
    else:
        point = np.vstack([headline(_solve(arr, k, problem.sigma, problem.eta), arr, k) for k in range(len(allsc))])
    samples = _draws(problem, draws, seed, backend, workers, progress) if draws > 0 else None
    pkg = _partner_sides(allsc, problem.horizon, con) if any(sc.two_sided for sc in allsc) else None
    if pkg is not None:  # the balance becomes exports minus imports, per draw (the draws are paired by index)
        pkg["x_draws"] = pk.export_draws(pkg["sides"], draws, seed, problem.horizon) if samples is not None else None
        _add_partner_side(point, samples, pkg)
    if against is not None:
        point = difference(point[:-1], point[-1])
        if samples is not None:
            samples = difference(samples[:, :-1, :], samples[:, -1:, :])
        if pkg is not None and pkg["x_draws"] is not None:
            pkg["x_draws"] = pkg["x_draws"][:, :-1] - pkg["x_draws"][:, -1:]
    return problem, results, point, samples, pkg


def _partner_sides(scs: list[Scenario], horizon: str, con: Any) -> dict[str, Any]:
    """The partner side of every scenario of a run (zero for one-sided ones) on its partner's export base."""
    elasticity = float(xm.export_elasticity(horizon)["value"])
    bases: dict[tuple[str, int], tuple[dict[str, float], str]] = {}
    sides = []
    for sc in scs:
        key = (sc.partner, sc.model.trade_year)
        if sc.two_sided and key not in bases:
            bases[key] = pk.export_base(sc.partner, sc.model.trade_year, con)
        base = bases[key][0] if sc.two_sided else None
        sides.append(pk.package_side(sc, base, sc.model.trade_year, elasticity))
    return {"sides": sides, "elasticity": elasticity, "vintage": {k[0]: v[1] for k, v in bases.items()}}


def _add_partner_side(point: np.ndarray, samples: np.ndarray | None, pkg: dict[str, Any]) -> None:
    """Add each scenario's export change to its balance and user-given investment imports to its imports."""
    j_imp, j_bal = HEADLINE_KEYS.index("imports_from_partner"), HEADLINE_KEYS.index("balance_with_partner")
    for k, side in enumerate(pkg["sides"]):
        d_m = side.investment_imports * side.years
        point[k, j_imp] += d_m
        point[k, j_bal] += side.exports_point(pkg["elasticity"])["total"] - d_m
        if samples is not None:
            samples[:, k, j_imp] += d_m
            samples[:, k, j_bal] += pkg["x_draws"][:, k] - d_m


def _two_sided_out(pkg: dict[str, Any], k: int, ref: int | None, x_samples: np.ndarray | None, headline_d: list,
                   sc: Scenario, basis: dict[str, Any], con: Any) -> dict[str, Any]:
    levels = pk.official_levels(sc.partner, sc.model.trade_year, con)
    return pk.two_sided_block(pkg["sides"][k], pkg["sides"][ref] if ref is not None else None, pkg["elasticity"],
                              x_samples, headline_d, levels, basis, pkg["vintage"].get(sc.partner, ""), sc.partner)


def _two_sided_texts(out: SimulationResult | ComparisonResult) -> None:
    """A two-sided run: the assumption about US exports and the sources of the partner side."""
    out.assumptions = [pk.TWO_SIDED_ASSUMPTION if a.startswith("US exports are held fixed") else a for a in out.assumptions]
    par = xm.export_elasticity(out.basis.get("horizon", "short"))
    out.sources = out.sources + [
        {"source": pk.EXPORT_SOURCE, "what": "US total exports (FAS value) by HS2 x country (base of the partner side)",
         "vintage": "USITC DataWeb (pre-revision Census figures)"},
        {"source": "export demand elasticity", "what": par["what"] + ": " + par["citation"], "vintage": par["data"],
         "publisher": "tariffscope (tables of the published estimates they cite)"},
        {"source": "trade.balance (official basis)", "what": "levels of exports, imports and the balance: total exports "
         "(FAS) minus general imports, one vintage"},
    ]


def with_options(sc: Scenario, horizon: str | None = None, reference: str | None = None) -> Scenario:
    """``sc`` with its horizon and/or reference replaced (the CLI's --horizon/--reference); None keeps the file's."""
    if horizon is None and reference is None:
        return sc
    update: dict[str, Any] = {}
    if horizon is not None:
        update["model"] = sc.model.model_copy(update={"horizon": el.check_horizon(horizon)})
    if reference is not None:
        ref = str(reference).strip().lower()
        update["reference"] = "mfn" if ref in ("mfn", "mfn_only", "no_additional_tariffs") else ref
        reference_day(update["reference"])  # a bad date or one outside the data: one clear line, before any work
    return sc.model_copy(update=update)


def simulate(scenario: str | Path | Scenario, *, draws: int = 0, seed: int = 0, against: str | Scenario | None = None,
             backend: str = "process", workers: int | None = None, progress: bool = True,
             duty_panel=None, lines: pa.Table | None = None, con: Any = None, panel: str | None = None,
             importer: str | None = None, year: int | None = None, horizon: str | None = None,
             reference: str | None = None) -> SimulationResult:
    """PE of one scenario; with ``panel`` (and ``importer``, ``year``) on that importer's HS6 x origin
    imports from a world panel, with the scenario's explicit rate changes (base: no_additional_tariffs).
    ``horizon`` (short | long) and ``reference`` (a date or 'mfn') override the scenario file's."""
    if draws < 0:
        raise InputError("draws must be >= 0")
    sc = with_options(get_scenario(scenario), horizon, reference)
    ag = with_options(get_scenario(against), horizon, reference) if against is not None else None
    lines, duty_panel, ctx = panel_setup([sc] + ([ag] if ag else []), panel, importer, year, lines, duty_panel)
    _no_panel_packages([sc] + ([ag] if ag else []), ctx)
    problem, results, point, samples, pkg = _compute([sc], ag, draws, seed, backend, workers, progress, duty_panel, lines,
                                                     con, us_pass_through=ctx is None)
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
    d_auto_vol = delta(res, arr["auto_mask"][0], "volume_new", "volume_base")
    absorbed = float(res.exporter_absorption[arr["auto_mask"][0]].sum())
    if ref is not None:
        d_auto_vol -= delta(ref, arr["auto_mask"][0], "volume_new", "volume_base")
        absorbed -= float(ref.exporter_absorption[arr["auto_mask"][0]].sum())
    exposure = ex.exporter_exposure(d_auto * sc.model.years, d_car * sc.model.years, problem.facts[0],
                                    delta_volume_usd=d_auto_vol * sc.model.years, absorbed_usd=absorbed * sc.model.years)
    exposure["cars_hs8703"] = _split(res, ref, arr["car_mask"][0], sc.model.years)
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
        reference=_reference_text(problem, sc.model.trade_year), basis=run_basis(problem, sc.model.trade_year),
    )
    if ctx is not None:
        out.headline = panel_relabel(out.headline, ctx["importer"])
        out.sources, out.assumptions, out.flows = panel_sources(run_sources(problem), ctx), panel_assumptions(ctx), ctx
        out.reference = f"zero tariffs on {ctx['importer']}'s {ctx['year']} flows (panel {ctx['panel']})"
        _panel_basis(out.basis, ctx)
    if pkg is not None:
        xs = pkg["x_draws"][:, 0] if pkg["x_draws"] is not None else None
        out.two_sided = _two_sided_out(pkg, 0, 1 if ag is not None else None, xs, out.headline, sc, out.basis, con)
        _two_sided_texts(out)
    return out


def _no_panel_packages(scs: list[Scenario], ctx: dict[str, Any] | None) -> None:
    if ctx is not None and any(sc.two_sided for sc in scs):
        raise InputError("two-sided packages (partner_tariffs, purchases, investment) run on the US flows only, "
                         "not on a world panel")


def _split(res: PELines, ref: PELines | None, mask: np.ndarray, years: float) -> dict[str, float | None]:
    """The partner's passenger cars (HS 8703) split four ways: value, volume (at reference prices), importer price
    and exporter price (base-value-weighted geometric means), against the reference or ``ref``."""
    def one(r: PELines) -> tuple[float, float, float, float]:
        v = r.value_base[mask]
        if v.sum() <= 0:
            return 0.0, 0.0, 0.0, 0.0
        return (float((r.value_new - r.value_base)[mask].sum()), float((r.volume_new - r.volume_base)[mask].sum()),
                float(np.sum(v * np.log(r.importer_price[mask])) / v.sum()),
                float(np.sum(v * np.log(r.exporter_price[mask])) / v.sum()))
    a = one(res)
    b = one(ref) if ref is not None else (0.0, 0.0, 0.0, 0.0)
    base = float(res.value_base[mask].sum())
    if base <= 0:
        return {"value_base": 0.0, "value_change": None, "volume_change": None, "importer_price": None,
                "exporter_price": None}
    return {"value_base": base, "value_change": (a[0] - b[0]) * years, "volume_change": (a[1] - b[1]) * years,
            "value_change_pct": (a[0] - b[0]) / base, "volume_change_pct": (a[1] - b[1]) / base,
            "importer_price": float(np.expm1(a[2] - b[2])), "exporter_price": float(np.expm1(a[3] - b[3]))}


def _reference_text(problem: Problem, trade_year: int) -> str:
    return f"reference ({reference_label(problem.reference)}, {trade_year} flows)"


def _panel_basis(basis: dict[str, Any], ctx: dict[str, Any]) -> None:
    """A world-panel run's basis: its flows and year, and zero tariffs as the reference."""
    basis.update(reference="zero", reference_label="zero tariffs (the panel carries none)", base_year=ctx["year"],
                 pass_through="full pass-through (the cited absorption evidence is about US import prices)",
                 data_basis=f"panel {ctx['panel']}: imports of {ctx['importer']} by HS6 x origin, {ctx['year']} "
                            f"(vintage {ctx['vintage'] or 'n/a'})")
    basis["text"] = basis_line(basis)


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
    kw: dict[str, Any] = {}
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
            importer: str | None = None, year: int | None = None, horizon: str | None = None,
            reference: str | None = None) -> ComparisonResult:
    """Headlines of several scenarios side by side; ``horizon``/``reference`` override the files' (as simulate)."""
    if not scenarios:
        raise InputError("compare needs at least one scenario")
    if draws < 0:
        raise InputError("draws must be >= 0")
    scs = [with_options(get_scenario(s), horizon, reference) for s in scenarios]
    ag = with_options(get_scenario(against), horizon, reference) if against is not None else None
    lines, duty_panel, ctx = panel_setup(scs + ([ag] if ag else []), panel, importer, year, lines, duty_panel)
    _no_panel_packages(scs + ([ag] if ag else []), ctx)
    problem, _, point, samples, pkg = _compute(scs, ag, draws, seed, backend, workers, progress, duty_panel, lines, con,
                                               us_pass_through=ctx is None, keep_lines=False)
    packages = []
    for k, sc in enumerate(scs):
        packages.append({"name": sc.name, "description": sc.description, "partner": sc.partner,
                         "headline": metric_dicts(point[k], samples[:, k, :] if samples is not None else None)})
    out = ComparisonResult(names=[s.name for s in scs], against=ag.name if ag else None, packages=packages,
                           draws=draws, seed=seed, sources=run_sources(problem), assumptions=ASSUMPTIONS,
                           reference=_reference_text(problem, scs[0].model.trade_year),
                           basis=run_basis(problem, scs[0].model.trade_year))
    if ctx is not None:
        for p in out.packages:
            panel_relabel(p["headline"], ctx["importer"])
        out.sources, out.assumptions, out.flows = panel_sources(run_sources(problem), ctx), panel_assumptions(ctx), ctx
        out.reference = f"zero tariffs on {ctx['importer']}'s {ctx['year']} flows (panel {ctx['panel']})"
        _panel_basis(out.basis, ctx)
    if pkg is not None:
        for k, (sc, p) in enumerate(zip(scs, out.packages, strict=True)):
            xs = pkg["x_draws"][:, k] if pkg["x_draws"] is not None else None
            p["two_sided"] = _two_sided_out(pkg, k, len(scs) if ag is not None else None, xs, p["headline"], sc,
                                            out.basis, con)
        _two_sided_texts(out)
    return out
