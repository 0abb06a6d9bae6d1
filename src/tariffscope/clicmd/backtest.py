"""CLI command ``backtest``: the PE model on the tariff path that applied vs realized US imports.

Parses options, calls ``tariffscope.api.backtest`` and renders a table (headline metrics, calendar-year
totals, the partner's largest cells), JSON (everything, month by month) or CSV (one row per cell and
month); ``--chart PATH`` writes predicted vs realized (PNG or SVG).
"""
from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app
from tariffscope.clicmd._render import csv_text
from tariffscope.errors import InputError

FORMATS = ("table", "json", "csv")
console = Console(width=170)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.1%}"


def _bn(v: float | None) -> str:
    return "n/a" if v is None else f"{v / 1e9:,.2f}"


def _parse_absorption(text: str | None) -> float | dict[str, float] | None:
    """'0.5' (every line) or 'JPN:8703=0.8,KOR=0.2' (origin[:HS prefix]=share)."""
    if not text:
        return None
    try:
        if "=" not in text:
            return float(text)
        out = {}
        for part in text.split(","):
            key, _, val = part.partition("=")
            out[key.strip().upper()] = float(val)
        return out
    except ValueError:
        raise InputError(f"bad --absorption {text!r}: a share (0.5) or ORIGIN[:HS]=share pairs (JPN:8703=0.8)") from None


