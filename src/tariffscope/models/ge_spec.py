"""GE experiment specifications (YAML) and their runner: data -> coefficients -> change -> solve.

A SPEC names the bilateral data, the trade-cost coefficients (given, or estimated by PPML on the
same data), how the baseline flows are built, the model settings and a list of changes:

* ``covariate``: set a gravity covariate (an RTA dummy, the international-border dummy...) to a value
  for listed pairs, for all international pairs, or everywhere (``border removal`` is
  ``covariate: INTL_BRDR, value: 0``);
* ``tariff``: an ad valorem tariff ``rate`` (new level) or ``add`` (percentage points as a fraction)
  imposed by an importer on listed exporters (``all`` = every partner), optionally only in some sectors.

Monte Carlo draws coefficients from their estimated covariance and, when the SPEC gives
``model.sigma_range`` (the 5th-95th percentiles of the elasticity of substitution), sigma too (lognormal
around ``model.sigma``); each draw is re-solved in parallel through ``tariffscope.parallel``.

Base: ``model.base: book`` keeps the data's world as it is (e.g. the Advanced Guide's 2006 flows);
``us_2024`` gives the US row and column the 2024 US manufacturing trade by partner (``us_2024_flows``:
method in its docstring and docs/ge.md). Every result states its base and base year (``GERun.to_dict``).

Labels: ``real_gdp_change_pct`` is real *income* (nominal output over the consumer price index of the
model's endowment economy) and ``welfare_change_pct`` real expenditure; neither is real GDP as national
accounts measure it (``MEASURES``). Everything returned is typed and has ``.to_frame()``.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tariffscope.config import PACKAGE_DIR
from tariffscope.errors import InputError, RuleError
from tariffscope.models import ge
from tariffscope.models.gravity import GravityEstimate, derive_columns, estimate_ppml, read_gravity_table

__all__ = ["GESpec", "GEExperiment", "MonteCarloSummary", "load_spec", "run_spec", "prepare_experiment",
           "us_2024_flows", "MEASURES", "NOT_COMPARABLE", "GE_DATA_DIR", "list_experiments", "resolve_experiment"]

#: Shipped GE experiments (SPEC YAML) and the bilateral tables they read, built by
#: scripts/build_embedded_data.py from the raw files (sources, sha256 and columns kept: provenance.json).
GE_DATA_DIR = PACKAGE_DIR / "data" / "ge"

#: What the GE outcomes are, in words every front end shows beside them.
MEASURES = {
    "real_gdp_change_pct": "real income: nominal output (factory-gate value of the country's production) deflated by "
                           "its consumer price index; the column keeps its historical name",
    "welfare_change_pct": "welfare: real expenditure (nominal expenditure over the consumer price index), the ACR "
                          "gains-from-trade measure; equals real income when trade is balanced",
}
NOT_COMPARABLE = ("Not comparable with published GDP forecasts: the model is an endowment economy of traded "
                  "manufactures (no labour, capital or services response, no dynamics), its 'real GDP' is real income, "
                  "and its changes are long-run differences between two equilibria, not a path over years.")


# --- schema -------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSpec(_Strict):
    path: str = Field(description="bilateral table (.dta/.csv/.dlm/.parquet); relative paths are tried "
                                  "against the SPEC's folder, the working directory, then the package's GE tables")
    exporter: str = "exporter"
    importer: str = "importer"
    trade: str = "trade"
    year_column: str | None = "year"
    year: int | str | None = None
    sector: str | None = None
    output: str | None = Field(None, description="exporter output column (structural baseline)")
    expenditure: str | None = Field(None, description="importer expenditure column (structural baseline)")
    rename: dict[str, str] = Field(default_factory=dict, description="country code fixes, e.g. {ZZZ: DEU}")
    add_constant: bool = False
    derive: dict[str, str] = Field(default_factory=dict,
                                   description="new columns from expressions, e.g. {ln_DIST: 'log(DIST)'}")
    label: str = ""


class EstimateSpec(_Strict):
    formula: str
    cluster: str | None = None
    years: list[int] | None = Field(None, description="estimate on these years of the panel (default: the "
                                                         "experiment's year only)")


class CoefficientsSpec(_Strict):
    given: dict[str, float] | None = None
    std_errors: dict[str, float] | None = None
    vcov: dict[str, dict[str, float]] | None = None
    estimate: EstimateSpec | None = None
    use: list[str] | None = Field(None, description="covariates that make trade costs (default: all)")

    @model_validator(mode="after")
    def _one_source(self) -> CoefficientsSpec:
        if (self.given is None) == (self.estimate is None):
            raise ValueError("coefficients: give exactly one of 'given' or 'estimate'")
        return self


def _finite(name: str, v: Any, low: float | None = None, high: float | None = None) -> None:
    # YAML '.inf', '.nan' and 'true' (read as 1) are never a number of a GE experiment
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    if (low is not None and v <= low) or (high is not None and v > high):
        raise ValueError(f"{name} must be above {low:g}" + (f" and at most {high:g}" if high is not None else "") + f", got {v!r}")


class ModelSpec(_Strict):
    sigma: float | dict[str, float] = 5.0
    sigma_range: tuple[float, float] | None = Field(
        None, description="5th and 95th percentiles of sigma for the Monte Carlo (lognormal around sigma)")
    base: Literal["book", "us_2024"] = Field(
        "book", description="book: the data's flows; us_2024: US row and column carry 2024 US trade by partner")
    closure: Literal["exact", "gegravity"] = "exact"
    baseline: Literal["observed", "fitted", "structural"] = "observed"
    tariff_revenue: bool = True
    reference: str | None = Field(None, description="report nominal values in this country's consumer prices")
    tolerance: float = ge.DEFAULT_TOL

    @field_validator("sigma", mode="before")
    @classmethod
    def _sigma_in_domain(cls, v: Any) -> Any:
        # trade costs enter as t^(1-sigma): sigma = 1 divides by zero, sigma < 1 reverses the trade elasticity
        for key, x in (v.items() if isinstance(v, dict) else [("sigma", v)]):
            _finite("sigma" if key == "sigma" else f"sigma.{key}", x, low=1.0, high=100.0)
        return v

    @model_validator(mode="after")
    def _sigma_range_ok(self) -> ModelSpec:
        if self.sigma_range is not None:
            lo, hi = self.sigma_range
            if isinstance(self.sigma, dict):
                raise ValueError("sigma_range needs one sigma (a number)")
            if not 1.0 < lo <= float(self.sigma) <= hi:
                raise ValueError(f"sigma_range must satisfy 1 < low <= sigma <= high, got [{lo}, {hi}] around {self.sigma}")
        return self


class CovariateChange(_Strict):
    covariate: str
    value: float
    pairs: list[tuple[str, str]] | None = None
    symmetric: bool = False
    scope: Literal["pairs", "international", "all"] = "pairs"


class TariffChange(_Strict):
    tariff: Literal["ad_valorem"] = "ad_valorem"
    importer: str
    exporters: list[str] | Literal["all"] = "all"
    rate: float | None = None
    add: float | None = None
    base_rate: float | None = Field(None, description="baseline rate on these flows (default 0)")
    sectors: list[str] | None = None
    label: str = ""

    @model_validator(mode="after")
    def _rate_or_add(self) -> TariffChange:
        for name in ("rate", "add", "base_rate"):
            if getattr(self, name) is not None:
                _finite(name, getattr(self, name), low=-1.0, high=10.0)  # a rate below -100% is no price
        if (self.rate is None) == (self.add is None):
            raise ValueError("tariff change: give exactly one of 'rate' (new level) or 'add'")
        return self



class MonteCarloSpec(_Strict):
    draws: int = Field(100, ge=2, le=10_000)
    seed: int = 1
    workers: int | None = Field(None, ge=1, le=256)
    backend: Literal["serial", "process", "dask"] = "process"


class GESpec(_Strict):
    name: str
    description: str = ""
    data: DataSpec
    coefficients: CoefficientsSpec
    model: ModelSpec = Field(default_factory=ModelSpec)
    changes: list[CovariateChange | TariffChange] = Field(default_factory=list)
    monte_carlo: MonteCarloSpec | None = None
    rates_source: str = Field("", description="where tariff rates come from (shown with the results)")


def load_spec(path: str | Path) -> tuple[GESpec, Path]:
    """A validated SPEC and its folder, from a YAML path or a shipped experiment's name."""
    from tariffscope.ingest.safeyaml import read_yaml_file

    p = resolve_experiment(path)
    raw = read_yaml_file(p)  # the one safe, bounded loader
    if not isinstance(raw, dict):
        raise InputError(f"{p}: a SPEC must be a mapping")
    try:
        return GESpec.model_validate(raw), p.resolve().parent
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise RuleError(f"{p}: {where}: {first['msg']}") from exc


