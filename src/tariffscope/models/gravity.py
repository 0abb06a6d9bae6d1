"""Structural gravity estimation (PPML with high-dimensional fixed effects) and trade-matrix loading.

Estimation is a thin layer over ``pyfixest.fepois`` (no estimator of our own): we prepare the panel
(square it, report missing domestic flows), run pyfixest with its own separation check, and return a
typed :class:`GravityEstimate` (coefficients, standard errors, covariance, N, what was dropped).
``load_trade_matrix`` turns a long bilateral table (ITPD-E, BACI + production, the Advanced Guide's
data, gegravity's sample) into the square arrays the GE solver takes.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from tariffscope.errors import DataNotFoundError, IngestError, InputError, ModelError

__all__ = [
    "GravityEstimate",
    "PanelReport",
    "TradeMatrix",
    "prepare_panel",
    "estimate_ppml",
    "read_gravity_table",
    "derive_columns",
    "load_trade_matrix",
]


# --- data preparation ---------------------------------------------------------------------------


@dataclass
class PanelReport:
    """What ``prepare_panel`` found and did."""

    countries: int
    years: list[Any]
    rows_in: int
    rows_out: int
    missing_pairs_filled: int
    countries_without_domestic: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def prepare_panel(
    df: pd.DataFrame,
    *,
    exporter: str = "exporter",
    importer: str = "importer",
    year: str | None = "year",
    trade: str = "trade",
    square: bool = True,
) -> tuple[pd.DataFrame, PanelReport]:
    """Square the panel (every exporter x importer x year; missing trade becomes 0, pair covariates
    are carried over from other years of the same pair) and report countries without domestic flows.
    """
    for col in [exporter, importer, trade] + ([year] if year else []):
        if col not in df.columns:
            raise InputError(f"column {col!r} not in the data (columns: {', '.join(map(str, df.columns))})")
    data = df.copy()
    countries = sorted(set(data[exporter]) | set(data[importer]))
    years = sorted(data[year].unique().tolist()) if year else [None]
    filled = 0
    if square:
        keys = [exporter, importer] + ([year] if year else [])
        if data.duplicated(keys).any():
            raise InputError(f"duplicate rows for the same {'/'.join(keys)}")
        idx = pd.MultiIndex.from_product([countries, countries] + ([years] if year else []), names=keys)
        full = data.set_index(keys).reindex(idx)
        filled = int(full[trade].isna().sum())
        full[trade] = full[trade].fillna(0.0)
        full = full.reset_index()
        pair_cols = [c for c in data.columns if c not in keys and c != trade]
        if filled and pair_cols:
            full[pair_cols] = full.groupby([exporter, importer])[pair_cols].transform(lambda s: s.ffill().bfill())
        data = full
    dom = data[data[exporter] == data[importer]]
    has_dom = set(dom.loc[dom[trade] > 0, exporter])
    report = PanelReport(len(countries), years, len(df), len(data), filled,
                         [c for c in countries if c not in has_dom])
    return data, report


# --- estimation ---------------------------------------------------------------------------------


@dataclass
class GravityEstimate:
    """A PPML gravity fit: coefficients, standard errors, covariance (same order), sample facts."""

    formula: str
    coefficients: pd.Series
    std_errors: pd.Series
    vcov: pd.DataFrame
    n_obs: int
    n_dropped_missing: int
    n_dropped_separation: int
    vcov_type: str
    fixed_effects: list[str]
    pseudo_r2: float | None = None
    deviance: float | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)
    fitted: pd.Series | None = field(default=None, repr=False)  # fitted trade, aligned with the input rows

    def to_frame(self) -> pd.DataFrame:
        se = self.std_errors.reindex(self.coefficients.index)
        out = pd.DataFrame({"coefficient": self.coefficients, "std_error": se, "z": self.coefficients / se})
        out.index.name = "term"
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "coefficients": {k: float(v) for k, v in self.coefficients.items()},
            "std_errors": {k: float(v) for k, v in self.std_errors.items()},
            "vcov": self.vcov.to_dict(),
            "n_obs": self.n_obs,
            "dropped": {"missing": self.n_dropped_missing, "separation": self.n_dropped_separation},
            "vcov_type": self.vcov_type,
            "fixed_effects": self.fixed_effects,
            "pseudo_r2": self.pseudo_r2,
            "source": self.source,
            "notes": self.notes,
        }


_INTERACTION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\^\s*([A-Za-z_][A-Za-z0-9_]*)")


def _materialise_interactions(df: pd.DataFrame, fe_part: str) -> tuple[pd.DataFrame, str, list[str]]:
    """``exporter^year`` -> a string column ``exporter_x_year`` (explicit, pyfixest-version proof)."""
    names: list[str] = []
    data = df

    def repl(m: re.Match[str]) -> str:
        nonlocal data
        a, b = m.group(1), m.group(2)
        for c in (a, b):
            if c not in data.columns:
                raise InputError(f"fixed-effect variable {c!r} not in the data")
        name = f"{a}_x_{b}"
        if name not in data.columns:
            if data is df:
                data = df.copy()
            data[name] = data[a].astype(str) + "|" + data[b].astype(str)
        names.append(name)
        return name

    new = _INTERACTION.sub(repl, fe_part)
    for tok in re.split(r"\s*\+\s*", new.strip()):
        if tok and tok not in names and tok != "0":
            names.append(tok)
    return data, new, names


def estimate_ppml(
    df: pd.DataFrame,
    formula: str,
    fixef: str | list[str] | None = None,
    cluster: str | None = None,
    *,
    vcov: str = "hetero",
    source: str = "",
) -> GravityEstimate:
    """PPML with fixed effects through ``pyfixest.fepois``.

    ``formula`` is fixest-style: ``"trade ~ ln_dist + contig | exporter^year + importer^year"``; the
    fixed effects may instead be given as ``fixef`` (``["exporter^year", "importer^year"]``).
    ``cluster`` names a column for one-way clustered (CRV1) errors (e.g. ``pair_id``); otherwise
    heteroskedasticity-robust errors. Observations separated by the fixed effects (e.g. a country that
    never imports in a year) are dropped by pyfixest's own separation check and counted.
    """
    import pyfixest as pf

    if "~" not in formula:
        raise InputError(f"formula needs 'depvar ~ covariates | fixed effects', got {formula!r}")
    if fixef:
        if "|" in formula:
            raise InputError("give the fixed effects either in the formula (after '|') or as fixef=, not both")
        formula = f"{formula} | {fixef if isinstance(fixef, str) else ' + '.join(fixef)}"
    lhs, rhs = formula.split("~", 1)
    fe_names: list[str] = []
    data = df
    if "|" in rhs:
        covs, fe_part = rhs.split("|", 1)
        data, fe_part, fe_names = _materialise_interactions(df, fe_part)
        fml = f"{lhs.strip()} ~ {covs.strip()} | {fe_part.strip()}"
    else:
        fml = formula
    depvar = lhs.strip()
    if depvar not in data.columns:
        raise InputError(f"dependent variable {depvar!r} not in the data")
    if (data[depvar].dropna() < 0).any():
        raise InputError(f"{depvar} has negative values; PPML needs trade >= 0")
    if cluster is not None and cluster not in data.columns:
        raise InputError(f"cluster variable {cluster!r} not in the data")
    vc: Any = {"CRV1": cluster} if cluster else vcov
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.fepois(fml, data=data, vcov=vc, separation_check=["fe"])
    except Exception as exc:  # pyfixest raises plain exceptions for bad formulas / data
        raise ModelError(f"PPML estimation failed for {formula!r}: {exc}") from exc
    coef = fit.coef().astype(float)
    se = fit.se().astype(float)
    names = list(coef.index)
    v = pd.DataFrame(np.asarray(fit._vcov, dtype=float), index=names, columns=names)
    n_sep = int(getattr(fit, "n_separation_na", 0) or 0)
    n_missing = max(int(len(data) - fit._N - n_sep), 0)
    notes = []
    if n_sep:
        notes.append(f"{n_sep} observations dropped by pyfixest's separation check (fixed effects with only zero trade)")
    if n_missing:
        notes.append(f"{n_missing} observations dropped for missing values or singleton fixed effects")
    fitted = pd.Series(np.nan, index=data.index, name="fitted")
    try:
        pos = np.asarray(fit._data.index, dtype=int)
        fitted.iloc[pos] = np.asarray(fit.predict(type="response"), dtype=float)
    except Exception:  # noqa: BLE001 - fitted values are a convenience, not part of the estimate
        fitted = None
    pr2 = getattr(fit, "_pseudo_r2", None)
    dev = getattr(fit, "deviance", None)
    return GravityEstimate(
        formula=formula, coefficients=coef, std_errors=se, vcov=v, n_obs=int(fit._N),
        n_dropped_missing=n_missing, n_dropped_separation=n_sep,
        vcov_type=f"CRV1 by {cluster}" if cluster else str(vcov), fixed_effects=fe_names,
        pseudo_r2=float(pr2) if pr2 is not None else None,
        deviance=float(np.asarray(dev).ravel()[0]) if dev is not None else None,
        source=source, notes=notes, fitted=fitted,
    )


def derive_columns(df: pd.DataFrame, exprs: dict[str, str]) -> pd.DataFrame:
    """Add columns from expressions over other columns, e.g. ``{"ln_DIST": "log(DIST)"}`` (in place)."""
    for name, expr in exprs.items():
        try:
            df[name] = df.eval(expr.replace("log(", "@np.log("), local_dict={"np": np}, engine="python")
        except Exception as exc:
            raise InputError(f"derive {name}: cannot evaluate {expr!r}: {exc}") from exc
    return df


# --- reading tables -----------------------------------------------------------------------------


def read_gravity_table(path: str | Path) -> pd.DataFrame:
    """Read a bilateral table: Stata ``.dta``, ``.csv``/``.dlm``/``.txt`` (comma), ``.parquet``."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    suffix = p.suffix.lower()
    try:
        if suffix == ".dta":
            return pd.read_stata(p)
        if suffix == ".parquet":
            return pd.read_parquet(p)
        if suffix in {".csv", ".dlm", ".txt", ".gz"}:
            return pd.read_csv(p)
    except Exception as exc:
        raise IngestError(str(p), None, f"cannot read: {exc}") from exc
    raise InputError(f"{p}: unsupported file type {suffix!r} (use .dta, .csv, .dlm or .parquet)")


