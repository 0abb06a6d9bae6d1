"""Importer-wide partial equilibrium (PE) of a tariff change, in the spirit of WITS-SMART.

One market per product g (an HS10 or HS6 line); each origin i supplies a variety. In changes
("hat algebra", x̂ = new / base) with base values V_gi (customs value, pre-tariff) and ad valorem
rates t0 -> t1 (tau-hat = (1 + t1) / (1 + t0)):

* Armington CES demand between origins with substitution elasticity sigma_g, and a
  constant-elasticity demand for the product's import composite with elasticity eta_g:
  x̂_gi = p̂_gi^(-sigma) · P̂_g^(sigma - eta), where P̂_g^(1-sigma) = Σ_i s_gi p̂_gi^(1-sigma)
  and s_gi are base expenditure shares at tariff-inclusive prices.
* Export supply x̂_gi = ŵ_gi^omega_gi, with ŵ the exporter (pre-tariff) price and the importer
  price p̂ = τ̂ ŵ. omega = inf means perfectly elastic supply: full pass-through, ŵ = 1.

With omega finite, ln ŵ_i = (−sigma ln τ̂_i + (sigma − eta) ln P̂) / (omega_i + sigma): every line
of a product depends on one unknown, ln P̂_g. The model solves G(z) = ln P̂(z) − z = 0 for all
products at once with a vectorised Newton iteration (G is strictly decreasing: G' = Σ π_i b_i − 1 < 0
with b_i = (sigma − eta)/(omega_i + sigma) < 1), and raises ModelError if it does not converge.

Pass-through as a parameter: ``absorption`` a_i in [0, 1] per line (the share of the duty change the
exporter absorbs in its price) fixes ŵ_i = τ̂_i^(-a_i) and p̂_i = τ̂_i^(1 - a_i) directly, in place of the
export supply curve (a reduced form for what the 2018-19 and 2025 pass-through studies measure). Lines
with an absorption are solved like omega = inf lines (b_i = 0); NaN means "use omega" for that line.

Downstream (retail) pass-through: ``retail`` r_i in [0, 1] per line is the share of the change in the landed,
duty-paid price p̂ that reaches the buyers' price q̂ = p̂^r, the price that drives substitution between origins
and demand (the CES system above runs on q̂); the rest, p̂/q̂, is absorbed in the importer's/dealer's margin
(``importer_margin``). Customs value stays ŵ x̂ and duty revenue is on customs value. r = 1 (the default)
is the model without a distribution stage; r = 0 leaves volumes untouched by prices. With a finite omega,
ln ŵ = (−sigma r ln τ̂ + (sigma − eta) ln P̂_q) / (omega + sigma r), which is the formula above at r = 1.

Derived outcomes per line: import value and volume, importer and exporter prices, tariff revenue
(rate x new customs value), the split of the value change into trade diversion (the substitution
between origins at a constant composite quantity) and trade creation (the rest), the change in
deadweight loss (Harberger: −Σ (t0 + Δt/2)·ΔQ at base world prices, so a rise in imports from an
origin that pays a tariff lowers it) and the part of the tariff that exporters absorb. Everything is
vectorised numpy over all lines; no Python loops over products.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tariffscope.errors import InputError, ModelError

__all__ = ["PELines", "solve_pe", "aggregate", "LINE_FIELDS", "OMEGA_INFINITE", "absorbed_ratios", "absorbed_setup",
           "absorbed_solve", "AbsorbedSetup", "weighted_setup", "line_groups", "first_lines"]

OMEGA_INFINITE = np.inf

# Additive quantities (can be summed over lines); prices are ratios and are aggregated with weights.
ADDITIVE = (
    "value_base", "value_new", "value_change", "volume_base", "volume_new", "volume_change",
    "revenue_base", "revenue_new", "revenue_change", "trade_diversion", "trade_creation",
    "dwl_change", "exporter_absorption", "expenditure_base", "expenditure_new",
)
LINE_FIELDS = ADDITIVE + ("importer_price", "exporter_price", "price_index", "base_rate", "new_rate")


@dataclass(frozen=True)
class PELines:
    """Per-line results of one PE solve (all arrays have one entry per input line).

    Values are in the currency of the input values (customs value, pre-tariff). Volumes are
    "base-price values": the base value times the quantity ratio x̂. Prices are ratios new/base.
    """

    product: np.ndarray          # product index (0..n_products-1) of each line
    base_rate: np.ndarray
    new_rate: np.ndarray
    value_base: np.ndarray       # customs value before
    value_new: np.ndarray        # customs value after = value_base · ŵ · x̂
    volume_base: np.ndarray      # = value_base
    volume_new: np.ndarray       # = value_base · x̂
    importer_price: np.ndarray   # p̂ (tariff-inclusive)
    exporter_price: np.ndarray   # ŵ (pre-tariff)
    price_index: np.ndarray      # P̂ of the line's product
    revenue_base: np.ndarray     # t0 · value_base
    revenue_new: np.ndarray      # t1 · value_new
    trade_diversion: np.ndarray  # value change from substitution at constant composite quantity
    trade_creation: np.ndarray   # value_change − trade_diversion
    dwl_change: np.ndarray       # change in deadweight loss (positive = welfare cost)
    exporter_absorption: np.ndarray  # value_base · x̂ · (1 − ŵ): tariff borne by exporters
    iterations: int = 0
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # labels (hts10, origin, ...) carried along
    # Downstream pass-through (None when the solve had no ``retail`` argument: the buyer pays the landed price).
    buyer_price: np.ndarray | None = None      # q̂ = p̂^r, the price buyers see (drives substitution and demand)
    importer_margin: np.ndarray | None = None  # value_base · x̂ · (1 + t0) · (p̂ − q̂): landed-cost change kept off the buyer price

    @property
    def value_change(self) -> np.ndarray:
        return self.value_new - self.value_base

    @property
    def volume_change(self) -> np.ndarray:
        return self.volume_new - self.volume_base

    @property
    def revenue_change(self) -> np.ndarray:
        return self.revenue_new - self.revenue_base

    @property
    def expenditure_base(self) -> np.ndarray:
        return self.value_base * (1.0 + self.base_rate)

    @property
    def expenditure_new(self) -> np.ndarray:
        return self.value_new * (1.0 + self.new_rate)

    def __len__(self) -> int:
        return int(self.value_base.shape[0])

    def column(self, name: str) -> np.ndarray:
        if name in self.extra:
            return self.extra[name]
        return np.asarray(getattr(self, name))

    def to_frame(self):  # -> pandas.DataFrame
        import pandas as pd

        data = {k: v for k, v in self.extra.items()}
        for name in LINE_FIELDS:
            data[name] = self.column(name)
        return pd.DataFrame(data)

    def totals(self) -> dict[str, float]:
        """Sums of the additive outcomes over all lines, plus the importer price index change."""
        out = {k: float(np.sum(self.column(k))) for k in ADDITIVE}
        out["importer_price_index"] = price_index_change(self)
        return out


def price_index_change(res: PELines, mask: np.ndarray | None = None) -> float:
    """Change in the importer price index (fraction): base-expenditure-weighted mean of ln p̂, exp'd.

    A Törnqvist-style index over lines (weights = base tariff-inclusive expenditure), i.e. the
    first-order change in the cost of the base import basket.
    """
    w = res.expenditure_base
    lp = np.log(res.importer_price)
    if mask is not None:
        w, lp = w[mask], lp[mask]
    tot = w.sum()
    if tot <= 0:
        return 0.0
    return float(np.expm1((w * lp).sum() / tot))


def _as_line_array(x: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(f"{name}: expected {n} values, got shape {arr.shape}")
    return arr


def _product_index(product: Any) -> tuple[np.ndarray, int]:
    arr = np.asarray(product)
    if arr.dtype.kind in "iu" and arr.size and arr.min() >= 0 and arr.max() < 4 * arr.size + 1:
        idx = arr.astype(np.int64)
        return idx, int(idx.max()) + 1 if idx.size else 0
    _, inv = np.unique(arr, return_inverse=True)
    return inv.astype(np.int64), int(inv.max()) + 1 if inv.size else 0


def solve_pe(
    product: Sequence[Any] | np.ndarray,
    value: Any,
    base_rate: Any,
    new_rate: Any,
    sigma: Any,
    eta: Any,
    omega: Any = OMEGA_INFINITE,
    *,
    tol: float = 1e-13,
    max_iter: int = 100,
    extra: dict[str, np.ndarray] | None = None,
    check: bool = True,
    absorption: Any = None,
    retail: Any = None,
) -> PELines:
    """Solve the PE model for every line at once (``check=False`` skips input validation: Monte Carlo).

    product: the product each line belongs to (codes or integer ids); value: base customs value;
    base_rate/new_rate: ad valorem rates (fractions); sigma, eta: per line (must be constant within a
    product) or scalars; omega: export supply elasticity per line or scalar (inf = full pass-through).
    absorption: None (default: omega decides) or per line/scalar share in [0, 1] of the duty change
    absorbed by the exporter's price (NaN on a line: omega decides there).
    retail: None (default: buyers pay the landed price, r = 1) or per line/scalar downstream pass-through
    r in [0, 1]: the share of the landed, duty-paid price change that reaches buyers (see the module text).
    """
    pidx, n_prod = _product_index(product)
    n = pidx.shape[0]
    v = _as_line_array(value, n, "value")
    t0 = _as_line_array(base_rate, n, "base_rate")
    t1 = _as_line_array(new_rate, n, "new_rate")
    sig = _as_line_array(sigma, n, "sigma")
    et = _as_line_array(eta, n, "eta")
    om = _as_line_array(omega, n, "omega")
    for name, arr, lo in (("value", v, 0.0), ("sigma", sig, 0.0), ("eta", et, 0.0), ("omega", om, 0.0)):
        if check and arr.size and (np.isnan(arr).any() or (arr < lo).any()):
            raise InputError(f"{name}: values must be >= {lo} and not NaN")
    if check and n and ((t0 <= -1).any() or (t1 <= -1).any() or np.isnan(t0).any() or np.isnan(t1).any()):
        raise InputError("rates must be > -1 and not NaN")
    if check and n and (sig <= 0).any():
        raise InputError("sigma must be > 0")
    ab = None
    if absorption is not None:
        ab = _as_line_array(absorption, n, "absorption")
        if check and n and ((ab[~np.isnan(ab)] < 0).any() or (ab[~np.isnan(ab)] > 1).any()):
            raise InputError("absorption: shares must be in [0, 1] (NaN: use omega)")
    rr = None
    if retail is not None:
        rr = _as_line_array(retail, n, "retail")
        if check and n and (np.isnan(rr).any() or (rr < 0).any() or (rr > 1).any()):
            raise InputError("retail pass-through: shares must be in [0, 1] and not NaN")

    # Product-level sigma/eta (first line of each product) and a check they are constant within it.
    first = np.full(n_prod, -1, dtype=np.int64)
    first[pidx[::-1]] = np.arange(n)[::-1]
    sig_g = sig[first] if n else sig
    eta_g = et[first] if n else et
    if check and n and (not np.allclose(sig_g[pidx], sig) or not np.allclose(eta_g[pidx], et)):
        raise InputError("sigma and eta must be constant within a product")

    ltau = np.log1p(t1) - np.log1p(t0)
    expend = v * (1.0 + t0)
    exp_g = np.bincount(pidx, weights=expend, minlength=n_prod)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(exp_g[pidx] > 0, expend / exp_g[pidx], 0.0)
    s1 = 1.0 - sig  # per line, constant within product
    near_one = np.abs(s1) < 1e-9  # Cobb-Douglas limit: ln P̂ = Σ s ln p̂

    finite = np.isfinite(om)
    # ln p̂_i = a_i + b_i z with z = ln P̂ (a = ln τ̂, b = 0 when omega = inf). With a retail pass-through r the
    # composite is over buyer prices, ln q̂ = r ln p̂, and the supply curve meets demand at omega + sigma r;
    # r = 1 (no ``retail``) multiplies by exactly 1.0, so today's numbers come out bit for bit.
    r_line = rr if rr is not None else np.ones(n)
    om_f = np.where(finite, om, 0.0)
    denom = np.where(finite, om_f + sig * r_line, 1.0)
    # omega = 0 and r = 0: neither side responds to prices, so nothing moves the exporter price (kept at ŵ = 1)
    stuck = finite & (denom == 0.0)
    denom = np.where(stuck, 1.0, denom)
    a = np.where(finite, np.where(stuck, ltau, om_f * ltau / denom), ltau)
    b = np.where(finite & ~stuck, (sig - et) / denom, 0.0)
    if ab is not None:
        fixed = ~np.isnan(ab)
        # exogenous exporter price: ln ŵ = -a ln τ̂, so ln p̂ = (1 - a) ln τ̂ whatever the composite does
        a = np.where(fixed, (1.0 - np.where(fixed, ab, 0.0)) * ltau, a)
        b = np.where(fixed, 0.0, b)
        finite = finite & ~fixed
    # a, b give the landed price; the CES system runs on the buyer price ln q̂ = r (a + b z)
    a_q, b_q = (a, b) if rr is None else (r_line * a, r_line * b)

    cd_g = np.abs(1.0 - sig_g) < 1e-9  # Cobb-Douglas limit: ln P̂ = Σ s ln p̂
    inv_s1_g = np.where(cd_g, 0.0, 1.0 / np.where(cd_g, 1.0, 1.0 - sig_g))

    def log_index(z_line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """ln P̂ implied by z (per product) and the price-share weights π per line."""
        lp = a_q + b_q * z_line
        e = share * np.exp(s1 * lp)
        tot = np.bincount(pidx, weights=e, minlength=n_prod)
        if not np.isfinite(tot).all():
            raise ModelError("PE solve overflowed (tariff changes or elasticities out of range)")
        safe = np.where(tot > 0, tot, 1.0)
        pi = e / safe[pidx]
        ln_p = np.log(safe) * inv_s1_g
        if near_one.any():
            ln_p = np.where(cd_g, np.bincount(pidx, weights=share * lp, minlength=n_prod), ln_p)
            pi = np.where(near_one, share, pi)
        return ln_p, pi

    z = np.zeros(n_prod)
    iterations = 0
    if n:
        if not finite.any():
            z, _ = log_index(np.zeros(n))
            iterations = 1
        else:
            for _ in range(max_iter):
                iterations += 1
                ln_p, pi = log_index(z[pidx])
                g = ln_p - z
                if np.max(np.abs(g)) < tol:
                    break
                dg = np.bincount(pidx, weights=pi * b_q, minlength=n_prod) - 1.0
                z = z - g / dg
            else:
                worst = int(np.argmax(np.abs(g)))
                raise ModelError(
                    f"PE solve did not converge in {max_iter} iterations (product {worst}: residual {g[worst]:.3g})"
                )

    zl = z[pidx]
    ln_p_line = a + b * zl
    ln_q_line = ln_p_line if rr is None else a_q + b_q * zl
    ln_x = -sig * ln_q_line + (sig - et) * zl
    p_hat = np.exp(ln_p_line)
    # Every omega infinite and no absorption: the exporter price is fixed, so ŵ = 1 exactly (not a rounding residue).
    w_hat = np.exp(ln_p_line - ltau) if ab is not None or finite.any() or stuck.any() else np.ones(n)
    x_hat = np.exp(ln_x)
    vol_new = v * x_hat
    val_new = vol_new * w_hat
    # Substitution at a constant composite quantity: x̂ would be (q̂/P̂)^-sigma.
    diversion = v * w_hat * (np.exp(-sig * (ln_q_line - zl)) - 1.0)
    q_hat = margin = None
    if rr is not None:
        q_hat = np.exp(ln_q_line)
        margin = vol_new * (1.0 + t0) * (p_hat - q_hat)
    dvol = vol_new - v
    dwl = -(t0 + 0.5 * (t1 - t0)) * dvol
    return PELines(
        product=pidx,
        base_rate=t0,
        new_rate=t1,
        value_base=v,
        value_new=val_new,
        volume_base=v,
        volume_new=vol_new,
        importer_price=p_hat,
        exporter_price=w_hat,
        price_index=np.exp(zl),
        revenue_base=t0 * v,
        revenue_new=t1 * val_new,
        trade_diversion=diversion,
        trade_creation=(val_new - v) - diversion,
        dwl_change=dwl,
        exporter_absorption=vol_new * (1.0 - w_hat),
        iterations=iterations,
        extra=dict(extra or {}),
        buyer_price=q_hat,
        importer_margin=margin,
    )


def aggregate(res: PELines, by: str | Sequence[str]):  # -> pandas.DataFrame
    """Sum the additive outcomes by one or more label columns (from ``extra``, e.g. 'origin', 'sector').

    Adds the importer and exporter price index changes (base-expenditure weights) and the percent changes
    in value and volume per group, so the split of a value change into price and volume is visible.
    """
    import pandas as pd

    keys = [by] if isinstance(by, str) else list(by)
    frame = pd.DataFrame({k: res.column(k) for k in keys})
    for k in ADDITIVE:
        frame[k] = res.column(k)
    w = res.expenditure_base
    frame["_w"] = w
    frame["_wlp"] = w * np.log(res.importer_price)
    frame["_wlw"] = w * np.log(res.exporter_price)
    g = frame.groupby(keys, sort=True, dropna=False).sum(numeric_only=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        g["importer_price_index"] = np.where(g["_w"] > 0, np.expm1(g["_wlp"] / g["_w"].where(g["_w"] > 0, 1.0)), 0.0)
        g["exporter_price_index"] = np.where(g["_w"] > 0, np.expm1(g["_wlw"] / g["_w"].where(g["_w"] > 0, 1.0)), 0.0)
        g["value_change_pct"] = np.where(g["value_base"] > 0, g["value_change"] / g["value_base"], 0.0)
        g["volume_change_pct"] = np.where(g["volume_base"] > 0, g["volume_change"] / g["volume_base"], 0.0)
    return g.drop(columns=["_w", "_wlp", "_wlw"]).reset_index()


def absorbed_ratios(product: Sequence[Any] | np.ndarray, value: Any, base_rate: np.ndarray, new_rate: np.ndarray,
                    sigma: Any, eta: Any, absorption: Any, *, log_index: bool = False,
                    retail: Any = None) -> tuple[np.ndarray, ...]:
    """``solve_pe`` in closed form when every line has an exporter absorption, for k tariff paths at once.

    With ŵ fixed by the absorption there is no export supply curve to solve: ln p̂ = (1 - a) ln τ̂, P̂ follows
    from the CES index and x̂ = p̂^(-sigma) P̂^(sigma - eta). ``base_rate``/``new_rate`` have shape (k, n) (one
    row per path, e.g. per month); returns (value ratio, volume ratio, importer price ratio), each (k, n),
    equal to ``solve_pe(...).value_new / value`` etc. row by row (tested). No input checks: Monte Carlo use.
    ``log_index=True`` adds a fourth array, ln P̂ of each line's product (k, n), which trade diversion needs.
    ``retail``: downstream pass-through r per line (None: 1); the index and volumes run on ln q̂ = r ln p̂, the
    importer price returned is still the landed p̂.
    """
    return absorbed_solve(absorbed_setup(product, value, base_rate, new_rate), sigma, eta, absorption,
                          log_index=log_index, retail=retail)


@dataclass
class AbsorbedSetup:
    """The parts of ``absorbed_ratios`` that do not depend on the elasticities or the absorption: a Monte Carlo
    computes them once (``absorbed_setup``) and solves each draw with ``absorbed_solve``."""

    pidx: np.ndarray    # product index per line (n,)
    n_prod: int
    k: int
    n: int
    first: np.ndarray   # first line of each product (n_prod,)
    ltau: np.ndarray    # ln tau-hat, (k, n)
    share: np.ndarray   # each line's share of its product's tariff-inclusive base expenditure, (k, n)


def absorbed_setup(product: Sequence[Any] | np.ndarray, value: Any, base_rate: np.ndarray,
                   new_rate: np.ndarray) -> AbsorbedSetup:
    """The draw-independent part of ``absorbed_ratios`` (same arguments, without the parameters)."""
    t0, t1 = np.atleast_2d(np.asarray(base_rate, dtype=np.float64)), np.atleast_2d(np.asarray(new_rate, dtype=np.float64))
    v = _as_line_array(value, t1.shape[1], "value")
    return weighted_setup(product, v * (1.0 + t0), np.log1p(t1) - np.log1p(t0))


def weighted_setup(product: Sequence[Any] | np.ndarray, expend: np.ndarray, ltau: np.ndarray) -> AbsorbedSetup:
    """``absorbed_setup`` from each line's tariff-inclusive base expenditure (n,) or (k, n) and its log tariff
    changes (k, n) directly: the lines may be merged lines whose expenditures are sums (``outcomes.precompute``)."""
    pidx, n_prod = _product_index(product)
    ltau = np.atleast_2d(ltau)
    k, n = ltau.shape
    first = np.full(n_prod, -1, dtype=np.int64)
    first[pidx[::-1]] = np.arange(n)[::-1]
    flat = (np.arange(k)[:, None] * n_prod + pidx[None, :]).ravel()
    exp_g = np.bincount(flat, weights=np.broadcast_to(expend, (k, n)).ravel(), minlength=k * n_prod).reshape(k, n_prod)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(exp_g[:, pidx] > 0, expend / exp_g[:, pidx], 0.0)
    return AbsorbedSetup(pidx, n_prod, k, n, first, ltau, np.broadcast_to(share, (k, n)))


def _bins(st: AbsorbedSetup) -> np.ndarray:
    """The (path, product) bin of each (path, line), raveled: rebuilt per solve (a few ms) rather than held, as
    k x n int64 per setup was tens of MB in the backtest's Monte Carlo."""
    return (np.arange(st.k)[:, None] * st.n_prod + st.pidx[None, :]).ravel() if st.k > 1 else st.pidx