# --- preparing arrays ---------------------------------------------------------------------------


@dataclass
class GEExperiment:
    """Everything the solver needs, built from a SPEC (arrays ``[exporter, importer(, sector)]``)."""

    spec: GESpec
    countries: tuple[str, ...]
    sectors: tuple[str, ...] | None
    flows: np.ndarray
    covariates: dict[str, np.ndarray]  # baseline pair covariates [i, j]
    covariates_new: dict[str, np.ndarray]
    coefficients: pd.Series
    vcov: pd.DataFrame | None
    tariff_base: np.ndarray
    tariff_new: np.ndarray
    output: np.ndarray | None
    expenditure: np.ndarray | None
    estimate: GravityEstimate | None
    source: str
    notes: list[str] = field(default_factory=list)


def _resolve_path(p: str, base: Path | None) -> Path:
    # the package's GE tables come last, so a SPEC copied elsewhere (the brief, sweeps, a GESpec built
    # in code) still finds the table a shipped SPEC names; the raw data folder is never searched
    cand = Path(p).expanduser()
    if cand.is_absolute():
        return cand
    for root in ([base] if base else []) + [Path.cwd(), GE_DATA_DIR]:
        if (root / cand).exists():
            return root / cand
    raise InputError(f"data file {p!r} not found (looked beside the SPEC, in the working directory "
                     f"and among the package's GE tables in {GE_DATA_DIR})")


