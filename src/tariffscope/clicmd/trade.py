"""CLI commands of the trade area: ``balance`` (with ``--partner-figures`` reconciliation) and ``monitor``.

Each command parses options, calls ``tariffscope.api``, renders a rich table (or JSON/CSV) with the
source and vintage lines under it, and optionally writes a chart (``--chart PATH``: .png/.svg/.html).
"""
from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app
from tariffscope.clicmd._render import csv_text
from tariffscope.errors import InputError
from tariffscope.trade._common import fmt_money
from tariffscope.trade.balance import BalanceResult

FORMATS = ("table", "json", "csv")
console = Console(width=160, markup=False)  # never read user text as markup; wide tables; stdout looked up at print time (works with capsys)


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    return fmt


def _num(v: float | None, scale: float) -> str:
    return "n/a" if v is None else f"{v / scale:,.2f}"


def _pct(v: float | None, signed: bool = False) -> str:
    return "n/a" if v is None else (f"{v:+.1%}" if signed else f"{v:.1%}")


def _scale(v: float) -> tuple[float, str]:
    a = abs(v)
    for f, u in ((1e12, "tn"), (1e9, "bn"), (1e6, "mn")):
        if a >= f:
            return f, u
    return 1.0, ""


_csv = csv_text


def _print_sources(d: dict) -> None:
    for k, v in d.get("levels", {}).items():
        console.print(f"  level, {k}: {v}", highlight=False, soft_wrap=True)
    for s in d.get("sources", []):
        vin = f", vintage {s['vintage']}" if s.get("vintage") else ""
        use = f" [{s['used_for']}]" if s.get("used_for") else ""
        console.print(f"  source: {s['source']}: {s['title']}{vin}{use}", highlight=False, soft_wrap=True)
    for n in d.get("notes", []):
        hint = " (run without --by for it)" if n.startswith("other vintage:") and d.get("by") else ""  # the CLI's own hint
        console.print(f"  note: {n}{hint}", highlight=False, soft_wrap=True)


CHART_SUFFIXES = (".png", ".svg", ".html", ".htm")


def _check_chart(path: str | None) -> None:
    """Refuse a --chart path that cannot be written before any work is done."""
    if not path:
        return
    from pathlib import Path

    from tariffscope.report.outfiles import check_output_file

    if Path(path).suffix.lower() not in CHART_SUFFIXES:
        raise InputError(f"--chart must end in .png, .svg or .html, not {Path(path).name!r}")
    check_output_file(path, "--chart")


def _chart(kind: str, result: Any, path: str | None) -> None:
    if not path:
        return
    from tariffscope.report import charts_trade

    fig = charts_trade.balance_waterfall(result) if kind == "balance" else charts_trade.monthly_chart(result)
    out = charts_trade.save(fig, path)
    console.print(f"chart written: {out}", highlight=False)


