"""Monte Carlo over trade elasticities: percentile bands on headline outcomes, parallel and reproducible.

Distributions (per product, independent across products and between sigma and eta):

* ``x = point · exp(s · Z)``, Z ~ N(0, 1) — lognormal with median at the point estimate, so draws stay
  positive. ``s`` is the delta-method log standard error ``se / point`` where the source reports a
  standard error (Hauk), else ``DEFAULT_LOG_SD`` (0.25, about ±50% at the 5th-95th percentiles) for
  Broda-Weinstein estimates, medians and fallbacks, which come without one. ``s`` is capped at
  ``MAX_LOG_SD`` (1.0).
* Draws are clipped to the same bounds as the point estimates (``elasticities.SIGMA_BOUNDS`` /
  ``ETA_BOUNDS``); overridden elasticities (scenario ``model.sigma`` / ``model.eta``) are held fixed.

Reproducibility: draw ``i`` uses the ``i``-th child of ``SeedSequence(seed)`` (``parallel.spawn_seeds``)
and nothing else, so the same seed gives the same bands on any backend and any number of workers.
Bands are the 5th, 50th and 95th percentiles (numpy's default linear interpolation) of the draws.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tariffscope.models.elasticities import ETA_BOUNDS, SIGMA_BOUNDS

__all__ = ["DEFAULT_LOG_SD", "MAX_LOG_SD", "log_sd", "draw", "Bands", "bands", "run_draws", "PERCENTILES"]

DEFAULT_LOG_SD = 0.25
MAX_LOG_SD = 1.0
PERCENTILES = (5.0, 50.0, 95.0)


def log_sd(point: np.ndarray, se: np.ndarray, fixed: np.ndarray | None = None) -> np.ndarray:
    """Log standard deviation per product: se/point where se is known, DEFAULT_LOG_SD otherwise, 0 if fixed."""
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(np.isfinite(se) & (se > 0) & (point > 0), se / point, DEFAULT_LOG_SD)
    s = np.minimum(s, MAX_LOG_SD)
    if fixed is not None:
        s = np.where(fixed, 0.0, s)
    return s


def draw(rng: np.random.Generator, sigma: np.ndarray, sigma_sd: np.ndarray, eta: np.ndarray,
         eta_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One draw of (sigma, eta) per product."""
    z = rng.standard_normal((2, sigma.shape[0]))
    s = np.clip(sigma * np.exp(sigma_sd * z[0]), *SIGMA_BOUNDS)
    e = np.clip(eta * np.exp(eta_sd * z[1]), *ETA_BOUNDS)
    return s, e


@dataclass(frozen=True)
class Bands:
    p5: float
    p50: float
    p95: float

    def to_dict(self) -> dict[str, float | None]:
        return {"p05": _num(self.p5), "p50": _num(self.p50), "p95": _num(self.p95)}


def _num(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def bands(samples: np.ndarray) -> list[Bands]:
    """Percentile bands per column of a (draws x metrics) array (NaN columns give NaN bands)."""
    samples = np.asarray(samples, dtype=float)
    out = []
    for j in range(samples.shape[1]):
        col = samples[:, j]
        col = col[np.isfinite(col)]
        if col.size == 0:
            out.append(Bands(np.nan, np.nan, np.nan))
        else:
            p = np.percentile(col, PERCENTILES)
            out.append(Bands(float(p[0]), float(p[1]), float(p[2])))
    return out


def run_draws(task: Callable[[tuple[int, Any]], np.ndarray], draws: int, seed: int, *, backend: str = "process",
              workers: int | None = None, desc: str = "Monte Carlo draws", progress: bool = True) -> np.ndarray:
    """Run ``task((i, child_seed_i))`` for i < draws through ``tariffscope.parallel``; stack the results.

    ``task`` must be picklable (a module-level function or a functools.partial of one).
    """
    from tariffscope.parallel import get_executor, spawn_seeds

    if draws <= 0:
        return np.empty((0, 0))
    seeds = spawn_seeds(seed, draws)
    items: Sequence[tuple[int, Any]] = list(enumerate(seeds))
    if backend == "serial" or (workers == 1 and backend == "process"):
        backend = "serial"
    with get_executor(backend, workers=workers) as ex:
        res = ex.map(task, items, desc=desc, progress=progress)
    return np.vstack([np.asarray(r, dtype=float) for r in res])


# --- draws for the backtest: literature ranges by horizon and pass-through ranges ----------------
# A literature value comes with a range [low, high] (horizon.yaml): it is read as the 5th-95th percentile
# of a lognormal around the point value, so a draw is point * exp(s * Z) with s from the wider side.

_Z95 = 1.6448536269514722


def range_log_sd(point: float, low: float, high: float) -> float:
    """Log standard deviation that puts [low, high] at about the 5th-95th percentiles around ``point``."""
    if not 0 < low <= point <= high:
        raise ValueError(f"need 0 < low <= point <= high, got {low}, {point}, {high}")
    return max(np.log(point / low), np.log(high / point)) / _Z95


def draw_scalar(rng: np.random.Generator, point: float, low: float, high: float) -> float:
    """One lognormal draw of a literature elasticity, clipped to [low/2, 2*high] (no implausible tails)."""
    x = point * np.exp(range_log_sd(point, low, high) * rng.standard_normal())
    return float(np.clip(x, low / 2.0, 2.0 * high))


def draw_absorption(rng: np.random.Generator, row: np.ndarray, low: np.ndarray, high: np.ndarray,
                    point: np.ndarray) -> np.ndarray:
    """Exporter absorption per line: one draw per evidence row (``row``), shared by its lines, with its median
    at the point value: half the draws uniform in [low, point], half uniform in [point, high].

    Shared because a row states one market's behaviour (e.g. Japanese carmakers' pricing), not independent
    line-level noise; lines with low == high keep their value. The median sits at the point because a plain
    uniform draw over [low, high] centres the draws on the middle of the range: for the default row (0, range
    0-0.2) every draw absorbed at least the point value, so the price bands lay at or beyond the point estimate.
    """
    n_rows = int(row.max()) + 1 if row.size else 0
    u = rng.random(max(n_rows, 1))[np.maximum(row, 0)]
    lower = low + (point - low) * (2.0 * u)
    upper = point + (high - point) * (2.0 * u - 1.0)
    return np.where(u < 0.5, lower, upper)