def _square(values: pd.Series, ii: np.ndarray, jj: np.ndarray, n: int, name: str) -> np.ndarray:
    m = np.full((n, n), np.nan)
    m[ii, jj] = values.to_numpy(dtype=float)
    if np.isnan(m).any():
        missing = int(np.isnan(m).sum())
        raise InputError(f"{name}: {missing} exporter-importer pairs are missing; the data must be square")
    return m


def prepare_experiment(spec: GESpec, base_dir: Path | None = None, *, data: pd.DataFrame | None = None) -> GEExperiment:
    """Read the data, (estimate the) coefficients, build baseline flows and the changed covariates."""
    ds = spec.data
    path: Path | None = None
    if data is not None:
        df = data.copy()
    else:
        path = _resolve_path(ds.path, base_dir)
        df = read_gravity_table(path)
    source = ds.label or (str(path) if path else "DataFrame")
    for col in (ds.exporter, ds.importer, ds.trade):
        if col not in df.columns:
            raise InputError(f"{source}: column {col!r} not found")
    if ds.rename:
        df[ds.exporter] = df[ds.exporter].replace(ds.rename)
        df[ds.importer] = df[ds.importer].replace(ds.rename)
    panel = df
    if ds.year_column and ds.year_column in df.columns:
        years = sorted(pd.unique(df[ds.year_column]))
        want = ds.year if ds.year is not None else years[-1]
        df = df[df[ds.year_column].astype(float) == float(want)]
        if df.empty:
            raise InputError(f"{source}: no rows for year {want}")
        if not ds.label:
            source = f"{source}, year {int(float(want))}"
    if ds.add_constant:
        df["constant"] = 1.0
    df = derive_columns(df.copy(), ds.derive)
    df = df.reset_index(drop=True)

    est = None
    cs = spec.coefficients
    if cs.estimate is not None and cs.estimate.years:
        if not ds.year_column or ds.year_column not in panel.columns:
            raise InputError("coefficients.estimate.years needs data.year_column")
        sample = panel[panel[ds.year_column].astype(float).isin([float(y) for y in cs.estimate.years])].copy()
        if ds.add_constant:
            sample["constant"] = 1.0
        sample = derive_columns(sample, ds.derive).reset_index(drop=True)
        est = estimate_ppml(sample, cs.estimate.formula, cluster=cs.estimate.cluster,
                            source=f"{ds.label or ds.path}, years {cs.estimate.years[0]}-{cs.estimate.years[-1]}")
        coef, vcov = est.coefficients, est.vcov
        if spec.model.baseline == "fitted":
            raise InputError("baseline 'fitted' needs the estimate on the experiment's year (drop estimate.years)")
    elif cs.estimate is not None:
        est = estimate_ppml(df, cs.estimate.formula, cluster=cs.estimate.cluster, source=source)
        coef, vcov = est.coefficients, est.vcov
    else:
        coef = pd.Series(cs.given, dtype=float)
        if cs.vcov:
            vcov = pd.DataFrame(cs.vcov).reindex(index=coef.index, columns=coef.index).fillna(0.0)
        elif cs.std_errors:
            se = pd.Series(cs.std_errors).reindex(coef.index).fillna(0.0)
            vcov = pd.DataFrame(np.diag(se.to_numpy() ** 2), index=coef.index, columns=coef.index)
        else:
            vcov = None
    use = cs.use or list(coef.index)
    missing = [v for v in use if v not in coef.index]
    if missing:
        raise InputError(f"coefficients missing for {', '.join(missing)}")
    coef = coef[use]
    vcov = vcov.loc[use, use] if vcov is not None else None
    for v in use:
        if v not in df.columns:
            raise InputError(f"{source}: covariate column {v!r} not found")

    countries = tuple(sorted(set(df[ds.exporter].astype(str)) | set(df[ds.importer].astype(str))))
    n = len(countries)
    pos = {c: i for i, c in enumerate(countries)}
    sectors = None
    if ds.sector:
        sectors = tuple(sorted(df[ds.sector].astype(str).unique()))
        sec_pos = {s: k for k, s in enumerate(sectors)}
        kk = df[ds.sector].astype(str).map(sec_pos).to_numpy()
        flows = np.zeros((n, n, len(sectors)))
        ii0 = df[ds.exporter].astype(str).map(pos).to_numpy()
        jj0 = df[ds.importer].astype(str).map(pos).to_numpy()
        np.add.at(flows, (ii0, jj0, kk), df[ds.trade].to_numpy(dtype=float))
        pair = df.groupby([ds.exporter, ds.importer], as_index=False)[use].first()
    else:
        pair = df
    ii = pair[ds.exporter].astype(str).map(pos).to_numpy()
    jj = pair[ds.importer].astype(str).map(pos).to_numpy()
    cov0 = {v: _square(pair[v], ii, jj, n, v) for v in use}

    out_v = exp_v = None
    if ds.output and ds.expenditure:
        out_v = df.groupby(ds.exporter)[ds.output].mean().reindex(countries).to_numpy(dtype=float)
        exp_v = df.groupby(ds.importer)[ds.expenditure].mean().reindex(countries).to_numpy(dtype=float)

    notes: list[str] = []
    m = spec.model
    if sectors is None:
        if m.baseline == "observed":
            flows = _square(df[ds.trade], ii, jj, n, ds.trade)
            notes.append("baseline flows: observed trade (domestic sales on the diagonal)")
        elif m.baseline == "fitted":
            if est is None or est.fitted is None or est.fitted.isna().any():
                raise InputError("baseline 'fitted' needs estimated coefficients with fitted values for every pair")
            flows = _square(est.fitted, ii, jj, n, "fitted trade")
            notes.append("baseline flows: PPML fitted values (the Advanced Guide's baseline)")
        else:
            if out_v is None:
                raise InputError("baseline 'structural' needs data.output and data.expenditure columns")
            flows = np.zeros((n, n))  # built per coefficient draw in _solve
            notes.append("baseline flows: structural (t = exp(x b), multilateral resistances from output and expenditure)")
    elif m.baseline != "observed":
        raise InputError("several sectors: only baseline 'observed' is supported")
    if m.base == "us_2024":
        if sectors is not None or m.baseline != "observed":
            raise InputError("model.base us_2024 needs one sector and baseline 'observed'")
        flows, note = us_2024_flows(flows, countries)
        notes.append(note)
    if m.closure == "gegravity" and (m.baseline != "structural" or sectors is not None):
        raise InputError("closure 'gegravity' needs one sector and baseline 'structural' (as gegravity builds it)")

    cov1 = {v: a.copy() for v, a in cov0.items()}
    shape = flows.shape
    tau0 = np.zeros(shape)
    tau1 = np.zeros(shape)
    for ch in spec.changes:
        if isinstance(ch, CovariateChange):
            if ch.covariate not in cov1:
                raise InputError(f"change: covariate {ch.covariate!r} is not among the cost covariates {use}")
            mask = np.zeros((n, n), dtype=bool)
            if ch.scope == "all":
                mask[:] = True
            elif ch.scope == "international":
                mask[:] = True
                np.fill_diagonal(mask, False)
            else:
                if not ch.pairs:
                    raise InputError(f"change on {ch.covariate}: list 'pairs' or use scope international/all")
                for e, i in ch.pairs:
                    for c in (e, i):
                        if c not in pos:
                            raise InputError(f"change: country {c!r} is not in the data")
                    mask[pos[e], pos[i]] = True
                    if ch.symmetric:
                        mask[pos[i], pos[e]] = True
            cov1[ch.covariate][mask] = ch.value
        else:
            if ch.importer not in pos:
                raise InputError(f"tariff change: importer {ch.importer!r} is not in the data")
            j = pos[ch.importer]
            exps = [c for c in countries if c != ch.importer] if ch.exporters == "all" else ch.exporters
            for c in exps:
                if c not in pos:
                    raise InputError(f"tariff change: exporter {c!r} is not in the data")
            rows = np.array([pos[c] for c in exps], dtype=int)
            if sectors is None:
                if ch.sectors:
                    raise InputError("tariff change names sectors but the data have one sector")
                idx: Any = (rows, j)
            else:
                ks = list(range(len(sectors))) if not ch.sectors else [sectors.index(s) for s in ch.sectors]
                idx = np.ix_(rows, np.array([j]), np.array(ks, dtype=int))
            if ch.base_rate is not None:
                tau0[idx] = ch.base_rate
                tau1[idx] = ch.base_rate
            tau1[idx] = ch.rate if ch.rate is not None else tau1[idx] + ch.add
    return GEExperiment(spec, countries, sectors, flows, cov0, cov1, coef, vcov, tau0, tau1,
                        out_v, exp_v, est, source, notes)