@app.command("balance")
def balance_cmd(
    reporter: str = typer.Option("USA", "--reporter", help="Reporting country (USA: direct; another with --partner USA: mirror estimate)."),
    partner: str = typer.Option("JPN", "--partner", help="Partner country (ISO3, name or code)."),
    period: str = typer.Option("2024", "--period", help="'YYYY' or 'YYYY-MM'."),
    by: str = typer.Option("sector", "--by", help="sector | hs2 | hs4 | hs6 | none."),
    currency: str = typer.Option("USD", "--currency", help="USD or JPY (monthly average rates)."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv."),
    partner_figures: str | None = typer.Option(None, "--partner-figures", help="CSV (period,flow,value,currency) of the partner's own figures: reconcile with the mirror."),
    lag: int = typer.Option(0, "--lag", help="Shipping lag in months for the reconciliation (0 or 1)."),
    cif_factor: float | None = typer.Option(None, "--cif-factor", help="CIF/FAS factor for the partner's imports (default 1.0315, measured)."),
    combine: str | None = typer.Option(None, "--combine", help="Comma-separated sectors whose joint share of the balance to print."),
    top: int = typer.Option(0, "--top", help="Show only the N largest rows (0: all)."),
    chart: str | None = typer.Option(None, "--chart", help="Write a waterfall chart (.png, .svg or .html)."),
    panel: str | None = typer.Option(None, "--panel", help="World panel NAME: any reporter with any partner (--period YYYY, --by hs2|hs4|hs6|total)."),
) -> None:
    """Goods balance by sector or HS level, with sources.

    Example: tariffscope balance --reporter USA --partner JPN --period 2024 --by sector

    On a world panel: tariffscope balance --panel baci_hs17 --reporter DEU --partner CHN --period 2022 --by hs2
    """
    _check_format(fmt)
    _check_chart(chart)
    if panel:
        extra = [o for o, given in (("--currency", currency != "USD"), ("--partner-figures", partner_figures),
                                    ("--combine", combine), ("--chart", chart)) if given]
        if extra:
            raise InputError(f"{', '.join(extra)} not available with --panel (panel values are USD, by HS product)")
        _panel_balance(panel, reporter, partner, period, by, fmt, top)
        return
    res = api.balance(reporter=reporter, partner=partner, period=period, by=by, currency=currency)
    d = res.to_dict()
    rec = None
    if partner_figures:
        rec = api.reconcile(partner_figures, reporter=reporter, partner=partner, cif_factor=cif_factor, lag_months=lag)
    comb = (res.combined([s.strip() for s in combine.split(",")])
            if combine and isinstance(res, BalanceResult) else None)
    if fmt == "json":
        if rec is not None:
            d["reconciliation"] = rec.to_dict()
        if comb is not None:
            d["combined"] = comb
        typer.echo(json.dumps(d, indent=2))
    elif fmt == "csv":
        typer.echo(_csv([{k: r[k] for k in ("sector", "exports", "imports", "balance", "share_of_balance")} for r in d["sectors"]]
                        + [{"sector": "TOTAL", "exports": d["exports"], "imports": d["imports"], "balance": d["balance"],
                            "share_of_balance": 1.0}]), nl=False)
        if rec is not None:
            typer.echo(_csv(rec.to_dict()["rows"]), nl=False)
    else:
        _render_balance(d, top)
        if comb is not None:
            _render_combined(d, comb)
        if rec is not None:
            _render_reconcile(rec.to_dict())
    _chart("balance", res, chart)


PANEL_BY = {"sector": "hs2", "none": "total"}  # the warehouse defaults mapped onto the panel's HS levels


def _panel_balance(panel: str, reporter: str, partner: str, period: str, by: str, fmt: str, top: int) -> None:
    """``balance --panel``: api.panel_balance rendered like the warehouse balance (table/json/csv, source line)."""
    if not str(period).isdigit() or len(str(period)) != 4:
        raise InputError(f"bad --period {period!r}: a world panel is annual, give YYYY")
    level = PANEL_BY.get(by, by)
    res = api.panel_balance(panel, reporter, partner, int(period), by=level)
    d = _panel_balance_dict(res)
    if fmt == "json":
        typer.echo(json.dumps(d, indent=2))
    elif fmt == "csv":
        typer.echo(_csv([{k: r[k] for k in ("sector", "exports", "imports", "balance", "share_of_balance")} for r in d["sectors"]]
                        + [{"sector": "TOTAL", "exports": d["exports"], "imports": d["imports"], "balance": d["balance"],
                            "share_of_balance": 1.0}]), nl=False)
    else:
        _render_balance(d, top)


def _panel_balance_dict(res: Any) -> dict:
    """A PanelBalance in the shape of ``Balance.to_dict()`` (rows by product, largest |balance| first)."""
    from pathlib import Path

    bal = res.balance
    by = None if res.by == "total" else res.by
    rows = [] if by is None else sorted(res.rows, key=lambda r: -abs(r["balance_usd"]))  # total: the TOTAL line only
    files = ", ".join(sorted({Path(s.file).name for s in api.panel_info(res.panel).sources}))
    return {
        "reporter": res.reporter, "partner": res.partner, "period": str(res.year), "by": by, "currency": "USD",
        "perspective": "direct", "panel": res.panel, "exports": res.exports, "imports": res.imports, "balance": bal,
        "sectors": [{"sector": r["product"], "exports": r["exports_usd"], "imports": r["imports_usd"],
                     "balance": r["balance_usd"], "share_of_balance": r["balance_usd"] / bal if bal else None, "note": ""}
                    for r in rows],
        "sources": [{"source": res.source, "title": f"world panel {res.panel} ({files})", "vintage": res.vintage,
                     "used_for": "exports and imports (FOB, as reconciled in the panel)"}],
        "notes": [] if bal else ["balance is zero: shares of balance are not defined"],
    }


def _render_balance(d: dict, top: int) -> None:
    cur = d["currency"]
    f, unit = _scale(max(abs(d["exports"]), abs(d["imports"])))
    persp = "" if d["perspective"] == "direct" else f" — {d['perspective'].upper()}"
    t = Table(title=f"Goods trade of {d['reporter']} with {d['partner']}, {d['period']}{persp} ({unit} {cur})",
              title_justify="left")
    label = "sector" if d["by"] == "sector" else (d["by"] or "").upper() or "total"
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        (label, "left"), ("exports", "right"), ("imports", "right"), ("balance", "right"),
        ("share of balance", "right"), ("note", "left"))
    for col, just in columns:
        t.add_column(col, justify=just)
    rows = d["sectors"][:top] if top else d["sectors"]
    if d["by"] is None:
        rows = []  # the single TOTAL row is the total line below
    for r in rows:
        t.add_row(r["sector"], _num(r["exports"], f), _num(r["imports"], f), _num(r["balance"], f),
                  _pct(r["share_of_balance"]), r.get("note", ""))
    if top and len(d["sectors"]) > top:
        rest = d["sectors"][top:]
        b = sum(r["balance"] for r in rest)
        t.add_row(f"{len(rest)} other rows", "", "", _num(b, f), _pct(b / d["balance"] if d["balance"] else None), "")
    t.add_row("TOTAL", _num(d["exports"], f), _num(d["imports"], f), _num(d["balance"], f), "100.0%", "", style="bold")
    _print_headline(d)
    console.print(t)
    _print_reconciliation(d)
    _print_sources(d)


