"""CLI commands: scale — world panels (``tariffscope data panel ...``) and grid sweeps (``tariffscope sweep``).

``data panel`` is a sub-app of ``data``: ``ingest``, ``list``, ``show``, ``balance``, ``remove``.
``sweep SPEC`` is top-level; ``--cluster tcp://HOST:PORT`` or ``local:N`` runs it on Dask.
"""
from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import app, console, data_app, err_console
from tariffscope.clicmd._limits import check_workers
from tariffscope.errors import InputError

panel_app = typer.Typer(help="World panels: bilateral HS6 trade (BACI-style CSV) as partitioned Parquet.",
                        no_args_is_help=True)
data_app.add_typer(panel_app, name="panel")

FORMATS = ("table", "json", "csv")


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InputError(f"bad --format {fmt!r}: use table, json or csv")
    return fmt


def _mn(usd: float) -> str:
    return f"{usd / 1e6:,.1f}"


@panel_app.command("ingest")
def panel_ingest(
    path: str = typer.Argument(..., help="A CSV (.csv/.csv.gz) file, a directory of them, or a glob."),
    name: str = typer.Option(..., "--name", "-n", help="Panel name, e.g. baci_hs17."),
    vintage: str | None = typer.Option(None, help="Release of the data (default: from a BACI file name, V202401b)."),
    countries: Path | None = typer.Option(None, help="Country code file: BACI country_codes_V*.csv or code,iso3."),
    replace: bool = typer.Option(False, "--replace", help="Replace the years the files hold if the panel has them."),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Ingest BACI-style CSV (t,i,j,k,v,q) into a partitioned Parquet panel.

    Example: tariffscope data panel ingest BACI_HS17_Y2022_V202401b.csv --name baci_hs17
    """
    _check_format(fmt)
    rep = api.ingest_panel(path, name, vintage=vintage, countries=countries, replace=replace)
    if fmt == "json":
        console.print_json(json.dumps(rep.to_dict()))
        return
    console.print(f"panel {rep.panel.name}: {rep.rows:,} rows from {len(rep.files)} file(s) in "
                  f"{rep.seconds:.1f} s -> {rep.panel.path}", highlight=False)
    console.print("years ingested: " + ", ".join(f"{y} ({n:,} rows)" for y, n in sorted(rep.rows_by_year.items())),
                  highlight=False)
    if rep.unknown_codes:
        shown = ", ".join(f"{c} ({n:,} rows)" for c, n in list(rep.unknown_codes.items())[:20])
        err_console.print(f"warning: country codes not in the code table, kept as UNK<code>: {shown}",
                          highlight=False)


@panel_app.command("list")
def panel_list(fmt: str = typer.Option("table", "--format", help="table | json")) -> None:
    """List the panels under $TARIFFSCOPE_HOME/panels."""
    _check_format(fmt)
    infos = api.list_panels()
    if fmt == "json":
        console.print_json(json.dumps([i.to_dict() for i in infos]))
        return
    t = Table("panel", "years", "rows", "vintage", "unknown codes", "path")
    for i in infos:
        years = f"{i.years[0]}-{i.years[-1]}" if i.years else "-"
        t.add_row(i.name, years, f"{i.rows:,}", i.vintage or "-", str(len(i.unknown_codes)), i.path)
    console.print(t)


@panel_app.command("show")
def panel_show(name: str = typer.Argument(...)) -> None:
    """Show a panel's manifest (sources, SHA-256, rows per year, unknown codes) as JSON."""
    console.print_json(json.dumps(api.panel_info(name).to_dict()))


@panel_app.command("remove")
def panel_remove(name: str = typer.Argument(...)) -> None:
    """Delete a panel and its files."""
    api.remove_panel(name)
    console.print(f"removed panel {name}")


@panel_app.command("balance")
def panel_balance_cmd(
    name: str = typer.Argument(..., help="Panel name."),
    reporter: str = typer.Option(..., "--reporter", "-r", help="Reporter country (ISO3, name, M49...)."),
    partner: str = typer.Option(..., "--partner", "-p", help="Partner country."),
    year: int = typer.Option(..., "--year", "--period", help="Year, e.g. 2022."),
    by: str = typer.Option("hs2", "--by", help="total | hs2 | hs4 | hs6"),
    top: int = typer.Option(15, help="Rows shown in the table (largest absolute balances)."),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
) -> None:
    """Goods balance of any reporter with any partner from a world panel, by product.

    Example: tariffscope data panel balance baci_hs17 --reporter DEU --partner CHN --year 2022 --by hs2
    """
    _check_format(fmt)
    res = api.panel_balance(name, reporter, partner, year, by=by)
    if fmt == "json":
        console.print_json(json.dumps(res.to_dict()))
        return
    if fmt == "csv":
        print(res.to_frame().to_csv(index=False), end="")
        return
    t = Table("product", "exports (USD mn)", "imports (USD mn)", "balance (USD mn)",
              title=f"{res.reporter} with {res.partner}, {res.year}, by {res.by}",
              caption=f"source: {res.source}, vintage {res.vintage or 'n/a'}; values FOB as reconciled in the panel")
    rows = sorted(res.rows, key=lambda r: -abs(r["balance_usd"]))[:top]
    for r in rows:
        t.add_row(r["product"], _mn(r["exports_usd"]), _mn(r["imports_usd"]), _mn(r["balance_usd"]))
    t.add_row("all goods", _mn(res.exports), _mn(res.imports), _mn(res.balance), style="bold")
    console.print(t)


@app.command("sweep")
def sweep_cmd(
    spec: Path = typer.Argument(..., help="Sweep spec (YAML): model, base scenario, grid, optional target."),
    out: Path = typer.Option(Path("sweep-out"), "--out", "-o", help="Directory for <name>.parquet and the charts."),
    target: str | None = typer.Option(None, "--target", help="e.g. 'deficit_cut_pct >= 10; maximize exporter_sector_jobs'."),
    backend: str = typer.Option("process", help="serial | process | dask"),
    workers: int | None = typer.Option(None, help="Worker processes (default: all cores)."),
    cluster: str | None = typer.Option(None, help="Dask: tcp://HOST:PORT of a scheduler, or local:N."),
    chart_format: str = typer.Option("png", "--chart-format", help="png | svg"),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Write one chart per outcome."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    fmt: str = typer.Option("table", "--format", help="table | json"),
) -> None:
    """Run a model over a grid of policy parameters: tidy Parquet table, one chart per outcome, target search.

    Example: tariffscope sweep examples/sweeps/japan-recip-auto-floor.yaml --cluster local:2 --out sweep-out
    """
    _check_format(fmt)
    check_workers(workers)
    if backend not in ("serial", "process", "dask"):
        raise InputError(f"bad --backend {backend!r}: choose serial, process or dask")
    if chart_format not in ("png", "svg"):
        raise InputError(f"bad --chart-format {chart_format!r}: choose png or svg")
    from tariffscope.compose.sweep import load_spec, parse_target
    from tariffscope.report.outfiles import check_output_dir

    check_output_dir(out)  # before the grid runs, not after
    sweep_spec = load_spec(spec)  # a bad spec or target fails here, before the grid runs
    if target or sweep_spec.target:
        wanted = parse_target(target or sweep_spec.target or "")
        if sweep_spec.outcomes:
            named = {c[0] for c in wanted.constraints} | ({wanted.objective} if wanted.objective else set())
            unknown = sorted(named - set(sweep_spec.outcomes))
            if unknown:
                raise InputError(f"--target names outcome(s) not kept by the spec: {', '.join(unknown)}; "
                                 f"outcomes: {', '.join(sweep_spec.outcomes)}")

    run = api.sweep(spec, out=out, chart_format=chart_format, target=target, backend=backend, workers=workers,
                    cluster=cluster, progress=progress, charts=charts)
    res = run.result
    if fmt == "json":
        console.print_json(json.dumps(run.to_dict(), default=str))
        return
    axes = ", ".join(f"{a.name} {len(a.grid_values())} values" for a in res.spec.grid)
    console.print(f"sweep {res.spec.name} ({res.spec.model}): {res.spec.size:,} grid points ({axes}) "
                  f"on {res.backend} x{res.workers} in {res.seconds:.1f} s", highlight=False)
    for f in run.files:
        console.print(f"  wrote {f}", highlight=False)
    w = res.to_frame(wide=True)
    axes_txt = ", ".join(res.axes)
    t = Table(title=f"outcomes across the grid (points are ({axes_txt}))",
              caption="source: " + "; ".join(s["source"] for s in res.sources))
    for col in ("outcome", "unit", "first point", "min", "at", "max", "at"):
        t.add_column(col, no_wrap=col in ("outcome", "at"))

    def at(i: int) -> str:
        return "(" + ", ".join(f"{w.at[i, a]:g}" for a in res.axes) + ")"

    for o in res.outcomes:
        col = w[o.name].astype(float)
        if col.notna().any():
            lo, hi = int(col.idxmin()), int(col.idxmax())
            t.add_row(o.name, o.unit, _num(col.iloc[0], o.unit), _num(col[lo], o.unit), at(lo),
                      _num(col[hi], o.unit), at(hi))
        else:
            t.add_row(o.name, o.unit, "-", "-", "", "-", "")
    console.print(t)
    if run.target is not None:
        tg = run.target
        if not tg.found:
            raise InputError(f"no grid point of {res.spec.size:,} meets the target: {tg.target}")
        params = ", ".join(f"{k} = {v:g}" for k, v in tg.params.items())
        console.print(f"target {tg.target}: {tg.feasible:,} of {res.spec.size:,} points meet the "
                      f"constraints; best is point {tg.point}: {params}", highlight=False)
        units = {o.name: o.unit for o in res.outcomes}
        for k, v in tg.outcomes.items():
            u = units.get(k, "")
            console.print(f"  {k} = {_num(v, u)}" + (f" {u}" if u and u != "usd" else ""), highlight=False)


def _num(v: object, unit: str = "") -> str:
    try:
        x = float(v)  # type: ignore[arg-type]  # any object: what float() refuses is caught below
    except (TypeError, ValueError):
        return "-"
    if x != x:
        return "-"
    if unit.lower() == "usd" and abs(x) >= 1e6:
        return f"{x / 1e9:,.3f} bn"
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"