# --- the updated US base -----------------------------------------------------------------------------

US_TRADE_2024 = "us_trade_2024_by_partner.csv"  # package data, built by scripts/build_embedded_data.py --only ge
# Advanced Guide country codes that differ from ISO3 today (the same table as compose.ge_rates.LEGACY_CODES,
# which models/ may not import: compose sits above the domain)
_BOOK_TO_ISO3 = {"ROM": "ROU"}


def _us_trade_2024() -> pd.DataFrame:
    path = GE_DATA_DIR / US_TRADE_2024
    if not path.exists():
        raise InputError(f"package data missing: {path} (run scripts/build_embedded_data.py --only ge)")
    return pd.read_csv(path, dtype={"partner": str}).set_index("partner")


def us_2024_flows(flows: np.ndarray, countries: tuple[str, ...], us: str = "USA") -> tuple[np.ndarray, str]:
    """The world ``flows`` [exporter, importer] with the US row and column carrying 2024 US trade by partner.

    Method (balanced: every total the solver holds fixed stays consistent):
    1. US imports from each partner i become the base's total US imports from the model's partners times
       i's share of 2024 US manufacturing imports (HS 28-97, imports for consumption) from those partners;
       US exports likewise with 2024 US manufacturing exports (FAS). US totals, and so US output, expenditure
       and trade balance, stay at the base's values: the base year's scale is kept, the partner mix is 2024's.
    2. Each partner's domestic sales absorb the change in its exports to the US, so its output is unchanged;
       its expenditure moves by the change in its imports from the US minus that change (its trade balance
       with the world shifts by the same amount, and world output is unchanged).
    Partners absent from the 2024 table, or a domestic sale that would turn negative, are an InputError.
    """
    if us not in countries:
        raise InputError(f"model.base us_2024: {us} is not in the data")
    tab = _us_trade_2024()
    u = countries.index(us)
    others = np.array([i for i in range(len(countries)) if i != u])
    codes = [_BOOK_TO_ISO3.get(countries[i], countries[i]) for i in others]
    missing = [c for c in codes if c not in tab.index]
    if missing:
        raise InputError(f"model.base us_2024: no 2024 US trade for {', '.join(missing)} in {US_TRADE_2024}")
    imp = tab.loc[codes, "us_imports"].to_numpy(dtype=float)
    exp_ = tab.loc[codes, "us_exports"].to_numpy(dtype=float)
    new = np.array(flows, dtype=float, copy=True)
    m_tot, x_tot = flows[others, u].sum(), flows[u, others].sum()
    new[others, u] = m_tot * imp / imp.sum()
    new[u, others] = x_tot * exp_ / exp_.sum()
    new[others, others] -= new[others, u] - flows[others, u]
    bad = [countries[i] for i in others if new[i, i] <= 0]
    if bad:
        raise InputError(f"model.base us_2024: domestic sales of {', '.join(bad)} would turn negative")
    share = imp / imp.sum()
    jpn = f"; Japan's share of US imports {float(flows[countries.index('JPN'), u] / m_tot):.1%} -> {float(share[codes.index('JPN')]):.1%}" \
        if "JPN" in codes else ""
    note = (f"base: the data's world with the US row and column re-weighted to 2024 US manufacturing trade by partner "
            f"(HS 28-97; {US_TRADE_2024}); US totals and partners' outputs kept{jpn}")
    return new, note