@app.command("backtest")
def backtest_cmd(
    partner: str = typer.Option("JPN", "--partner", help="Partner (ISO3 or name), comma-separated list, or ALL."),
    start: str = typer.Option("2025-01", "--from", help="First month (YYYY-MM)."),
    end: str = typer.Option("2025-12", "--to", help="Last month (YYYY-MM)."),
    horizon: str = typer.Option("short", "--horizon", help="short (one year, default) | long (per-product long-run elasticities)."),
    reference: str = typer.Option("2025-01-01", "--reference", help="Regime for 2024 months: the rates in force on a date, or 'mfn'."),
    calibrate: str | None = typer.Option(None, "--calibrate", help="Calibration months, comma-separated (default 2025-01,2025-02,2025-03; 'none' for the raw PE)."),
    draws: int = typer.Option(100, "--draws", help="Monte Carlo draws for the bands (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the Monte Carlo draws."),
    absorption: str | None = typer.Option(None, "--absorption", help="Override exporter absorption: 0.5, or JPN:8703=0.8,KOR=0.2."),
    usmca: float | None = typer.Option(None, "--usmca", help="Share of Canada/Mexico imports entered under USMCA (engine option 'usmca'; default: the engine's)."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv."),
    chart: str | None = typer.Option(None, "--chart", help="Write predicted vs realized (.png or .svg)."),
) -> None:
    """Backtest the PE model against realized monthly US imports (by partner, HS2 and HS4 in ch. 84/85/87).

    Example: tariffscope backtest --partner JPN --from 2025-01 --to 2025-12 --format json
    """
    if fmt not in FORMATS:
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    if chart and not chart.lower().endswith((".png", ".svg")):
        raise InputError(f"--chart path must end in .png or .svg, not {chart!r}")
    if usmca is not None and not 0.0 <= usmca <= 1.0:
        raise InputError(f"--usmca must be a share in [0, 1], got {usmca}")
    calib: Any = None
    if calibrate is not None:
        calib = () if calibrate.strip().lower() == "none" else [m.strip() for m in calibrate.split(",") if m.strip()]
    partners: Any = [p.strip() for p in partner.split(",")] if "," in partner else partner
    res = api.backtest(partners, start, end, horizon=horizon, reference=reference, calibration=calib, draws=draws,
                       seed=seed, absorption=_parse_absorption(absorption),
                       options=None if usmca is None else {"usmca": usmca})
    if fmt == "json":
        typer.echo(json.dumps(res.to_dict(), indent=1))
    elif fmt == "csv":
        typer.echo(csv_text(res.to_frame("cells").to_dict("records")), nl=False)
    else:
        _render(res)
    if chart:
        out = save_chart(res, chart)
        console.print(f"chart written: {out}", highlight=False)


def _render(res) -> None:
    m = res.meta()
    console.print(f"PE backtest {res.months[0]}..{res.months[-1]}: horizon {m['horizon']} ({m['horizon_label']}), "
                  f"reference regime {m['reference']}, base year {m['base_year']}", highlight=False, soft_wrap=True)
    console.print(f"  calibration months: {', '.join(res.calibration_months) or 'none (raw PE)'}; "
                  f"scored (held out): {', '.join(res.score_months)}", highlight=False, soft_wrap=True)
    t = Table(title="Calendar-year totals: US imports by partner (bn USD; y/y vs the same months a year earlier)")
    for c in ("partner", "months", "realized yy", "predicted yy", "raw PE yy", "band 5-95%", "in band", "drift"):
        t.add_column(c, justify="left" if c in ("partner", "months") else "right")
    for a in res.annual:
        if a["product"] == "TOTAL":
            band = f"{_pct(a.get('yy_p05'))} .. {_pct(a.get('yy_p95'))}" if "yy_p05" in a else "n/a"
            t.add_row(a["partner"], a["months"], _pct(a["realized_yy"]), _pct(a["predicted_yy"]), _pct(a["raw_pe_yy"]),
                      band, {True: "yes", False: "no"}.get(a.get("realized_in_band"), "n/a"), _pct(a["drift"]))
    console.print(t)
    if len(res.partners) <= 3:
        cells = [a for a in res.annual if a["product"] != "TOTAL"]
        cells.sort(key=lambda a: -a["realized_year_before"])
        t = Table(title="Largest cells (HS2; HS4 in ch. 84/85/87)")
        for c in ("partner", "level", "product", "year", "realized bn", "realized yy", "predicted yy", "band 5-95%"):
            t.add_column(c, justify="left" if c in ("partner", "level", "product", "year") else "right")
        for a in cells[:12]:
            band = f"{_pct(a.get('yy_p05'))} .. {_pct(a.get('yy_p95'))}" if "yy_p05" in a else "n/a"
            t.add_row(a["partner"], a["level"], a["product"], a["year"], _bn(a["realized"]), _pct(a["realized_yy"]),
                      _pct(a["predicted_yy"]), band)
        console.print(t)
    t = Table(title="Error metrics (cell y/y changes; totals over the months scored)")
    for c in ("months", "level", "cell-months", "MAE pp", "MAE pp (value-weighted)", "sign hits", "total error"):
        t.add_column(c, justify="left" if c in ("months", "level") else "right")
    for name in ("held_out", "calibration", "raw_pe_held_out"):
        block = res.metrics.get(name)
        if not block:
            continue
        for lv in ("hs2", "hs4"):
            if lv in block:
                b = block[lv]
                t.add_row(name.replace("_", " "), lv, f"{b['cell_months']:,}", _f1(b["mae_yy_pp"]), _f1(b["mae_yy_pp_weighted"]),
                          "n/a" if b["sign_hit_rate"] is None else f"{b['sign_hit_rate']:.0%}", _pct(b["total_error_pct"]))
    console.print(t)
    duty = res.metrics.get("duty")
    if duty:
        console.print(f"  duty over the held-out months ({', '.join(duty['partners'])}): predicted {_bn(duty['predicted'])} bn "
                      f"(statutory), Census calculated {_bn(duty['realized'])} bn ({_pct(duty['error_pct'])}); "
                      f"{duty['basis']}", highlight=False, soft_wrap=True)
    cov = res.coverage
    if cov.get("draws"):
        console.print(f"  band coverage of held-out outcomes ({cov['draws']} draws, 5-95%): cells HS2 parameter "
                      f"{_share(cov.get('hs2_cells_parameter_bands'))}, predictive {_share(cov.get('hs2_cells_predictive_bands'))}; "
                      f"partner-month totals parameter {_share(cov.get('partner_month_totals_parameter_bands'))}, predictive "
                      f"{_share(cov.get('partner_month_totals_predictive_bands'))}", highlight=False, soft_wrap=True)
    console.print(f"  base: {res.base}", highlight=False, soft_wrap=True)
    console.print(f"  realized: {res.data_basis}", highlight=False, soft_wrap=True)
    for n in res.notes:
        console.print(f"  note: {n}", highlight=False, soft_wrap=True)


def _f1(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.1f}"


def _share(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0%}"


def save_chart(res, path: str):
    """Predicted vs realized monthly imports (one panel per partner, up to four; else annual y/y by partner)."""
    from pathlib import Path

    from matplotlib.figure import Figure

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    parts = res.partners
    if len(parts) <= 4:
        fig = Figure(figsize=(7.5, 2.8 * len(parts) + 0.6))
        for k, partner in enumerate(parts):
            ax = fig.add_subplot(len(parts), 1, k + 1)
            rows = [r for r in res.totals if r["partner"] == partner]
            x = list(range(len(rows)))
            ax.plot(x, [r["realized"] / 1e9 for r in rows], "o-", color="#c0392b", label="realized")
            ax.plot(x, [r["predicted"] / 1e9 for r in rows], "s--", color="#2e86c1", label="predicted")
            ax.plot(x, [r["predicted_raw_pe"] / 1e9 for r in rows], ":", color="#7f8c8d", label="raw PE (no drift)")
            if rows and "predicted_p05" in rows[0]:
                ax.fill_between(x, [r["predicted_p05"] / 1e9 for r in rows], [r["predicted_p95"] / 1e9 for r in rows],
                                color="#2e86c1", alpha=0.15, label="5-95% (parameters)")
            ax.set_xticks(x, [r["month"][2:] for r in rows], fontsize=7, rotation=45)
            ax.set_ylabel("bn USD")
            ax.set_title(f"US imports from {partner}: predicted vs realized ({res.horizon} horizon)", fontsize=9)
            for i, r in enumerate(rows):
                if not r["scored"]:
                    ax.axvspan(i - 0.5, i + 0.5, color="#f0e68c", alpha=0.3, lw=0)
            ax.legend(fontsize=7, loc="lower left")
    else:
        fig = Figure(figsize=(6.5, 5.5))
        ax = fig.add_subplot(1, 1, 1)
        tot = [a for a in res.annual if a["product"] == "TOTAL" and a["year"] == res.months[0][:4]]
        xs = [100 * a["realized_yy"] for a in tot]
        ys = [100 * a["predicted_yy"] for a in tot]
        ax.scatter(xs, ys, color="#2e86c1")
        for a, x_, y_ in zip(tot, xs, ys, strict=True):
            ax.annotate(a["partner"], (x_, y_), fontsize=7)
        lim = max([abs(v) for v in xs + ys] + [5.0])
        ax.plot([-lim, lim], [-lim, lim], color="#999999", lw=0.8)
        ax.set_xlabel("realized y/y change (%)")
        ax.set_ylabel("predicted y/y change (%)")
        ax.set_title(f"{res.months[0][:4]} US imports by partner: predicted vs realized", fontsize=9)
    import re

    sources = ", ".join(dict.fromkeys(re.findall(r"usato_\w+", res.data_basis)))  # source ids, not the vintage prose
    shaded = " Shaded months: calibration." if len(parts) <= 4 else ""
    fig.text(0.01, 0.005, f"Realized: USA Trade Online ({sources}). Base: 2024.{shaded}", fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(p, format=p.suffix.lower()[1:], dpi=130)
    return p
