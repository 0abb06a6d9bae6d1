"""CLI commands ``calibrate ...``: model parameters fitted to realized data the user has.

``calibrate pass-through`` estimates exporter absorption for one origin x product from a price index file
(``--prices``), price indices ingested into the warehouse or the warehouse's monthly unit values, via ``tariffscope.api.calibrate_pass_through``, and
renders a table (the estimate, the months, the data used), JSON (everything) or CSV (one row per month).
"""
from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app
from tariffscope.clicmd._render import csv_text
from tariffscope.errors import InputError

FORMATS = ("table", "json", "csv")
console = Console(width=170, markup=False)

calibrate_app = typer.Typer(help="Calibrate model parameters from realized data: pass-through.", no_args_is_help=True)
app.add_typer(calibrate_app, name="calibrate")


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.1%}"


@calibrate_app.command("pass-through")
def pass_through_cmd(
    origin: str = typer.Option("JPN", "--origin", help="Exporting country (ISO3 or name)."),
    product: str = typer.Option("8703", "--product", help="HS prefix (2-10 digits), e.g. 8703 for passenger cars."),
    start: str = typer.Option("2025-04", "--from", help="First month (YYYY-MM)."),
    end: str = typer.Option("2025-12", "--to", help="Last month (YYYY-MM)."),
    prices: str | None = typer.Option(None, "--prices", help="Price index CSV: period,origin,product,index,basis[,currency], "
                                                             "read without storing it (default: price indices ingested "
                                                             "with 'data ingest', else monthly unit values)."),
    price_source: str | None = typer.Option(None, "--price-source", help="Warehouse source of ingested price indices, "
                                                                         "when several hold the series."),
    basis: str | None = typer.Option(None, "--basis", help="exporter | importer: the series to use when the file holds both."),
    base_from: str | None = typer.Option(None, "--base-from", help="Compare with the mean of a base window from this month "
                                                                   "(default: the same months a year earlier)."),
    base_to: str | None = typer.Option(None, "--base-to", help="Last month of the base window."),
    reference: str = typer.Option("2025-01-01", "--reference", help="Regime for months before the measure catalogue: "
                                                                    "the rates in force on a date, or 'mfn'."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv."),
) -> None:
    """Exporter absorption (the share of a duty change borne by the exporter's price) from realized prices.

    Example: tariffscope calibrate pass-through --origin JPN --product 8703 --from 2025-04 --to 2025-12 --prices prices.csv

    Use the result in a run: tariffscope backtest --partner JPN --absorption JPN:8703=0.63
    """
    if fmt not in FORMATS:
        raise InputError(f"bad --format {fmt!r}: choose table, json or csv")
    res = api.calibrate_pass_through(origin, product, start, end, prices=prices, price_source=price_source, basis=basis,
                                     base_start=base_from,
                                     base_end=base_to, reference=reference)
    if fmt == "json":
        typer.echo(json.dumps(res.to_dict(), indent=1))
    elif fmt == "csv":
        typer.echo(csv_text(res.rows), nl=False)
    else:
        _render(res)


def _render(res) -> None:
    se = "n/a" if res.se is None else f"{res.se:.3f}"
    console.print(f"Exporter absorption, {res.origin} {res.product} ({res.basis}-basis prices): {res.absorption:.2f} "
                  f"(raw {res.raw:.3f}, standard error {se}, monthly range {res.low:.2f}..{res.high:.2f}; "
                  f"{len(res.months_used)} month(s))", soft_wrap=True)
    console.print(f"  {res.comparison}", soft_wrap=True)
    t = Table(title="Months (tariff: trade-weighted over the product's HS10 lines; price in USD)", title_justify="left")
    for c in ("month", "compared with", "tariff then", "tariff now", "price change", "absorption", "used"):
        t.add_column(c, justify="left" if c in ("month", "compared with", "used") else "right")
    for r in res.rows:
        a = "n/a" if r["absorption"] is None else f"{r['absorption']:.2f}"
        t.add_row(r["period"], r["compared_with"], f"{r['tariff_then']:.1%}", f"{r['tariff_now']:.1%}",
                  _pct(r["price_change"]), a, "yes" if r["used"] else "no (no duty change)")
    console.print(t)
    p = res.prices
    if p["kind"] == "price index file":
        what = f"price index file {p['file']} ({p['series']}, {p['currency']})"
    elif p["kind"] == "price index (warehouse)":
        what = f"price index source {p['source']} ({p['series']}, {p['currency']}; {p['vintage']})"
    else:
        what = (f"unit values from {p['source']} ({p['flow']}, {p['value_basis']}, {p['currency']} per {p['quantity_unit']}; "
                f"{p['vintage']})")
    console.print(f"  prices: {what}", soft_wrap=True)
    for src, how in res.exchange_rates.items():
        console.print(f"  exchange rates: {src} ({how})", soft_wrap=True)
    tr = res.tariffs
    console.print(f"  tariffs: engine, reference regime {tr['reference']} for months before the catalogue; weights {tr['weights']}",
                  soft_wrap=True)
    for n in res.notes:
        console.print(f"  note: {n}", soft_wrap=True)
    console.print(f"  use it: {res.use_with}", soft_wrap=True)