def _print_headline(d: dict) -> None:
    """The official-basis figure, first: the one a reader compares with the Census Bureau's."""
    h = d.get("headline")
    if not h:
        return
    cur = d["currency"]
    same = not d.get("reconciliation")
    console.print(f"Headline{' (= TOTAL below)' if same else ''}: balance {fmt_money(h['balance'], cur)} (exports "
                  f"{fmt_money(h['exports'], cur)}, imports {fmt_money(h['imports'], cur)}); basis: {h['basis']}; "
                  f"vintage: {h['vintage']} ({', '.join(h['sources'])})", highlight=False, soft_wrap=True)


def _print_reconciliation(d: dict) -> None:
    """The steps from a detailed table's own TOTAL to the headline (they add up to the difference)."""
    cur = d["currency"]
    for r in d.get("reconciliation", []):
        console.print(f"  reconciliation to the headline, {fmt_money(r['effect'], cur)} on the balance: {r['text']}",
                      highlight=False, soft_wrap=True)


def _render_combined(d: dict, c: dict) -> None:
    names = " + ".join(c["sectors"])
    line = f"combined {names}: {fmt_money(c['balance'], d['currency'])}, {_pct(c['share_of_balance'])} of the balance"
    if "share_net_of_unsplit" in c:
        line += (f" (imports against no exports); {_pct(c['share_net_of_unsplit'])} after also subtracting the unsplit "
                 f"row(s) {', '.join(c['unsplit_rows'])}")
    if c["missing"]:
        line += f"; not in the table: {', '.join(c['missing'])}"
    console.print(line, highlight=False, soft_wrap=True)


def _render_reconcile(r: dict) -> None:
    for row in r["rows"]:
        cur = row["currency"]
        f, unit = _scale(max(abs(row["partner_figure"]), abs(row["mirror_estimate"])))
        t = Table(title=f"Reconciliation: {r['reporter']} {row['flow']} with {r['partner']}, {row['period']} ({unit} {cur})",
                  title_justify="left")
        t.add_column("step", justify="left")
        t.add_column("in order", justify="right")
        t.add_column("share of gap", justify="right")
        t.add_column("Shapley", justify="right")
        t.add_column("share of gap", justify="right")
        gap = row["gap"]
        t.add_row("mirror estimate (US statistics at monthly average rates)", _num(row["mirror_estimate"], f), "",
                  _num(row["mirror_estimate"], f), "")
        for k, name in (("exchange_rate", "exchange rate (customs-rate proxy vs monthly average)"),
                        ("valuation", "valuation (CIF imports vs FAS exports)"),
                        ("timing", "timing (shipping lag)"), ("residual", "residual (origin/consignment, coverage, other)")):
            sh = row.get(f"shapley_{k}", row[k]) if k != "residual" else row[k]
            t.add_row(f"  + {name}", _num(row[k], f), _pct(row[k] / gap if gap else None), _num(sh, f),
                      _pct(sh / gap if gap else None))
        t.add_row("partner's published figure", _num(row["partner_figure"], f), "", _num(row["partner_figure"], f), "",
                  style="bold")
        t.add_row("gap (partner - mirror)", _num(gap, f), "100.0%" if gap else "", _num(gap, f), "100.0%" if gap else "")
        console.print(t)
    p = r["parameters"]
    console.print(f"  parameters: CIF factor {p['cif_factor']}, FOB factor {p['fob_factor']}, lag {p['lag_months']} month(s), "
                  f"customs-rate proxy = daily rates shifted {p['customs_rate_lag_days']} days; order {p['order']}; "
                  f"Shapley: each adjustment's average over all orders",
                  highlight=False, soft_wrap=True)
    _print_sources(r)


