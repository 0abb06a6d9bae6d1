"""The brief section (and web page) on the PE backtest: predicted vs realized 2025 US imports from the
partner (``api.backtest``), with the basis named (data, horizon, reference regime, held-out months)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tariffscope import api
from tariffscope.errors import DataNotFoundError
from tariffscope.report import fmt, svgcharts as svg
from tariffscope.report.sections._common import (
    Chart,
    Context,
    Section,
    SectionUnavailable,
    Table,
    month_ticks,
    period_x,
    x_label_month,
)

if TYPE_CHECKING:  # result classes for annotations only: at run time the sections go through tariffscope.api
    from tariffscope.compose.backtest import BacktestResult

BACKTEST_PERIOD = ("2025-01", "2025-12")  # the calendar year the realized monthly data cover in full
BACKTEST_DRAWS = 30  # enough for the 5-95% bands shown; the CLI runs more
FOCUS_PRODUCTS = ("TOTAL", "87", "8703", "84", "85")  # the rows the brief shows first: total, autos, machinery, electrical


def backtest_section(ctx: Context) -> Section:
    s = Section("backtest", f"Backtest: the model against US imports from {ctx.partner_name} in 2025")
    try:
        res = api.backtest(ctx.partner, *BACKTEST_PERIOD, draws=min(ctx.draws, BACKTEST_DRAWS), seed=ctx.seed, con=ctx.con)
    except DataNotFoundError as exc:
        raise SectionUnavailable(str(exc)) from None
    render_backtest(s, res, ctx.partner, ctx.partner_name)
    return s


def render_backtest(s: Section, res: BacktestResult, partner: str, partner_name: str) -> None:
    """Sentences, the predicted-vs-realized chart, the annual and metrics tables and the basis notes."""
    d = res.to_dict()
    s.data = {k: d[k] for k in ("partners", "from", "to", "horizon", "horizon_label", "reference", "base", "base_year",
                                "data_basis", "calibration_months", "score_months", "metrics", "coverage", "annual", "totals")}
    meta = res.meta()
    s.notes.append(basis_text(meta))
    s.sources = [{"source": "backtest realized imports", "title": meta["data_basis"], "publisher": "US Census Bureau"},
                 {"source": "backtest base lines", "title": meta["base"], "publisher": "US Census Bureau"},
                 {"source": "horizon.yaml / pass_through.yaml", "title": "elasticities by horizon and exporter absorption, with citations",
                  "publisher": "tariffscope (tables of the published estimates they cite)"}]
    annual = [r for r in d["annual"] if r["partner"] == partner]
    total = next((r for r in annual if r["product"] == "TOTAL"), None)
    if total is not None and total["realized_yy"] is not None and total["predicted_yy"] is not None:
        line = (f"Backtest: in {total['year']} US imports from {partner_name} changed by {fmt.pct(total['realized_yy'], 1, signed=True)} "
                f"year on year; the model (horizon {meta['horizon']}, reference {meta['reference']}) predicted "
                f"{fmt.pct(total['predicted_yy'], 1, signed=True)}"
                + (f" (5-95% band {fmt.pct(total['yy_p05'], 1, signed=True)} to {fmt.pct(total['yy_p95'], 1, signed=True)})."
                   if total.get("yy_p05") is not None else "."))
        s.sentences.append(line)
        s.headline.append(line)
    car = next((r for r in annual if r["product"] == "8703"), None)
    if car is not None and car["realized_yy"] is not None and car["predicted_yy"] is not None:
        s.sentences.append(f"Passenger cars (HS 8703) from {partner_name}: realized {fmt.pct(car['realized_yy'], 1, signed=True)}, predicted "
                           f"{fmt.pct(car['predicted_yy'], 1, signed=True)}.")
    rows = [r for p in FOCUS_PRODUCTS for r in annual if r["product"] == p]
    rows += sorted((r for r in annual if r["product"] not in FOCUS_PRODUCTS and r["level"] == "hs2"),
                   key=lambda r: -r["realized_year_before"])[:5]
    s.tables.append(Table(
        ["Product", "Level", "Year", "Realized", "Realized y/y", "Predicted y/y", "Band 5-95%", "Raw PE y/y"],
        [[r["product"], r["level"], r["year"], fmt.money(r["realized"]), fmt.pct(r["realized_yy"], 1, signed=True),
          fmt.pct(r["predicted_yy"], 1, signed=True),
          (f"{fmt.pct(r['yy_p05'], 1, signed=True)} to {fmt.pct(r['yy_p95'], 1, signed=True)}" if r.get("yy_p05") is not None else "n/a"),
          fmt.pct(r["raw_pe_yy"], 1, signed=True)] for r in rows],
        caption=f"{partner_name}: realized and predicted change over the months {d['from']}..{d['to']} "
                "(raw PE: without the partner's calibrated non-tariff growth)",
        align=["n", "l", "l", "r", "r", "r", "r", "r"]))
    s.tables.append(metrics_table(d["metrics"]))
    cov = d["coverage"]
    if cov.get("draws"):
        s.notes.append(f"Band coverage of held-out outcomes ({cov['draws']} draws, 5-95%): HS2 cells "
                       f"{fmt.pct(cov.get('hs2_cells_parameter_bands'), 0)} (parameter bands), "
                       f"{fmt.pct(cov.get('hs2_cells_predictive_bands'), 0)} (predictive bands); partner-month totals "
                       f"{fmt.pct(cov.get('partner_month_totals_parameter_bands'), 0)} and "
                       f"{fmt.pct(cov.get('partner_month_totals_predictive_bands'), 0)}.")
    s.charts.append(Chart(monthly_chart([t for t in d["totals"] if t["partner"] == partner], partner_name),
                          caption="Monthly US imports, bn USD: realized (USA Trade Online) and predicted; the shaded months "
                                  "before the first held-out month calibrate the partner's non-tariff growth."))


def basis_text(meta: dict[str, Any]) -> str:
    """The line naming what a backtest rests on: data, base, horizon, reference and the held-out months."""
    held = meta["score_months"]
    return (f"Basis: realized {meta['data_basis']}; base {meta['base']} (base year {meta['base_year']}); horizon "
            f"{meta['horizon']} ({meta['horizon_label']}); reference regime {meta['reference']}; calibration months "
            f"{', '.join(meta['calibration_months']) or 'none (raw PE)'}; held-out months {held[0]}..{held[-1]} ({len(held)}).")


def metrics_table(metrics: dict[str, Any]) -> Table:
    rows = []
    for key, label in (("held_out", "held out"), ("calibration", "calibration"), ("raw_pe_held_out", "raw PE, held out")):
        m = metrics.get(key) or {}
        for lv in ("hs2", "hs4"):
            x = m.get(lv)
            if not x:
                continue
            rows.append([label, lv, fmt.num(x["cell_months"]), fmt.num(x["mae_yy_pp"], 1), fmt.num(x["mae_yy_pp_weighted"], 1),
                         fmt.pct(x["sign_hit_rate"], 0), fmt.pct(x["total_error_pct"], 1, signed=True)])
    return Table(["Months", "Level", "Cell-months", "MAE pp", "MAE pp (value-weighted)", "Sign hits", "Total error"], rows,
                 caption="Errors of the predicted year-on-year changes (cells: partner x HS2, partner x HS4 in ch. 84/85/87)",
                 align=["l", "l", "r", "r", "r", "r", "r"])


def monthly_chart(totals: list[dict], partner_name: str) -> str:
    xs = [period_x(t["month"]) for t in totals]
    series: list[dict[str, Any]] = [{"name": "Realized", "x": xs, "y": [t["realized"] / 1e9 for t in totals], "color": "#222"},
              {"name": "Predicted", "x": xs, "y": [t["predicted"] / 1e9 for t in totals], "color": svg.PALETTE[0]}]
    if totals and totals[0].get("predicted_p05") is not None:
        series += [{"name": "Band 5%", "x": xs, "y": [t["predicted_p05"] / 1e9 for t in totals], "color": svg.PALETTE[0], "dash": True},
                   {"name": "Band 95%", "x": xs, "y": [t["predicted_p95"] / 1e9 for t in totals], "color": svg.PALETTE[0], "dash": True}]
    series.append({"name": "A year earlier", "x": xs, "y": [t["realized_year_before"] / 1e9 for t in totals], "color": "#999", "dash": True})
    held = [period_x(t["month"]) for t in totals if t["scored"]]
    markers = [(held[0], "held-out months start")] if held else []
    ticks = month_ticks(min(xs), max(xs), 2) if xs else []
    return svg.lines(series, title=f"US imports from {partner_name}: predicted vs realized, bn USD", y_fmt=lambda v: f"{v:,.0f}",
                     x_label=x_label_month, x_ticks=ticks, markers=markers, y_zero=False)
