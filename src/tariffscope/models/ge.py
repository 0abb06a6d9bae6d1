"""General-equilibrium counterfactuals of the structural gravity model, solved in changes.

The model (Anderson and van Wincoop 2003; Yotov, Piermartini, Monteiro and Larch 2016, ch. 2) is an
endowment economy: each country (country-sector with several sectors) produces one variety whose
factory-gate price ``p`` adjusts; CES demand with elasticity of substitution ``sigma``; bilateral trade
costs enter as ``t_ij^(1-sigma)`` (what a PPML gravity regression estimates as ``exp(x_ij b)``).
Everything here is pure numpy on arrays indexed ``[exporter, importer(, sector)]``; no files, no printing.

Closures:

* ``solve`` (exact hat algebra, the default everywhere): goods markets clear at the counterfactual
  prices, ``p_i Y_i = sum_j X'_ij``; expenditure ``E'_j = Y'_j + D_j + R'_j`` with each country's
  trade imbalance ``D_j`` held fixed in units of world output (the numeraire: world output is
  unchanged), and tariff revenue ``R'_j`` rebated to the importer (switchable). World expenditure net
  of tariff revenue equals world output after every solve (checked, reported as ``adding_up_gap``).
* ``solve_gegravity_convention``: the equations of the USITC ``gegravity`` 0.3 package, reproduced for
  parity and comparison: multilateral resistances solved with *baseline* output and expenditure
  shares, factory-gate prices from ``p_i^(1-sigma) = Pi_i^(1-sigma) / Pi'_i^(1-sigma)`` and the
  expenditure/output ratio ``E_i / Y_i`` held fixed. Its markets do not re-clear at the new output
  values, so it differs from ``solve`` at second order (documented in docs/ge.md).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tariffscope.errors import InputError, ModelError

__all__ = [
    "GEResult",
    "solve",
    "solve_one_sector",
    "solve_multi_sector",
    "solve_gegravity_convention",
    "multilateral_resistances",
    "structural_flows",
]

DEFAULT_TOL = 1e-10
DEFAULT_MAX_ITER = 20_000


# --- results ------------------------------------------------------------------------------------


@dataclass
class GEResult:
    """Baseline and counterfactual of one GE experiment (levels; changes are derived).

    Country arrays have length N; ``flows0``/``flows1`` are producer-price (factory-gate) values
    ``[exporter, importer]`` or ``[exporter, importer, sector]``. ``price_change`` is the factory-gate
    price ratio ``p'/p`` (per country, or per country-sector with several sectors).
    """

    countries: tuple[str, ...]
    sectors: tuple[str, ...] | None
    closure: str
    flows0: np.ndarray
    flows1: np.ndarray
    price_change: np.ndarray
    output0: np.ndarray
    output1: np.ndarray
    expenditure0: np.ndarray
    expenditure1: np.ndarray
    imr_change: np.ndarray  # consumer price index ratio P'/P
    omr_change: np.ndarray | None  # outward multilateral resistance ratio (one sector)
    tariff_revenue0: np.ndarray
    tariff_revenue1: np.ndarray
    diagnostics: dict[str, Any] = field(default_factory=dict)
    imr0: np.ndarray | None = None  # levels where the closure defines them (gegravity convention)
    omr0: np.ndarray | None = None
    imr1: np.ndarray | None = None
    omr1: np.ndarray | None = None
    source: str = ""

    def rebase(self, country: str) -> GEResult:
        """The same equilibrium with nominal values in units of ``country``'s consumer prices
        (``P'/P = 1`` there, the Advanced Guide's convention); real changes are unchanged."""
        if country not in self.countries:
            raise InputError(f"{country!r} is not in the model (countries: {', '.join(self.countries[:10])}...)")
        s = float(self.imr_change[self.countries.index(country)])
        from dataclasses import replace

        return replace(self, flows1=self.flows1 / s, price_change=self.price_change / s,
                       output1=self.output1 / s, expenditure1=self.expenditure1 / s,
                       imr_change=self.imr_change / s, tariff_revenue1=self.tariff_revenue1 / s,
                       diagnostics={**self.diagnostics, "numeraire": f"consumer prices of {country}"})

    # derived country aggregates
    def _agg(self, flows: np.ndarray) -> dict[str, np.ndarray]:
        f = flows if flows.ndim == 2 else flows.sum(axis=2)
        dom = np.diag(f).copy()
        return {"exports": f.sum(1) - dom, "imports": f.sum(0) - dom, "domestic": dom}

    @property
    def real_gdp_change(self) -> np.ndarray:
        """Real GDP ratio ``(Y'/Y) / (P'/P)`` (output deflated by the consumer price index)."""
        return (self.output1 / self.output0) / self.imr_change

    @property
    def welfare_change(self) -> np.ndarray:
        """Real expenditure ratio ``(E'/E) / (P'/P)`` (ACR welfare; equals real GDP when balanced)."""
        return (self.expenditure1 / self.expenditure0) / self.imr_change

    def to_frame(self) -> pd.DataFrame:
        """One row per country: levels and % changes of real GDP, welfare, output, trade, prices."""
        a0, a1 = self._agg(self.flows0), self._agg(self.flows1)
        price = self.price_change
        if price.ndim == 2:  # several sectors: output-weighted factory-gate price index
            y0 = self.flows0.sum(axis=1)
            price = (price * y0).sum(1) / np.where(y0.sum(1) > 0, y0.sum(1), 1.0)
        pct = lambda r: 100.0 * (r - 1.0)  # noqa: E731  (one-line local helpers read better as lambdas)
        ratio = lambda new, old: np.divide(new, old, out=np.full_like(new, np.nan), where=old != 0)  # noqa: E731  (local helper)
        df = pd.DataFrame({
            "country": list(self.countries),
            "real_gdp_change_pct": pct(self.real_gdp_change),
            "welfare_change_pct": pct(self.welfare_change),
            "factory_price_change_pct": pct(price),
            "consumer_price_change_pct": pct(self.imr_change),
            "output_baseline": self.output0,
            "output_change_pct": pct(self.output1 / self.output0),
            "expenditure_baseline": self.expenditure0,
            "expenditure_change_pct": pct(self.expenditure1 / self.expenditure0),
            "exports_baseline": a0["exports"],
            "exports_change_pct": pct(ratio(a1["exports"], a0["exports"])),
            "imports_baseline": a0["imports"],
            "imports_change_pct": pct(ratio(a1["imports"], a0["imports"])),
            "domestic_baseline": a0["domestic"],
            "domestic_change_pct": pct(ratio(a1["domestic"], a0["domestic"])),
            "trade_balance_baseline": a0["exports"] - a0["imports"],
            "trade_balance_counterfactual": a1["exports"] - a1["imports"],
            "tariff_revenue_baseline": self.tariff_revenue0,
            "tariff_revenue_counterfactual": self.tariff_revenue1,
        })
        if self.omr_change is not None:
            df.insert(5, "omr_change_pct", pct(self.omr_change))
        return df.set_index("country")

    def pairs_frame(self) -> pd.DataFrame:
        """One row per (exporter, importer[, sector]): baseline and counterfactual flows, % change,
        and the bilateral balance of the exporter with the importer (exports minus imports)."""
        n = len(self.countries)
        f0 = self.flows0 if self.flows0.ndim == 2 else self.flows0.sum(2)
        f1 = self.flows1 if self.flows1.ndim == 2 else self.flows1.sum(2)
        exp_, imp_ = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        c = np.asarray(self.countries, dtype=object)
        df = pd.DataFrame({
            "exporter": c[exp_.ravel()], "importer": c[imp_.ravel()],
            "flow_baseline": f0.ravel(), "flow_counterfactual": f1.ravel(),
        })
        with np.errstate(divide="ignore", invalid="ignore"):
            df["flow_change_pct"] = 100.0 * (df["flow_counterfactual"] / df["flow_baseline"] - 1.0)
        df["balance_baseline"] = (f0 - f0.T).ravel()
        df["balance_counterfactual"] = (f1 - f1.T).ravel()
        return df

    def sector_pairs_frame(self) -> pd.DataFrame:
        """Long table ``exporter, importer, sector`` of flows (several sectors only)."""
        if self.flows0.ndim != 3 or self.sectors is None:
            raise InputError("sector_pairs_frame needs a multi-sector result")
        n, _, k = self.flows0.shape
        i, j, s = np.meshgrid(np.arange(n), np.arange(n), np.arange(k), indexing="ij")
        c, sec = np.asarray(self.countries, dtype=object), np.asarray(self.sectors, dtype=object)
        df = pd.DataFrame({"exporter": c[i.ravel()], "importer": c[j.ravel()], "sector": sec[s.ravel()],
                           "flow_baseline": self.flows0.ravel(), "flow_counterfactual": self.flows1.ravel()})
        with np.errstate(divide="ignore", invalid="ignore"):
            df["flow_change_pct"] = 100.0 * (df["flow_counterfactual"] / df["flow_baseline"] - 1.0)
        return df

    def to_dict(self) -> dict[str, Any]:
        frame = self.to_frame().reset_index()
        return {
            "closure": self.closure,
            "source": self.source,
            "countries": frame.to_dict(orient="records"),
            "diagnostics": {k: (float(v) if isinstance(v, (np.floating, float)) else v)
                            for k, v in self.diagnostics.items()},
        }


# --- helpers ------------------------------------------------------------------------------------


def _as_float(a: Any, shape: tuple[int, ...], name: str, default: float | None = None) -> np.ndarray:
    if a is None:
        if default is None:
            raise InputError(f"{name} is required")
        return np.full(shape, float(default))
    arr = np.asarray(a, dtype=float)
    if arr.shape != shape:
        try:
            arr = np.broadcast_to(arr, shape).copy()
        except ValueError:
            raise InputError(f"{name} has shape {arr.shape}, expected {shape}") from None
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains missing or infinite values")
    return arr


def _check_flows(flows: Any, countries: Any) -> tuple[np.ndarray, tuple[str, ...]]:
    x = np.asarray(flows, dtype=float)
    if x.ndim not in (2, 3) or x.shape[0] != x.shape[1]:
        raise InputError(f"flows must be a square [exporter, importer(, sector)] array, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or (x < 0).any():
        raise InputError("flows must be finite and non-negative")
    n = x.shape[0]
    names = tuple(str(c) for c in countries) if countries is not None else tuple(f"C{i:03d}" for i in range(n))
    if len(names) != n:
        raise InputError(f"{len(names)} country names for {n} countries")
    return x, names


def _not_converged(what: str, it: int, resid: float, tol: float) -> ModelError:
    return ModelError(
        f"{what} did not converge: max relative excess demand {resid:.3g} after {it} iterations "
        f"(tolerance {tol:g}). Check for countries with zero output or expenditure, extreme shocks "
        f"(cost changes of many orders of magnitude) or a trade elasticity close to zero."
    )


# --- exact hat algebra: one sector ---------------------------------------------------------------


def solve_one_sector(
    flows: Any,
    sigma: float,
    cost_change: Any = None,
    tariff_base: Any = None,
    tariff_new: Any = None,
    *,
    countries: Any = None,
    tariff_revenue: bool = True,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    source: str = "",
) -> GEResult:
    """Counterfactual of the one-sector model in changes (exact hat algebra).

    ``flows[i, j]``: baseline trade from ``i`` to ``j`` at factory-gate value (domestic sales on the
    diagonal); ``cost_change[i, j]``: ratio ``t'^(1-sigma) / t^(1-sigma)`` of non-tariff trade costs
    (``exp(b * dx)`` for a gravity covariate change ``dx``); ``tariff_base``/``tariff_new``: ad valorem
    tariffs as fractions. Tariffs are a separate cost: consumers pay ``(1 + tariff)`` on the
    factory-gate value; with ``tariff_revenue=True`` the revenue is the importer's income, otherwise
    the tariff acts like an iceberg cost and nobody collects it.
    """
    t0 = time.perf_counter()
    x, names = _check_flows(flows, countries)
    if x.ndim != 2:
        raise InputError("solve_one_sector needs a 2-D flows array; use solve_multi_sector for sectors")
    if not sigma > 1:
        raise InputError(f"sigma must be > 1, got {sigma}")
    n = x.shape[0]
    a = _as_float(cost_change, (n, n), "cost_change", 1.0)
    tau0 = _as_float(tariff_base, (n, n), "tariff_base", 0.0)
    tau1 = _as_float(tariff_new, (n, n), "tariff_new") if tariff_new is not None else tau0.copy()
    if (a <= 0).any() or (tau0 <= -1).any() or (tau1 <= -1).any():
        raise InputError("cost changes must be > 0 and tariffs > -1")

    xc = x * (1.0 + tau0) if tariff_revenue else x  # consumer-price value of each flow
    y0 = x.sum(1) if tariff_revenue else xc.sum(1)
    e0 = xc.sum(0)
    r0 = (x * tau0).sum(0) if tariff_revenue else np.zeros(n)
    d = e0 - y0 - r0  # trade imbalance, held fixed (sums to zero)
    share = np.divide(xc, e0, out=np.zeros_like(xc), where=e0 > 0)  # importer's expenditure shares
    shock = a * ((1.0 + tau1) / (1.0 + tau0)) ** (1.0 - sigma)
    w = share * shock
    rate = tau1 / (1.0 + tau1) if tariff_revenue else np.zeros((n, n))
    producers = y0 > 0
    y_world = y0.sum()

    p = np.ones(n)
    resid = np.inf
    for it in range(max_iter + 1):
        num = w * (p ** (1.0 - sigma))[:, None]
        pden = num.sum(0)
        pi1 = np.divide(num, pden, out=np.zeros_like(num), where=pden > 0)
        y1 = p * y0
        e1 = (y1 + d) / (1.0 - (pi1 * rate).sum(0))
        xc1 = pi1 * e1
        demand = (xc1 / (1.0 + tau1)).sum(1) if tariff_revenue else xc1.sum(1)
        z = np.ones(n)
        z[producers] = demand[producers] / y1[producers]
        resid = float(np.max(np.abs(z - 1.0))) if n else 0.0
        if resid < tol:
            break
        if it == max_iter or not np.isfinite(resid):
            raise _not_converged("GE solve (one sector)", it, resid, tol)
        p = p * z ** (1.0 / sigma)
        p *= y_world / (p * y0).sum()  # numeraire: world output

    x1 = xc1 / (1.0 + tau1) if tariff_revenue else xc1
    r1 = (x1 * tau1).sum(0) if tariff_revenue else np.zeros(n)
    p_hat = np.where(pden > 0, pden, 1.0) ** (1.0 / (1.0 - sigma))
    # outward multilateral resistance (market access) change: Pi'^(1-s)/Pi^(1-s)
    sales = np.divide(xc, xc.sum(1, keepdims=True), out=np.zeros_like(xc), where=xc.sum(1, keepdims=True) > 0)
    omr = (sales * shock * (e1 / np.where(e0 > 0, e0, 1.0) / np.where(pden > 0, pden, 1.0))[None, :]).sum(1)
    omr_hat = np.where(omr > 0, omr, 1.0) ** (1.0 / (1.0 - sigma))
    gap = abs((e1 - r1).sum() - y1.sum()) / y1.sum()
    return GEResult(
        countries=names, sectors=None, closure="exact", flows0=x, flows1=x1, price_change=p,
        output0=y0, output1=y1, expenditure0=e0, expenditure1=e1, imr_change=p_hat, omr_change=omr_hat,
        tariff_revenue0=r0, tariff_revenue1=r1, source=source,
        diagnostics={"converged": True, "iterations": it, "max_excess_demand": resid, "tolerance": tol,
                     "adding_up_gap": float(gap), "seconds": time.perf_counter() - t0, "sigma": sigma,
                     "tariff_revenue": tariff_revenue, "numeraire": "world output"},
    )


# --- exact hat algebra: many sectors -------------------------------------------------------------


def solve_multi_sector(
    flows: Any,
    sigma: Any,
    cost_change: Any = None,
    tariff_base: Any = None,
    tariff_new: Any = None,
    *,
    countries: Any = None,
    sectors: Any = None,
    tariff_revenue: bool = True,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    source: str = "",
) -> GEResult:
    """Counterfactual with K sectors: ``flows[i, j, k]``, one ``sigma`` per sector (or one for all).

    Upper tier Cobb-Douglas: each importer spends the baseline share ``alpha_jk`` of its expenditure
    on sector ``k``; lower tier CES across origins with ``sigma_k``. Each country-sector has its own
    factory-gate price; income is the sum over sectors plus tariff revenue plus the fixed imbalance.
    """
    t0 = time.perf_counter()
    x, names = _check_flows(flows, countries)
    if x.ndim != 3:
        raise InputError("solve_multi_sector needs a 3-D flows array [exporter, importer, sector]")
    n, _, k = x.shape
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), (k,)).copy()
    if not (sig > 1).all():
        raise InputError(f"every sigma must be > 1, got {sig}")
    secs = tuple(str(s) for s in sectors) if sectors is not None else tuple(f"S{s:02d}" for s in range(k))
    if len(secs) != k:
        raise InputError(f"{len(secs)} sector names for {k} sectors")
    shape = (n, n, k)
    a = _as_float(cost_change, shape, "cost_change", 1.0)
    tau0 = _as_float(tariff_base, shape, "tariff_base", 0.0)
    tau1 = _as_float(tariff_new, shape, "tariff_new", 0.0) if tariff_new is not None else tau0.copy()
    if (a <= 0).any() or (tau0 <= -1).any() or (tau1 <= -1).any():
        raise InputError("cost changes must be > 0 and tariffs > -1")

    xc = x * (1.0 + tau0) if tariff_revenue else x
    yk0 = x.sum(1) if tariff_revenue else xc.sum(1)  # [i, k]
    ek0 = xc.sum(0)  # [j, k]
    e0 = ek0.sum(1)
    alpha = np.divide(ek0, e0[:, None], out=np.zeros_like(ek0), where=e0[:, None] > 0)
    y0 = yk0.sum(1)
    r0 = (x * tau0).sum((0, 2)) if tariff_revenue else np.zeros(n)
    d = e0 - y0 - r0
    share = np.divide(xc, ek0[None, :, :], out=np.zeros_like(xc), where=ek0[None, :, :] > 0)
    shock = a * ((1.0 + tau1) / (1.0 + tau0)) ** (1.0 - sig)
    w = share * shock
    rate = tau1 / (1.0 + tau1) if tariff_revenue else np.zeros(shape)
    producers = yk0 > 0
    y_world = y0.sum()

    p = np.ones((n, k))
    resid = np.inf
    for it in range(max_iter + 1):
        num = w * (p ** (1.0 - sig))[:, None, :]
        pden = num.sum(0)  # [j, k]
        pi1 = np.divide(num, pden[None], out=np.zeros_like(num), where=pden[None] > 0)
        yk1 = p * yk0
        y1 = yk1.sum(1)
        e1 = (y1 + d) / (1.0 - (alpha * (pi1 * rate).sum(0)).sum(1))
        xc1 = pi1 * (alpha * e1[:, None])[None, :, :]
        demand = (xc1 / (1.0 + tau1)).sum(1) if tariff_revenue else xc1.sum(1)
        z = np.ones((n, k))
        z[producers] = demand[producers] / yk1[producers]
        resid = float(np.max(np.abs(z - 1.0))) if z.size else 0.0
        if resid < tol:
            break
        if it == max_iter or not np.isfinite(resid):
            raise _not_converged("GE solve (multi-sector)", it, resid, tol)
        p = p * z ** (1.0 / sig)
        p *= y_world / (p * yk0).sum()

    x1 = xc1 / (1.0 + tau1) if tariff_revenue else xc1
    r1 = (x1 * tau1).sum((0, 2)) if tariff_revenue else np.zeros(n)
    pk_hat = np.where(pden > 0, pden, 1.0) ** (1.0 / (1.0 - sig))  # [j, k]
    p_hat = np.exp((alpha * np.log(pk_hat)).sum(1))  # Cobb-Douglas consumer price index
    gap = abs((e1 - r1).sum() - y1.sum()) / y1.sum()
    return GEResult(
        countries=names, sectors=secs, closure="exact", flows0=x, flows1=x1, price_change=p,
        output0=y0, output1=y1, expenditure0=e0, expenditure1=e1, imr_change=p_hat, omr_change=None,
        tariff_revenue0=r0, tariff_revenue1=r1, source=source,
        diagnostics={"converged": True, "iterations": it, "max_excess_demand": resid, "tolerance": tol,
                     "adding_up_gap": float(gap), "seconds": time.perf_counter() - t0,
                     "sigma": sig.tolist(), "tariff_revenue": tariff_revenue, "numeraire": "world output"},
    )


def solve(flows: Any, sigma: Any, cost_change: Any = None, tariff_base: Any = None, tariff_new: Any = None,
          **kw: Any) -> GEResult:
    """Dispatch on the shape of ``flows``: 2-D -> one sector, 3-D -> several sectors."""
    if np.ndim(flows) == 3:
        return solve_multi_sector(flows, sigma, cost_change, tariff_base, tariff_new, **kw)
    kw.pop("sectors", None)
    return solve_one_sector(flows, float(np.asarray(sigma).ravel()[0]) if np.ndim(sigma) else float(sigma),
                            cost_change, tariff_base, tariff_new, **kw)


# --- structural baseline from trade costs (gegravity / Yotov et al. calibration) ---------------------


def multilateral_resistances(
    cost: Any, output: Any, expenditure: Any, reference: int, *, tol: float = 1e-13, max_iter: int = 100_000,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Solve ``Pi_i^(1-s) = sum_j t_ij e_j / P_j^(1-s)``, ``P_j^(1-s) = sum_i t_ij y_i / Pi_i^(1-s)``.

    ``cost`` is ``t^(1-sigma)``; ``y``/``e`` are output and expenditure shares of their world totals;
    normalisation ``P_reference = 1``. Returns ``(Pi^(1-s), P^(1-s), iterations)``.
    """
    t = np.asarray(cost, dtype=float)
    y = np.asarray(output, dtype=float)
    e = np.asarray(expenditure, dtype=float)
    y, e = y / y.sum(), e / e.sum()
    b = np.ones(t.shape[0])
    for it in range(max_iter):
        a = t @ (e / b)
        b_new = (y / a) @ t
        b_new /= b_new[reference]
        step = float(np.max(np.abs(b_new / b - 1.0)))
        b = b_new
        if step < tol:
            return t @ (e / b), b, it + 1
        if not np.isfinite(step):
            break
    raise ModelError(f"multilateral resistances did not converge after {max_iter} iterations "
                     "(check that every country has positive output, expenditure and trade costs)")


