"""Default trade elasticities mapped to product lines, with the source used for each line.

The compact table ``tariffscope/data/elasticities/elasticities.csv.gz`` is derived from the raw
Broda-Weinstein and Hauk files by ``scripts/build_elasticities.py`` (provenance.json beside it).

Two parameters per product:

* ``sigma`` — elasticity of substitution between origins (Armington). Chain for source
  ``broda_weinstein`` (the default): Broda-Weinstein US HTS10 1990-2001 estimate of the line →
  median of BW HTS10 estimates in the same HS8 → same HS6 → BW 73-country HS3 estimate for the USA →
  median of the USA HS3 estimates. Source ``hauk``: Hauk's HS6 substitution estimate (sigma > 1,
  significant at 5%) first, then the Broda-Weinstein chain.
* ``eta`` — own-price import demand elasticity of the product. Chain: Hauk HS10 (flagged
  ``positive`` and significant at 5%) → Hauk HS6 (same filter) → median of accepted Hauk HS10 values
  in the HS2 chapter → overall median.

Values are clipped to ``SIGMA_BOUNDS`` / ``ETA_BOUNDS`` (a handful of BW estimates exceed 100, which
would make a 10% tariff wipe out a variety; the clip is recorded in the source label with "clipped").
The upper bound for sigma is 10: BW's vehicle estimates (US HS 870 = 25) would otherwise let a 10%
price advantage move more than half of a product's imports to one origin in a single year, which no
observed episode of 2025 shows; ``assign(..., sigma={prefix: value})`` overrides per HS prefix and a
scenario's ``model: {sigma: ...}`` sets one value for every product.
Standard errors are carried where the source reports them (Hauk), for the Monte Carlo.

Horizon (``horizon.yaml`` beside the table, values with citations): ``assign(..., horizon="long")`` (the
default here, so existing callers are unchanged) uses the per-product chains above; ``horizon="short"``
(one year, the backtest's default) uses the Boehm-Levchenko-Pandalai-Nayar (2023) one-year trade
elasticity for every product: sigma = 1 + trade elasticity, eta = the one-year import-demand value.

Pass-through (``pass_through.yaml``): ``pass_through(origins, codes)`` gives, per line, the share of a duty
change absorbed by the foreign exporter's price, with the Monte Carlo range and the evidence behind it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tariffscope.config import PACKAGE_DIR
from tariffscope.errors import InputError

__all__ = ["ElasticityAssignment", "assign", "SOURCES", "SIGMA_BOUNDS", "ETA_BOUNDS", "table", "provenance",
           "HORIZONS", "check_horizon", "horizon_parameters", "PassThrough", "pass_through", "pass_through_rows"]

DATA_DIR = PACKAGE_DIR / "data" / "elasticities"
SOURCES = ("broda_weinstein", "hauk")
SIGMA_BOUNDS = (1.1, 10.0)
ETA_BOUNDS = (0.1, 8.0)
HORIZONS = ("short", "long")

# (level, source, prefix width) in order of preference.
_SIGMA_CHAIN = {
    "broda_weinstein": [("hs10", "bw_hts10", 10), ("hs8", "bw_hts10_median", 8), ("hs6", "bw_hts10_median", 6),
                        ("hs3", "bw_hs3_usa", 3), ("all", "bw_hs3_usa_median", 0)],
}
_SIGMA_CHAIN["hauk"] = [("hs6", "hauk_subst_hs6", 6)] + _SIGMA_CHAIN["broda_weinstein"]
_ETA_CHAIN = [("hs10", "hauk_hs10", 10), ("hs6", "hauk_hs6", 6), ("hs2", "hauk_hs10_median", 2),
              ("all", "hauk_hs10_median", 0)]


@lru_cache(maxsize=1)
def table():  # -> pandas.DataFrame
    """The derived elasticity table (param, level, code, value, se, n, source)."""
    import pandas as pd

    path = DATA_DIR / "elasticities.csv.gz"
    if not path.exists():
        raise InputError(f"{path} is missing: run scripts/build_elasticities.py")
    return pd.read_csv(path, dtype={"code": str}, keep_default_na=False, na_values={"se": [""], "value": [""]})


def provenance() -> dict[str, Any]:
    return json.loads((DATA_DIR / "provenance.json").read_text())


@dataclass(frozen=True)
class ElasticityAssignment:
    """Per-product elasticities (aligned with ``codes``) and where each came from."""

    codes: np.ndarray
    sigma: np.ndarray
    eta: np.ndarray
    sigma_se: np.ndarray  # NaN where the source gives none
    eta_se: np.ndarray
    sigma_source: np.ndarray
    eta_source: np.ndarray

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({"product": self.codes, "sigma": self.sigma, "sigma_se": self.sigma_se,
                             "sigma_source": self.sigma_source, "eta": self.eta, "eta_se": self.eta_se,
                             "eta_source": self.eta_source})

    def source_counts(self) -> dict[str, dict[str, int]]:
        out = {}
        for name, arr in (("sigma", self.sigma_source), ("eta", self.eta_source)):
            u, c = np.unique(arr, return_counts=True)
            out[name] = {str(k): int(v) for k, v in zip(u, c, strict=True)}
        return out


def _lookup(codes: np.ndarray, param: str, chain: list[tuple[str, str, int]]):
    tab = table()
    tab = tab[tab["param"] == param]
    n = codes.shape[0]
    value = np.full(n, np.nan)
    se = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    for level, src, width in chain:
        todo = np.isnan(value)
        if not todo.any():
            break
        sub = tab[(tab["level"] == level) & (tab["source"] == src)]
        if sub.empty:
            continue
        keys = np.array([c[:width] for c in codes[todo]], dtype=object) if width else np.full(todo.sum(), "", dtype=object)
        idx = {c: i for i, c in enumerate(sub["code"].to_numpy())}
        pos = np.array([idx.get(k, -1) for k in keys], dtype=np.int64)
        hit = pos >= 0
        where = np.flatnonzero(todo)[hit]
        value[where] = sub["value"].to_numpy(dtype=float)[pos[hit]]
        se[where] = sub["se"].to_numpy(dtype=float)[pos[hit]]
        source[where] = f"{src}:{level}"
    return value, se, source


def _apply_override(codes: np.ndarray, value: np.ndarray, source: np.ndarray, se: np.ndarray,
                    spec: float | Mapping[str, float] | None, name: str) -> None:
    if spec is None:
        return
    if isinstance(spec, (int, float)):
        if spec <= 0:
            raise InputError(f"{name} override must be > 0, got {spec}")
        value[:] = float(spec)
        source[:] = "override"
        se[:] = np.nan
        return
    # {HS prefix: value}: the longest matching prefix wins.
    for prefix in sorted(spec, key=len):
        v = float(spec[prefix])
        if v <= 0:
            raise InputError(f"{name} override for {prefix!r} must be > 0, got {v}")
        hit = np.array([c.startswith(str(prefix)) for c in codes], dtype=bool)
        value[hit] = v
        source[hit] = f"override:{prefix}"
        se[hit] = np.nan


def assign(
    codes: Iterable[str],
    source: str = "broda_weinstein",
    *,
    sigma: float | Mapping[str, float] | None = None,
    eta: float | Mapping[str, float] | None = None,
    clip: bool = True,
    horizon: str = "long",
) -> ElasticityAssignment:
    """Elasticities for product codes (HS6..HS10 digits); ``sigma``/``eta`` override (scalar or {prefix: value}).

    ``horizon='long'`` (default): the per-product chains of ``source``; ``'short'``: the one-year literature
    values of ``horizon.yaml`` for every product (``source`` is then not used).
    """
    if source not in SOURCES:
        raise InputError(f"unknown elasticity source {source!r}: choose one of {', '.join(SOURCES)}")
    check_horizon(horizon)
    codes_arr = np.asarray([str(c) for c in codes], dtype=object)
    if horizon == "short":
        n = codes_arr.shape[0]
        par = horizon_parameters("short")
        te, imp = par["trade_elasticity"], par["import_demand"]
        s_val, e_val = np.full(n, 1.0 + float(te["value"])), np.full(n, float(imp["value"]))
        s_se, e_se = np.full(n, np.nan), np.full(n, np.nan)
        s_src = np.full(n, f"{te['source']}:short:1+trade_elasticity", dtype=object)
        e_src = np.full(n, f"{imp['source']}:short:import_demand", dtype=object)
    else:
        s_val, s_se, s_src = _lookup(codes_arr, "sigma", _SIGMA_CHAIN[source])
        e_val, e_se, e_src = _lookup(codes_arr, "eta", _ETA_CHAIN)
    _apply_override(codes_arr, s_val, s_src, s_se, sigma, "sigma")
    _apply_override(codes_arr, e_val, e_src, e_se, eta, "eta")
    if clip:
        for val, src, (lo, hi) in ((s_val, s_src, SIGMA_BOUNDS), (e_val, e_src, ETA_BOUNDS)):
            out = (val < lo) | (val > hi)
            if out.any():
                val[out] = np.clip(val[out], lo, hi)
                src[out] = src[out] + " (clipped)"
    return ElasticityAssignment(codes_arr, s_val, e_val, s_se, e_se, s_src, e_src)


# --- horizon and pass-through parameters (YAML data with citations) ------------------------------

def check_horizon(horizon: str) -> str:
    """``horizon`` if it is one of HORIZONS, else InputError naming the choices."""
    if horizon not in HORIZONS:
        raise InputError(f"unknown horizon {horizon!r}: choose short or long")
    return horizon


@lru_cache(maxsize=1)
def _horizon_file() -> dict[str, Any]:
    from tariffscope.ingest.safeyaml import read_yaml_file

    return read_yaml_file(DATA_DIR / "horizon.yaml")


def horizon_parameters(horizon: str) -> dict[str, dict[str, Any]]:
    """The parameters of one horizon: name -> {what, value, low, high, source, note, citation}."""
    check_horizon(horizon)
    doc = _horizon_file()
    out = {}
    for name, par in doc["horizons"][horizon]["parameters"].items():
        out[name] = {**par, "citation": doc["sources"].get(par["source"], "")}
    return out


def horizon_label(horizon: str) -> str:
    check_horizon(horizon)
    return str(_horizon_file()["horizons"][horizon]["label"])


def cited_range_rows(filename: str, value: str, keys: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    """The rows of a cited share table in data/elasticities/ (``keys``, ``value``, low, high, evidence, ...),
    checked (0 <= low <= value <= high <= 1) and with their citations resolved from the file's sources."""
    from tariffscope.ingest.safeyaml import read_yaml_file

    doc = read_yaml_file(DATA_DIR / filename)
    rows = []
    for r in doc["rows"]:
        v, lo, hi = float(r[value]), float(r["low"]), float(r["high"])
        if not (0.0 <= lo <= v <= hi <= 1.0):
            name = "/".join(str(r[k]) for k in keys)
            raise InputError(f"{filename}: row {name}: need 0 <= low <= {value} <= high <= 1")
        rows.append({**r, **{k: str(r[k]) for k in keys}, value: v, "low": lo, "high": hi,
                     "citations": [doc["sources"][k] for k in r["evidence"]]})
    return tuple(rows)


