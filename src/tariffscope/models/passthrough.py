"""Exporter absorption estimated from realized prices: the share of a duty change borne by the exporter.

With tau = 1 + tariff, the PE model's pass-through equation (``models.pe``) is

    ln(p*_1 / p*_0) = -a * ln(tau_1 / tau_0)          (exporter price, before duty, in dollars)
    ln(p_1 / p_0)   = (1 - a) * ln(tau_1 / tau_0)     (importer price, duty paid)

so each compared pair of months m gives a_m = -dln p*_m / dln tau_m (exporter basis) or
1 - dln p_m / dln tau_m (importer basis). The estimate pools the months by least squares through the
origin, a = sum(x z) / sum(x^2) with x = dln tau and z = the absorbed log change, so months with larger
duty changes weigh more; its standard error comes from the months' residuals (none with one month), and
the range is the smallest and largest monthly a_m. Months whose duty barely changed (|dln tau| below
``min_change``) say nothing about a and are left out (listed). The estimate is bounded to [0, 1] for use
in the model; a raw value outside is kept and explained, since it means prices moved for other reasons too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tariffscope.errors import InputError

__all__ = ["AbsorptionEstimate", "estimate_absorption", "MIN_TARIFF_CHANGE"]

MIN_TARIFF_CHANGE = 0.005  # |ln tau change| below half a percent: no duty change to measure against


@dataclass
class AbsorptionEstimate:
    absorption: float            # bounded to [0, 1]
    raw: float                   # least-squares estimate before bounding
    se: float | None             # standard error from the months' residuals (None with one month)
    low: float                   # smallest monthly estimate
    high: float                  # largest monthly estimate
    months_used: list[str]
    months_dropped: list[str]    # no duty change in them
    monthly: list[float]         # a_m for months_used, in order
    notes: list[str] = field(default_factory=list)


def estimate_absorption(months: list[str], dln_tau: np.ndarray, dln_price: np.ndarray, basis: str,
                        min_change: float = MIN_TARIFF_CHANGE) -> AbsorptionEstimate:
    """Absorption from paired log changes of the tariff factor and the price (basis 'exporter' or 'importer')."""
    if basis not in ("exporter", "importer"):
        raise InputError(f"bad basis {basis!r}: 'exporter' or 'importer'")
    x = np.asarray(dln_tau, dtype=float)
    y = np.asarray(dln_price, dtype=float)
    if x.shape != y.shape or x.shape != (len(months),):
        raise InputError("estimate_absorption: months, tariff and price changes must have one value per month")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise InputError("estimate_absorption: tariff and price changes must be finite")
    keep = np.abs(x) >= min_change
    used = [m for m, k in zip(months, keep, strict=True) if k]
    dropped = [m for m, k in zip(months, keep, strict=True) if not k]
    if not used:
        raise InputError(f"the duty did not change in any compared month ({months[0]}..{months[-1]}): "
                         "nothing to calibrate from; choose months after a tariff change")
    x, y = x[keep], y[keep]
    z = -y if basis == "exporter" else x - y  # the part of the duty change absorbed, in logs
    sxx = float(x @ x)
    raw = float(x @ z) / sxx
    monthly = (z / x).tolist()
    n = len(x)
    se = math.sqrt(float(((z - raw * x) ** 2).sum()) / ((n - 1) * sxx)) if n > 1 else None
    a = min(1.0, max(0.0, raw))
    notes = []
    if raw > 1.0:
        notes.append(f"the raw estimate {raw:.3f} is above 1: the exporter's price fell by more than the duty rose, so "
                     "other forces (exchange rate, demand, model mix) moved it too; bounded to 1")
    elif raw < 0.0:
        notes.append(f"the raw estimate {raw:.3f} is below 0: the exporter's price rose with the duty, so other forces "
                     "moved it too; bounded to 0 (full pass-through)")
    if n == 1:
        notes.append("one month: no standard error (the range is that month's estimate)")
    if dropped:
        notes.append(f"left out {len(dropped)} month(s) without a duty change: {', '.join(dropped)}")
    return AbsorptionEstimate(a, raw, se, float(min(monthly)), float(max(monthly)), used, dropped, monthly, notes)