# --- solving ------------------------------------------------------------------------------------


def _cost(cov: dict[str, np.ndarray], beta: pd.Series) -> np.ndarray:
    return np.asarray(sum(float(beta[v]) * cov[v] for v in beta.index))  # log of t^(1-sigma)


def _solve(exp: GEExperiment, beta: pd.Series, sigma: float | None = None) -> ge.GEResult:
    m = exp.spec.model
    if sigma is not None:  # a Monte Carlo draw of sigma (sigma_range): the SPEC's value otherwise
        m = m.model_copy(update={"sigma": float(sigma)})
    lc0, lc1 = _cost(exp.covariates, beta), _cost(exp.covariates_new, beta)
    src = exp.source
    if m.closure == "gegravity":
        if m.reference is None:
            raise InputError("closure 'gegravity' needs model.reference (gegravity's reference importer)")
        sigma = float(m.sigma) if not isinstance(m.sigma, dict) else None
        if sigma is None:
            raise InputError("closure 'gegravity' takes one sigma")
        if np.any(exp.tariff_new != exp.tariff_base):
            raise InputError("closure 'gegravity' has no tariffs; use the exact closure")
        return ge.solve_gegravity_convention(np.exp(lc0), np.exp(lc1), exp.output, exp.expenditure, sigma,
                                             m.reference, countries=exp.countries, source=src)
    flows = exp.flows
    if m.baseline == "structural":
        ref = exp.countries.index(m.reference) if m.reference else 0
        flows = ge.structural_flows(np.exp(lc0), exp.output, exp.expenditure, ref)
    n = len(exp.countries)
    change = np.broadcast_to(np.exp(np.asarray(lc1, dtype=float) - np.asarray(lc0, dtype=float)), (n, n))
    if exp.sectors is not None:
        sig = m.sigma
        sig_arr = np.array([sig[s] for s in exp.sectors]) if isinstance(sig, dict) else float(sig)
        res = ge.solve_multi_sector(flows, sig_arr, change[:, :, None], exp.tariff_base, exp.tariff_new,
                                    countries=exp.countries, sectors=exp.sectors,
                                    tariff_revenue=m.tariff_revenue, tol=m.tolerance, source=src)
    else:
        if isinstance(m.sigma, dict):
            raise InputError("one sector: model.sigma must be a number")
        res = ge.solve_one_sector(flows, float(m.sigma), change, exp.tariff_base, exp.tariff_new,
                                  countries=exp.countries, tariff_revenue=m.tariff_revenue,
                                  tol=m.tolerance, source=src)
    if m.reference:
        res = res.rebase(m.reference)
    return res