@dataclass
class TradeMatrix:
    """Square trade arrays for the GE solver, with where they came from."""

    countries: tuple[str, ...]
    flows: np.ndarray  # [exporter, importer] or [exporter, importer, sector]
    sectors: tuple[str, ...] | None
    year: Any
    kind: str
    source: str
    missing_domestic: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        n = len(self.countries)
        c = np.asarray(self.countries, dtype=object)
        if self.flows.ndim == 2:
            i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
            return pd.DataFrame({"exporter": c[i.ravel()], "importer": c[j.ravel()], "trade": self.flows.ravel()})
        k = self.flows.shape[2]
        i3, j3, s3 = np.meshgrid(np.arange(n), np.arange(n), np.arange(k), indexing="ij")
        return pd.DataFrame({"exporter": c[i3.ravel()], "importer": c[j3.ravel()],
                             "sector": np.asarray(self.sectors, dtype=object)[s3.ravel()],
                             "trade": self.flows.ravel()})


# column names by source kind: exporter, importer, year, value, sector (None = one sector)
_KINDS: dict[str, dict[str, str | None]] = {
    "itpde": {"exporter": "exporter_iso3", "importer": "importer_iso3", "year": "year", "trade": "trade",
              "sector": "industry_id"},
    "baci": {"exporter": "exporter", "importer": "importer", "year": "t", "trade": "v", "sector": "sector"},
    "agtpa": {"exporter": "exporter", "importer": "importer", "year": "year", "trade": "trade", "sector": None},
    "gegravity": {"exporter": "exporter", "importer": "importer", "year": "year", "trade": "trade", "sector": None},
}