def structural_flows(cost: Any, output: Any, expenditure: Any, reference: int) -> np.ndarray:
    """Modelled baseline flows ``X_ij = E_j (Y_i / Y) t_ij / (Pi_i^(1-s) P_j^(1-s))`` (gegravity's
    "baseline modeled trade"); columns sum to ``E_j``."""
    omr, imr, _ = multilateral_resistances(cost, output, expenditure, reference)
    y = np.asarray(output, dtype=float)
    e = np.asarray(expenditure, dtype=float)
    return e[None, :] * (y / y.sum())[:, None] * np.asarray(cost, float) / (omr[:, None] * imr[None, :])


def solve_gegravity_convention(
    cost_base: Any,
    cost_new: Any,
    output: Any,
    expenditure: Any,
    sigma: float,
    reference: str,
    *,
    countries: Any,
    source: str = "",
) -> GEResult:
    """The counterfactual as gegravity 0.3 defines it (``OneSectorGE``), for parity and comparison.

    gegravity solves the multilateral resistances with baseline output and expenditure shares both in
    the baseline and the experiment; its full-GE system then gives ``p_i^(1-s) = Pi_i^(1-s)/Pi'_i^(1-s)``,
    output ``Y' = p Y``, expenditure ``E' = (E/Y) Y'`` and flows
    ``X'_ij = E'_j (Y'_i / sum Y') t'_ij / (Pi'_i^(1-s) P'_j^(1-s))``; ``P_reference = 1`` throughout.
    """
    t0 = time.perf_counter()
    names = tuple(str(c) for c in countries)
    if reference not in names:
        raise InputError(f"reference country {reference!r} is not in the data")
    ref = names.index(reference)
    c0 = np.asarray(cost_base, dtype=float)
    c1 = np.asarray(cost_new, dtype=float)
    y0 = np.asarray(output, dtype=float)
    e0 = np.asarray(expenditure, dtype=float)
    a0, b0, it0 = multilateral_resistances(c0, y0, e0, ref)
    a1, b1, it1 = multilateral_resistances(c1, y0, e0, ref)
    inv = 1.0 / (1.0 - sigma)
    p = (a0 / a1) ** inv
    y1 = p * y0
    e1 = (e0 / y0) * y1
    x0 = e0[None, :] * (y0 / y0.sum())[:, None] * c0 / (a0[:, None] * b0[None, :])
    x1 = e1[None, :] * (y1 / y1.sum())[:, None] * c1 / (a1[:, None] * b1[None, :])
    imr0, imr1, omr0, omr1 = b0 ** inv, b1 ** inv, a0 ** inv, a1 ** inv
    zero = np.zeros(len(names))
    return GEResult(
        countries=names, sectors=None, closure="gegravity", flows0=x0, flows1=x1, price_change=p,
        output0=y0, output1=y1, expenditure0=e0, expenditure1=e1, imr_change=imr1 / imr0,
        omr_change=omr1 / omr0, tariff_revenue0=zero, tariff_revenue1=zero,
        imr0=imr0, imr1=imr1, omr0=omr0, omr1=omr1, source=source,
        diagnostics={"converged": True, "iterations": it0 + it1, "seconds": time.perf_counter() - t0,
                     "sigma": sigma, "reference": reference, "tariff_revenue": False,
                     "adding_up_gap": float(abs(e1.sum() - y1.sum()) / y1.sum())},
    )