@dataclass
class MonteCarloSummary:
    """Per-country distribution of the real-GDP and welfare changes over coefficient draws."""

    draws: int
    seed: int
    backend: str
    workers: int
    real_gdp: pd.DataFrame  # countries x draws (% change)
    welfare: pd.DataFrame
    coefficient_draws: pd.DataFrame
    seconds: float
    sigma_draws: np.ndarray | None = None  # per draw, when the SPEC gives sigma_range

    def to_frame(self) -> pd.DataFrame:
        g, w = self.real_gdp, self.welfare
        return pd.DataFrame({
            "real_gdp_change_mean": g.mean(axis=1), "real_gdp_change_std": g.std(axis=1, ddof=1),
            "real_gdp_change_p05": g.quantile(0.05, axis=1), "real_gdp_change_p95": g.quantile(0.95, axis=1),
            "welfare_change_mean": w.mean(axis=1), "welfare_change_std": w.std(axis=1, ddof=1),
            "welfare_change_p05": w.quantile(0.05, axis=1), "welfare_change_p95": w.quantile(0.95, axis=1),
        })

    def to_dict(self) -> dict[str, Any]:
        out = {"draws": self.draws, "seed": self.seed, "backend": self.backend, "workers": self.workers,
               "seconds": self.seconds, "countries": self.to_frame().reset_index().to_dict(orient="records")}
        if self.sigma_draws is not None:
            p = np.percentile(self.sigma_draws, [5.0, 50.0, 95.0])
            out["sigma"] = {"p05": float(p[0]), "p50": float(p[1]), "p95": float(p[2])}
        return out