def absorbed_solve(st: AbsorbedSetup, sigma: Any, eta: Any, absorption: Any, *, log_index: bool = False,
                   retail: Any = None, lines: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """``absorbed_ratios`` for one draw of the parameters on a prepared setup (``absorbed_setup``).

    ``lines``: indices of the lines whose ratios are wanted (columns of the results, in that order); every line
    still enters the price indices. None: all lines.
    """
    k, n, n_prod, pidx, ltau, share = st.k, st.n, st.n_prod, st.pidx, st.ltau, st.share
    flat = _bins(st)
    sig, et, ab = (_as_line_array(x, n, name) for x, name in ((sigma, "sigma"), (eta, "eta"), (absorption, "absorption")))
    sig_g = sig[st.first]
    lp = (1.0 - ab) * ltau
    lq = lp if retail is None else _as_line_array(retail, n, "retail") * lp
    cd_g = np.abs(1.0 - sig_g) < 1e-9  # Cobb-Douglas limit, as in solve_pe
    tot = np.bincount(flat, weights=(share * np.exp((1.0 - sig) * lq)).ravel(), minlength=k * n_prod).reshape(k, n_prod)
    ln_p = np.log(np.where(tot > 0, tot, 1.0)) / np.where(cd_g, 1.0, 1.0 - sig_g)
    if cd_g.any():
        cd = np.bincount(flat, weights=(share * lq).ravel(), minlength=k * n_prod).reshape(k, n_prod)
        ln_p = np.where(cd_g, cd, ln_p)
    if lines is not None:  # the same elementwise steps on the chosen lines only
        pidx, sig, et, ab, ltau, lp, lq = pidx[lines], sig[lines], et[lines], ab[lines], ltau[:, lines], lp[:, lines], lq[:, lines]
    zl = ln_p[:, pidx]
    vol = np.exp(-sig * lq + (sig - et) * zl)
    if log_index:
        return vol * np.exp(-ab * ltau), vol, np.exp(lp), zl
    return vol * np.exp(-ab * ltau), vol, np.exp(lp)


def line_groups(columns: list[np.ndarray]) -> np.ndarray:
    """The group of each line: lines equal in every column share one, numbered in order of first appearance (so a
    merged line's weights are summed in the lines' order). Float columns of any width compare by their bits (NaN
    equals NaN), integer and bool columns by value, others (texts) by equality."""
    import pandas as pd  # hash-based factorize: np.unique(axis=0) over the stacked columns was several times slower

    def bits(col: np.ndarray) -> np.ndarray:
        c = np.ascontiguousarray(col)
        if c.dtype.kind == "f":  # a float by its own bits: a cast to int64 truncates float32's 0.25 and 0.75 to 0
            return c.view(f"i{c.dtype.itemsize}").astype(np.int64, copy=False)
        if c.dtype.kind in "biu":
            return c.astype(np.int64, copy=False)
        return pd.factorize(c, use_na_sentinel=False)[0]  # texts and other objects (None and NaN kept apart)

    codes = pd.factorize(bits(columns[0]))[0]
    for col in columns[1:]:
        cc, uniq = pd.factorize(bits(col))
        # both codes below n lines, so the pair fits an int64 as one number
        codes = pd.factorize(codes * len(uniq) + cc)[0]
    return codes.astype(np.int64)


def first_lines(groups: np.ndarray) -> np.ndarray:
    """The first line of each group (``line_groups``), in group order."""
    n_g = int(groups.max()) + 1 if groups.size else 0
    first = np.full(n_g, -1, dtype=np.int64)
    first[groups[::-1]] = np.arange(groups.shape[0])[::-1]
    return first