@lru_cache(maxsize=1)
def pass_through_rows() -> tuple[dict[str, Any], ...]:
    """The rows of ``pass_through.yaml`` (origin, product, absorption, low, high, evidence, note, citations)."""
    return cited_range_rows("pass_through.yaml", "absorption", ("origin", "product"))


@dataclass(frozen=True)
class PassThrough:
    """Exporter absorption per line (share of the duty change borne by the exporter's price) and its range."""

    absorption: np.ndarray
    low: np.ndarray
    high: np.ndarray
    row: np.ndarray  # index into pass_through_rows() of the row each line took


def pass_through(origins: Iterable[str], codes: Iterable[str],
                 override: float | Mapping[str, float] | None = None) -> PassThrough:
    """Absorption per (origin, HS code) line from ``pass_through.yaml``: the most specific row wins
    (origin-specific before '*', then the longest product prefix). ``override``: one share for every line,
    or {"ISO3" or "ISO3:HSprefix": share}, each in [0, 1] (the range collapses to the value)."""
    import pandas as pd

    o = np.asarray([str(x) for x in origins], dtype=object)
    c = np.asarray([str(x) for x in codes], dtype=object)
    if o.shape != c.shape:
        raise InputError("pass_through: origins and codes must have the same length")
    rows = pass_through_rows()
    n = o.shape[0]
    # rows are matched on the distinct origins (~230) and codes (~17k), then spread to the lines (~330k): a
    # prefix test per line in Python took a tenth of a second per call
    o_inv, o_u = pd.factorize(o)
    c_inv, c_u = pd.factorize(c)
    o_pos = {x: i for i, x in enumerate(o_u)}

    def of_origin(iso3: str) -> np.ndarray:
        return o_inv == o_pos.get(iso3, -2)  # -2: an origin no line has (factorize gives -1 to none here)

    def of_prefix(prefix: str) -> np.ndarray:
        return np.array([x.startswith(prefix) for x in c_u], dtype=bool)[c_inv] if n else np.zeros(0, dtype=bool)
    a, lo, hi = np.zeros(n), np.zeros(n), np.zeros(n)
    which = np.full(n, -1, dtype=np.int64)
    # least specific first, so later (more specific) rows overwrite
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["origin"] != "*", len(rows[i]["product"].strip("*"))))
    for i in order:
        r = rows[i]
        hit = np.ones(n, dtype=bool) if r["origin"] == "*" else of_origin(r["origin"])
        prefix = r["product"].strip("*")
        if prefix:
            hit &= of_prefix(prefix)
        a[hit], lo[hit], hi[hit], which[hit] = r["absorption"], r["low"], r["high"], i
    if override is not None:
        items = {"*": override} if isinstance(override, (int, float)) else dict(override)
        for key in sorted(items, key=lambda k: (k != "*", len(k))):
            v = float(items[key])
            if not 0.0 <= v <= 1.0:
                raise InputError(f"absorption for {key!r} must be in [0, 1], got {v}")
            org, _, prefix = str(key).partition(":")
            # a key that names no origin (e.g. "8703" for "*:8703") would otherwise match no line, silently
            if not (org == "*" or (len(org) == 3 and org.isalpha())) or (prefix and not prefix.isdigit()):
                raise InputError(f"absorption key {key!r}: use '*', an ISO3 origin, or ORIGIN:HSprefix (e.g. JPN:8703, *:8703)")
            hit = np.ones(n, dtype=bool) if org == "*" else of_origin(org.upper())
            if prefix:
                hit &= of_prefix(prefix)
            a[hit], lo[hit], hi[hit] = v, v, v
    return PassThrough(a, lo, hi, which)