@app.command("monitor")
def monitor_cmd(
    reporter: str = typer.Option("USA", "--reporter", help="Reporting country (USA direct; JPN with --partner USA: mirror)."),
    partner: str = typer.Option("JPN", "--partner", help="Partner country."),
    month: str | None = typer.Option(None, "--month", help="'YYYY-MM' (default: --to)."),
    by: str = typer.Option("none", "--by", help="none | sector | hs2 | hs4 (monthly detail of imports)."),
    from_: str | None = typer.Option(None, "--from", help="First month of the series."),
    to: str | None = typer.Option(None, "--to", help="Last month of the series."),
    currency: str = typer.Option("USD", "--currency", help="USD or JPY."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv."),
    top: int = typer.Option(15, "--top", help="Rows of detail to show (0: all)."),
    chart: str | None = typer.Option(None, "--chart", help="Write the monthly chart (.png, .svg or .html)."),
) -> None:
    """Monthly level and year-on-year change of exports, imports and the balance.

    Example: tariffscope monitor --reporter USA --partner JPN --month 2025-05 --by hs4
    """
    _check_format(fmt)
    _check_chart(chart)
    res = api.monitor(reporter=reporter, partner=partner, month=month, by=by, from_=from_, to=to, currency=currency)
    d = res.to_dict()
    if fmt == "json":
        typer.echo(json.dumps(d, indent=2))
    elif fmt == "csv":
        typer.echo(_csv(d["series"]), nl=False)
        if d["detail"]:
            typer.echo(_csv(d["detail"]), nl=False)
    else:
        _render_monitor(d, top)
    _chart("monitor", res, chart)


def _render_monitor(d: dict, top: int) -> None:
    cur = d["currency"]
    vals = [abs(v) for r in d["series"] for v in (r["exports"], r["imports"]) if v is not None]
    f, unit = _scale(max(vals or [1.0]))
    persp = "" if d["perspective"] == "direct" else f" — {d['perspective'].upper()}"
    t = Table(title=f"Monthly goods trade of {d['reporter']} with {d['partner']}{persp} ({unit} {cur})", title_justify="left")
    for col in ("month", "exports", "y/y", "imports", "y/y", "balance", "a year earlier", "vintage"):
        t.add_column(col, justify="left" if col in ("month", "vintage") else "right")
    for r in d["series"]:
        t.add_row(r["month"], _num(r["exports"], f), _pct(r["exports_yoy"], True), _num(r["imports"], f),
                  _pct(r["imports_yoy"], True), _num(r["balance"], f), _num(r["balance_year_ago"], f),
                  r["vintage"] if len(r["vintage"]) <= 40 else r["vintage"][:39] + "…")
    console.print(t)
    if d.get("basis"):
        console.print(f"  basis: {d['basis']}", highlight=False, soft_wrap=True)
    others = [f"{r['month']}: {r['other_vintages']}" for r in d["series"] if r["other_vintages"]]
    for o in others:
        console.print(f"  other vintage, {o}", highlight=False, soft_wrap=True)
    if d["detail"]:
        rows = d["detail"][:top] if top else d["detail"]
        fd, ud = _scale(max(abs(r["value"]) for r in rows))
        t = Table(title=f"{d['month']} by {d['by']}: {rows[0]['flow']} ({ud} {cur})", title_justify="left")
        for col in (d["by"], d["month"], "a year earlier", "y/y"):
            t.add_column(col, justify="left" if col == d["by"] else "right")
        for r in rows:
            t.add_row(r["sector"] + (f" ({r['level']})" if r["level"] and d["by"] == "sector" and "not split" not in r["sector"] else ""),
                      _num(r["value"], fd), _num(r["year_ago"], fd), _pct(r["pct_change"], True))
        console.print(t)
    if d["volume_price"]:
        t = Table(title="Value = volume x unit value (annual, units)", title_justify="left")
        for col in ("HS", "years", "value", "volume", "unit value", "units", "unit value (USD)"):
            t.add_column(col, justify="left" if col in ("HS", "years") else "right")
        for r in d["volume_price"]:
            t.add_row(r["product"], f"{r['base_year']}->{r['year']}", _pct(r["value_change"], True), _pct(r["volume_change"], True),
                      _pct(r["unit_value_change"], True), f"{r['quantity']:,.0f}", f"{r['unit_value']:,.0f}")
        console.print(t)
    _print_sources(d)