def draw_coefficients(beta: pd.Series, vcov: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` coefficient vectors from N(beta, vcov) (rows = draws), reproducible by ``seed``."""
    rng = np.random.default_rng(seed)
    v = vcov.loc[beta.index, beta.index].to_numpy()
    sample = rng.multivariate_normal(beta.to_numpy(), v, size=draws, method="eigh")
    return pd.DataFrame(sample, columns=beta.index)


def _draw_task(args: tuple[GEExperiment, dict[str, float], float | None]) -> tuple[np.ndarray, np.ndarray]:
    exp, b, sigma = args
    r = _solve(exp, pd.Series(b, dtype=float), sigma)
    return 100 * (r.real_gdp_change - 1), 100 * (r.welfare_change - 1)


def draw_sigma(point: float, low: float, high: float, draws: int, seed: int) -> np.ndarray:
    """``draws`` values of sigma, lognormal around ``point`` with [low, high] at about the 5th-95th percentiles
    (``uncertainty.range_log_sd``), kept above 1 (sigma <= 1 has no CES trade equilibrium); reproducible by seed."""
    from tariffscope.models.uncertainty import range_log_sd

    rng = np.random.default_rng([seed, 2])  # its own stream: the coefficient draws stay as they were
    x = point * np.exp(range_log_sd(point, low, high) * rng.standard_normal(draws))
    return np.maximum(x, 1.0 + 1e-3)


def monte_carlo(exp: GEExperiment, mc: MonteCarloSpec) -> MonteCarloSummary:
    rng_sigma = exp.spec.model.sigma_range
    if exp.vcov is None and rng_sigma is None:
        raise InputError("Monte Carlo needs a covariance (estimate the coefficients or give vcov/std_errors) "
                         "or model.sigma_range")
    t0 = time.perf_counter()
    if exp.vcov is not None:
        sample = draw_coefficients(exp.coefficients, exp.vcov, mc.draws, mc.seed)
    else:  # sigma alone is uncertain: the coefficients stay at their values
        sample = pd.DataFrame([exp.coefficients.to_dict()] * mc.draws, columns=exp.coefficients.index, dtype=float)
    sigmas = None
    if rng_sigma is not None:
        point = exp.spec.model.sigma
        assert not isinstance(point, dict)  # ModelSpec's validator: sigma_range needs one sigma (a number)
        sigmas = draw_sigma(float(point), rng_sigma[0], rng_sigma[1], mc.draws, mc.seed)
    tasks = [(exp, row.to_dict(), None if sigmas is None else float(sigmas[k])) for k, (_, row) in enumerate(sample.iterrows())]
    from tariffscope import parallel

    with parallel.get_executor(mc.backend, mc.workers) as ex:
        out = ex.map(_draw_task, tasks, desc="GE Monte Carlo", progress=False)
        backend, workers = ex.backend, ex.workers
    g = pd.DataFrame(np.column_stack([o[0] for o in out]), index=list(exp.countries))
    w = pd.DataFrame(np.column_stack([o[1] for o in out]), index=list(exp.countries))
    return MonteCarloSummary(mc.draws, mc.seed, backend, workers, g, w, sample, time.perf_counter() - t0, sigmas)


@dataclass
class GERun:
    """The result of ``run_spec``: the solved experiment, its inputs and (optionally) Monte Carlo."""

    name: str
    result: ge.GEResult
    experiment: GEExperiment
    monte_carlo: MonteCarloSummary | None = None

    def to_frame(self) -> pd.DataFrame:
        f = self.result.to_frame()
        if self.monte_carlo is not None:
            f = f.join(self.monte_carlo.to_frame())
        return f

    def pairs_frame(self) -> pd.DataFrame:
        return self.result.pairs_frame()

    def base(self) -> dict[str, Any]:
        """The world the experiment starts from and its base year (every output names them)."""
        spec = self.experiment.spec
        year = spec.data.year
        out: dict[str, Any] = {"data": self.experiment.source, "base_year": year, "base": spec.model.base,
                               "sigma": spec.model.sigma, "sigma_range": spec.model.sigma_range}
        if spec.model.base == "us_2024":
            out["us_row_column"] = "2024 US manufacturing trade by partner (HS 28-97), scaled to the base's US totals"
            out["text"] = f"base year {year} world; US trade with each partner re-weighted to 2024"
        else:
            out["text"] = f"base year {year}" if year is not None else "base year of the data"
        return out

    def to_dict(self) -> dict[str, Any]:
        d = self.result.to_dict()
        d["name"] = self.name
        d["coefficients"] = {k: float(v) for k, v in self.experiment.coefficients.items()}
        d["rates_source"] = self.experiment.spec.rates_source
        d["notes"] = self.experiment.notes
        d["base"] = self.base()
        d["measures"] = MEASURES
        d["not_comparable"] = NOT_COMPARABLE
        if self.monte_carlo is not None:
            d["monte_carlo"] = self.monte_carlo.to_dict()
        return d


def run_spec(spec: GESpec | str | Path, *, base_dir: Path | None = None, monte_carlo_draws: int | None = None,
             workers: int | None = None, backend: str | None = None, data: pd.DataFrame | None = None) -> GERun:
    """Prepare and solve a SPEC (and its Monte Carlo when the SPEC or ``monte_carlo_draws`` asks)."""
    if not isinstance(spec, GESpec):
        spec, base_dir = load_spec(resolve_experiment(spec))
    exp = prepare_experiment(spec, base_dir, data=data)
    res = _solve(exp, exp.coefficients)
    mc_spec = spec.monte_carlo
    if monte_carlo_draws:
        mc_spec = (mc_spec or MonteCarloSpec()).model_copy(update={"draws": monte_carlo_draws})
    if mc_spec is not None:
        upd = {k: v for k, v in {"workers": workers, "backend": backend}.items() if v is not None}
        mc_spec = mc_spec.model_copy(update=upd)
    mc = monte_carlo(exp, mc_spec) if mc_spec is not None else None
    return GERun(spec.name, res, exp, mc)


# --- shipped experiments by name ------------------------------------------------------------------

#: Short names used by front ends (web app, brief) for the shipped SPECs (package data, ``GE_DATA_DIR``).
EXPERIMENT_ALIASES = {"us-japan-2025": "us_tariffs_2025_japan", "us-all-2025": "us_tariffs_2025_all_partners",
                      "us-japan-2025-us2024": "us_tariffs_2025_japan_us2024",
                      "canada-japan-pta": "canada_japan_pta", "trade-without-borders": "trade_without_borders",
                      "nafta-removal": "nafta_removal"}


def experiments_dir() -> Path:
    """The folder of the shipped SPECs and the tables they read (package data, with provenance.json)."""
    return GE_DATA_DIR


def list_experiments() -> dict[str, Path]:
    """Shipped GE SPECs: file stem -> path."""
    return {p.stem: p for p in sorted(experiments_dir().glob("*.yaml"))}


def resolve_experiment(ref: str | Path) -> Path:
    """A SPEC path, a shipped SPEC's file stem (``us_tariffs_2025_japan``), its ``name:`` or an alias
    (``us-japan-2025``)."""
    p = Path(ref)
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a SPEC file: give a SPEC's YAML path or a shipped experiment's name")
    if p.suffix in (".yaml", ".yml") or p.is_file():
        if not p.is_file():
            raise InputError(f"{p}: SPEC file not found")
        return p
    shipped = list_experiments()
    key = str(ref)
    key = EXPERIMENT_ALIASES.get(key, key)
    for cand in (key, key.replace("-", "_")):
        if cand in shipped:
            return shipped[cand]
    for path in shipped.values():
        from tariffscope.ingest.safeyaml import read_yaml_file

        try:
            if (read_yaml_file(path) or {}).get("name") == str(ref):
                return path
        except InputError:
            continue
    names = sorted(set(shipped) | set(EXPERIMENT_ALIASES))
    raise InputError(f"unknown GE experiment {str(ref)!r}; shipped: {', '.join(names)} (or give a SPEC path)")