def load_trade_matrix(
    path: str | Path | pd.DataFrame,
    kind: Literal["itpde", "baci", "agtpa", "gegravity"] = "agtpa",
    *,
    year: Any = None,
    sectors: bool = False,
    production: str | Path | pd.DataFrame | None = None,
) -> TradeMatrix:
    """Load a long bilateral table into a square matrix for the GE solver.

    * ``itpde``: ITPD-E (columns ``exporter_iso3, importer_iso3, year, industry_id, trade``; domestic
      flows are rows with exporter == importer). ``sectors=True`` keeps industries as the third axis.
    * ``baci``: BACI (``t, i, j, k, v`` or already-named ``exporter, importer``); BACI has no domestic
      sales, so ``production`` (a table ``country, year, output`` [, ``sector``]) is required and domestic
      sales are output minus total exports (negative values are an error).
    * ``agtpa``: the Advanced Guide's ``.dta`` files (``exporter, importer, year, trade``).
    * ``gegravity``: gegravity's sample (``exporter, importer, year, trade``).
    """
    if kind not in _KINDS:
        raise InputError(f"unknown kind {kind!r}; use one of {', '.join(_KINDS)}")
    df = path.copy() if isinstance(path, pd.DataFrame) else read_gravity_table(path)
    src = "DataFrame" if isinstance(path, pd.DataFrame) else str(path)
    cols = dict(_KINDS[kind])
    if kind == "baci" and "exporter" not in df.columns and "i" in df.columns:
        df = df.rename(columns={"i": "exporter", "j": "importer", "k": "sector"})
    if kind == "baci" and "t" not in df.columns and "year" in df.columns:
        cols["year"] = "year"
    need = [c for c in (cols["exporter"], cols["importer"], cols["trade"]) if c not in df.columns]
    if need:
        raise IngestError(src, None, f"missing column(s) {', '.join(str(c) for c in need)} for kind {kind!r}")
    ycol = cols["year"] if cols["year"] in df.columns else None
    if ycol is not None:
        years = sorted(df[ycol].dropna().unique().tolist())
        chosen = year if year is not None else years[-1]
        df = df[df[ycol].astype(str).str.replace(r"\.0$", "", regex=True) == str(chosen).replace(".0", "")]
        if df.empty:
            raise DataNotFoundError(f"{src}: no rows for year {year} (years: {years[0]}..{years[-1]})")
    else:
        chosen = year
    scol = cols["sector"] if sectors and cols["sector"] and cols["sector"] in df.columns else None
    if sectors and scol is None:
        raise InputError(f"kind {kind!r} has no sector column in {src}")
    ex, im, tr = cols["exporter"], cols["importer"], cols["trade"]
    df = df[[ex, im, tr] + ([scol] if scol else [])].copy()
    df[ex] = df[ex].astype(str)
    df[im] = df[im].astype(str)
    if df[tr].isna().any() or (df[tr] < 0).any():
        raise IngestError(src, None, f"column {tr} has missing or negative values")

    if kind == "baci":
        if production is None:
            raise InputError("BACI has no domestic sales: pass production= (country, year, output[, sector])")
        prod = production.copy() if isinstance(production, pd.DataFrame) else read_gravity_table(production)
        if "year" in prod.columns and chosen is not None:
            prod = prod[prod["year"].astype(str) == str(chosen)]
        df = df[df[ex] != df[im]]
        keys = [ex] + ([scol] if scol else [])
        exports = df.groupby(keys)[tr].sum()
        pk = ["country"] + ([scol] if scol else [])
        out = prod.set_index(pk)["output"]
        out.index.names = keys
        dom = (out - exports.reindex(out.index).fillna(0.0)).rename(tr).reset_index()
        if (dom[tr] < 0).any():
            bad = dom.loc[dom[tr] < 0, ex].astype(str).unique()[:5]
            raise IngestError(src, None, f"output below exports for {', '.join(bad)} (domestic sales would be negative)")
        dom[im] = dom[ex]
        df = pd.concat([df, dom[df.columns]], ignore_index=True)

    countries = tuple(sorted(set(df[ex]) | set(df[im])))
    pos = {c: i for i, c in enumerate(countries)}
    n = len(countries)
    ii = df[ex].map(pos).to_numpy()
    jj = df[im].map(pos).to_numpy()
    if scol:
        secs = tuple(str(s) for s in sorted(df[scol].astype(str).unique()))
        spos = {s: i for i, s in enumerate(secs)}
        kk = df[scol].astype(str).map(spos).to_numpy()
        flows = np.zeros((n, n, len(secs)))
        np.add.at(flows, (ii, jj, kk), df[tr].to_numpy(dtype=float))
    else:
        secs = None
        flows = np.zeros((n, n))
        np.add.at(flows, (ii, jj), df[tr].to_numpy(dtype=float))
    diag = flows.sum(2).diagonal() if flows.ndim == 3 else flows.diagonal()
    missing = [c for c, v in zip(countries, diag, strict=True) if v <= 0]
    return TradeMatrix(countries, flows, secs, chosen, kind, src, missing)
