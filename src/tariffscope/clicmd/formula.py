"""CLI command ``formula``: the USTR "reciprocal" formula for every partner next to the published rate."""
from __future__ import annotations

import json

import typer
from rich.console import Console, JustifyMethod
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app
from tariffscope.clicmd._render import csv_text
from tariffscope.errors import InputError

FORMATS = ("table", "json", "csv")
CSV_COLUMNS = ("partner", "name", "exports", "imports", "balance", "imports_basis", "release", "ratio",
               "formula_unrounded", "formula_rate", "ustr_formula_rate", "published_rate", "published_heading", "difference",
               "explanation", "explanation_text", "parameter_effect")
console = Console(width=170)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.1f}%"


@app.command("formula")
def formula_cmd(
    year: str = typer.Option("2024", "--year", help="Trade year (2024: the year the rates were set from)."),
    basis: str = typer.Option("general", "--basis", help="general (general imports where loaded) | consumption."),
    vintage: str = typer.Option("revised", "--vintage", help="revised (revised country series where loaded) | pre-revision."),
    elasticity: float = typer.Option(4.0, "--elasticity", help="Import demand elasticity (USTR: 4)."),
    pass_through: float = typer.Option(0.25, "--pass-through", help="Tariff pass-through to import prices (USTR: 0.25; the critique: ~1)."),
    floor: float = typer.Option(0.10, "--floor", help="Minimum rate (USTR: 0.10)."),
    rounding: str = typer.Option("up", "--rounding", help="up (published) | table | none."),
    partner: str | None = typer.Option(None, "--partner", help="Comma-separated partners to show (default: all)."),
    top: int = typer.Option(0, "--top", help="Show only the N partners with the largest imports (table; 0: all)."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv."),
    chart: str | None = typer.Option(None, "--chart", help="Write formula vs published rate for all partners (.png, .svg or .html)."),
) -> None:
    """The formula behind the April 2025 rates, every partner, next to the EO 14257 Annex I rate.

    Example: tariffscope formula --partner JPN,VNM,CHN,EU27,KOR

    With the critique's pass-through: tariffscope formula --pass-through 1 --format csv
    """
    if fmt not in FORMATS:
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    res = api.reciprocal_formula(year, basis=basis, vintage=vintage, elasticity=elasticity, pass_through=pass_through,
                                 floor=floor, rounding=rounding)
    d = res.to_dict()
    rows = d["rows"]
    if partner:
        want = [api.resolve_country(p.strip()).iso3 for p in partner.split(",") if p.strip()]
        have = {r["partner"] for r in rows}
        missing = [p for p in want if p not in have]
        if missing:
            raise InputError(f"no {year} trade loaded for {', '.join(missing)}: no formula rate")
        rows = [r for p in want for r in rows if r["partner"] == p]
    if fmt == "json":
        typer.echo(json.dumps({**d, "rows": rows}, indent=2))
    elif fmt == "csv":
        typer.echo(csv_text([{k: r[k] for k in CSV_COLUMNS} for r in rows]), nl=False)
    else:
        _render(d, rows[:top] if top else rows)
    if chart:
        from tariffscope.report import charts_trade
        from tariffscope.report.charts_formula import formula_vs_published

        out = charts_trade.save(formula_vs_published(d), chart)
        console.print(f"chart written: {out}", highlight=False)


def _render(d: dict, rows: list[dict]) -> None:
    t = Table(title=f"Reciprocal formula vs published rate, {d['year']} trade (bn USD; elasticity {d['elasticity']:g} "
                    f"x pass-through {d['pass_through']:g}, floor {d['floor']:.0%}, {d['basis']} imports, {d['vintage']})",
              title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("partner", "left"), ("exports", "right"), ("imports", "right"), ("deficit/imports", "right"),
        ("formula", "right"), ("rounded", "right"), ("published", "right"), ("heading", "left"), ("why", "left"))
    for col, just in columns:
        t.add_column(col, justify=just)
    for r in rows:
        t.add_row(r["partner"], f"{r['exports'] / 1e9:,.2f}", f"{r['imports'] / 1e9:,.2f}", _pct(r["ratio"]),
                  _pct(r["formula_unrounded"]), _pct(r["formula_rate"]), _pct(r["published_rate"]),
                  r["published_heading"], r["explanation_text"])
    console.print(t)
    for s in d["sources"]:
        vin = f", vintage {s['vintage']}" if s.get("vintage") else ""
        console.print(f"  source: {s['source']}: {s['title']}{vin} [{s['used_for']}]", highlight=False, soft_wrap=True)
    for n in d["notes"]:
        console.print(f"  note: {n}", highlight=False, soft_wrap=True)
