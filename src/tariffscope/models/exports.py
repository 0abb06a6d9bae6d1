"""US exports to a partner under a two-sided package: the partner's tariffs on US goods and its purchase
commitments, in partial equilibrium (pure functions on arrays; no files other than the cited elasticity).

Export-demand model, per HS prefix with base exports X0 and the partner's tariff going from t0 to t1:

    X1 = X0 * ((1 + t1) / (1 + t0)) ** (-e)

``e`` is the partner's import-demand elasticity for US goods at the run's horizon
(``data/elasticities/export_demand.yaml``, which points at the trade elasticities of horizon.yaml). US
export supply is perfectly elastic: the partner's buyers bear the whole tariff change.

Purchases: of a commitment worth V a year, only the additional share ``a`` (new trade, not trade that would
have happened anyway) moves US exports. The part that would have happened anyway cannot exceed the base
exports B of its prefixes, so when V > B the additional share is raised to at least (V - B) / V; the
callers report each such case (``purchase_effect`` returns the share actually used).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from tariffscope.models import elasticities as el

__all__ = ["export_elasticity", "export_response", "additional_share", "purchase_effect", "draw_elasticity",
           "additionality_draws"]


@lru_cache(maxsize=1)
def _file() -> dict[str, Any]:
    from tariffscope.ingest.safeyaml import read_yaml_file

    return read_yaml_file(el.DATA_DIR / "export_demand.yaml")


def export_elasticity(horizon: str) -> dict[str, Any]:
    """The export-demand elasticity of ``horizon``: {what, value, low, high, source, citation, note, data}."""
    el.check_horizon(horizon)
    entry = _file()["horizons"][horizon]
    hz, name = str(entry["same_as"]).split(".", 1)
    par = el.horizon_parameters(hz)[name]  # one source for both sides of a package
    return {"what": entry["what"], "value": float(par["value"]), "low": float(par["low"]), "high": float(par["high"]),
            "source": par["source"], "citation": par["citation"], "note": par.get("note", ""),
            "data": f"data/elasticities/export_demand.yaml -> horizon.yaml ({hz}.{name})"}


def export_response(base: np.ndarray | float, t0: np.ndarray | float, t1: np.ndarray | float,
                    elasticity: np.ndarray | float) -> np.ndarray:
    """Change in US exports (same unit as ``base``) when the partner's tariff goes from t0 to t1.

    Broadcasts: ``elasticity`` of shape (draws, 1) against per-prefix arrays gives (draws, prefixes).
    """
    base_a, t0_a, t1_a = (np.asarray(x, dtype=float) for x in (base, t0, t1))
    ratio = (1.0 + t1_a) / (1.0 + t0_a)
    return np.asarray(base_a * np.expm1(-np.asarray(elasticity, dtype=float) * np.log(ratio)))


def additional_share(value: np.ndarray | float, base: np.ndarray | float, share: np.ndarray | float) -> np.ndarray:
    """The additional share used for a commitment ``value`` against its ``base``: at least (value - base) / value,
    as the trade that would have happened anyway cannot exceed the base."""
    v, b, a = (np.asarray(x, dtype=float) for x in (value, base, share))
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(v > 0, np.clip((v - b) / np.where(v > 0, v, 1.0), 0.0, 1.0), 0.0)
    return np.asarray(np.maximum(a, floor))


def purchase_effect(value: np.ndarray | float, base: np.ndarray | float, share: np.ndarray | float) -> np.ndarray:
    """Additional US exports from a commitment worth ``value`` a year: value times the additional share used."""
    return np.asarray(np.asarray(value, dtype=float) * additional_share(value, base, share))


def draw_elasticity(rng: np.random.Generator, draws: int, horizon: str) -> np.ndarray:
    """Monte Carlo draws of the export elasticity, shape (draws, 1): lognormal over its literature range, as
    the US side's short-run elasticities are drawn (``uncertainty.draw_scalar``)."""
    from tariffscope.models import uncertainty as unc

    par = export_elasticity(horizon)
    return np.array([unc.draw_scalar(rng, par["value"], par["low"], par["high"]) for _ in range(draws)]).reshape(draws, 1)


def additionality_draws(u: np.ndarray, point: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Each purchase's additionality per draw, uniform over its stated range from the uniforms ``u`` (draws x
    purchases, shared by the scenarios of one run so that equal commitments draw equally); a purchase
    without a range keeps its point value."""
    lo, hi, pt = (np.asarray(x, dtype=float) for x in (low, high, point))
    a = lo[None, :] + (hi - lo)[None, :] * u[:, : lo.shape[0]]
    return np.where((hi == lo)[None, :], pt[None, :], a)
