"""CLI commands of the data area: ``data ingest``, ``data status`` (and ``data pull``, see fetch)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from tariffscope import api
from tariffscope.clicmd._app import data_app
from tariffscope.errors import InputError, TariffscopeError

console = Console(width=160, markup=False)  # user text is never read as markup


@data_app.command("ingest")
def ingest_cmd(
    paths: list[Path] = typer.Argument(..., help="File(s) or directories of files to ingest: Census API JSON/Parquet, USA Trade Online CSV, DataWeb CSV, Comtrade CSV/JSON, HTS JSON(.gz), FRED CSV, ..."),
    source: str | None = typer.Option(None, "--source", help="Kind of file, when auto-detection cannot tell (e.g. census_api, hts_json, fred_csv)."),
    source_id: str | None = typer.Option(None, "--source-id", help="Source id to file the rows under (default: <kind>:<file name>)."),
    flow: str | None = typer.Option(None, "--flow", help="imports|exports, for Japan customs CSVs without an 'Exp or Imp' column."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Ingest files into the warehouse in one transaction: all of them or none; the same file twice is a no-op.

    Example: tariffscope data ingest ../shared/data/fx/DEXJPUS_daily_2021-05_2026-05.csv
    """
    if fmt not in ("table", "json"):
        raise InputError(f"bad --format {fmt!r}: choose table or json")
    options: dict[str, Any] = {"flow": flow} if flow else {}
    _check_all(paths, source)  # every file is checked before the first one is ingested
    try:
        results = api.ingest_many(paths, kind=source, source=source_id, **options)
    except TariffscopeError as exc:
        if len(paths) == 1 and not paths[0].is_dir():
            raise
        # one transaction for the batch: a refused file leaves the warehouse as it was
        raise InputError(f"nothing ingested (the files are ingested together or not at all): {exc}") from None
    if fmt == "json":
        print(json.dumps([r.to_dict() for r in results], indent=2, default=str))
        return
    for r in results:
        console.print(r.message, highlight=False, soft_wrap=True)
        if r.status == "ingested":
            console.print(f"  vintage: {r.vintage}", highlight=False, soft_wrap=True)
            for n in r.notes:
                console.print(f"  note: {n}", highlight=False, soft_wrap=True)


def _check_all(paths: list[Path], kind: str | None) -> None:
    """Refuse the whole command, before any ingest, if any file is missing or of no known kind."""
    from tariffscope.ingest.core import detect_kind, files_in

    problems = []
    for p in paths:
        if p.is_dir():
            try:
                inside = files_in([p])
            except TariffscopeError as exc:
                problems.append(str(exc))
                continue
        elif not p.is_file():
            problems.append(f"{p}: no such file")
            continue
        else:
            inside = [p]
        if kind is None:
            for f in inside:
                try:
                    detect_kind(f)
                except TariffscopeError as exc:
                    problems.append(str(exc))
    if problems:
        raise InputError("nothing ingested: " + "; ".join(problems))


@data_app.command("status")
def status_cmd(fmt: str = typer.Option("table", "--format", help="table or json."),
               check: bool = typer.Option(False, "--check", help="Read every row of every table (checksums, no NaN/inf); exit 1 if any fails.")) -> None:
    """What the warehouse holds: sources, vintages, periods covered, row counts.

    Example: tariffscope data status --format json
    """
    if fmt not in ("table", "json"):
        raise InputError(f"bad --format {fmt!r}: choose table or json")
    if check:
        _check_cmd(fmt)
        return
    st = api.data_status()
    if fmt == "json":
        print(json.dumps(st.to_dict(), indent=2, default=str))
        return
    table = Table(title=f"Warehouse {st.warehouse} (schema v{st.schema_version})", show_lines=False)
    for col in ("source", "contents", "periods", "rows", "vintage"):
        table.add_column(col, overflow="fold", no_wrap=col in ("source", "rows"))
    for s in st.sources:
        rows = ", ".join(f"{n:,} {t}" for t, n in s["rows"].items())
        table.add_row(s["source"], s["contents"] or "", s["periods"] or "", rows, s["vintage"] or "")
    console.print(table)
    console.print(
        "Tables: " + ", ".join(f"{t} {n:,}" for t, n in st.tables.items() if t not in ("schema_version",)),
        highlight=False, soft_wrap=True,
    )


def _check_cmd(fmt: str) -> None:
    """``data status --check``: every table read in full; a damaged one is named with the way out."""
    from tariffscope import db
    from tariffscope.errors import WarehouseError
    from tariffscope.ingest.warehouse import open_warehouse

    path = db._default_path()
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run 'tariffscope data status' once to create it")
    con = open_warehouse(path, read_only=True)  # check the file as it is: nothing loaded, nothing written
    try:
        results = db.check_tables(con)
    finally:
        con.close()
    bad = [r for r in results if not r["ok"]]
    if fmt == "json":
        print(json.dumps({"warehouse": str(path), "ok": not bad, "tables": results}, indent=2))
    else:
        table = Table(title=f"Warehouse check {path}")
        for col in ("table", "rows", "result"):
            table.add_column(col, overflow="fold")
        for r in results:
            table.add_row(r["table"], "" if r["rows"] is None else f"{r['rows']:,}", "ok" if r["ok"] else r["error"])
        console.print(table)
    if bad:
        raise WarehouseError(f"{len(bad)} of {len(results)} tables failed the check ({', '.join(r['table'] for r in bad)}): "
                             f"{db.REBUILD_HINT}")
    if fmt != "json":
        console.print(f"all {len(results)} tables read in full: checksums good, no NaN or infinite values", highlight=False)


@data_app.command("rebuild")
def rebuild_cmd(fmt: str = typer.Option("table", "--format", help="table or json.")) -> None:
    """Re-create the warehouse from the embedded data and the logged ingests (the old file is kept aside).

    Example: tariffscope data rebuild
    """
    if fmt not in ("table", "json"):
        raise InputError(f"bad --format {fmt!r}: choose table or json")
    from tariffscope.ingest.warehouse import rebuild

    rep = rebuild()
    if fmt == "json":
        print(json.dumps(rep.to_dict(), indent=2, default=str))
        return
    if rep.moved_to:
        console.print(f"old warehouse kept as {rep.moved_to}", highlight=False, soft_wrap=True)
    console.print(f"rebuilt {rep.warehouse}: embedded data loaded; {len(rep.reingested)} logged ingest(s) re-ingested, "
                  f"{len(rep.skipped)} skipped", highlight=False, soft_wrap=True)
    for r in rep.reingested:
        console.print(f"  {r['status']}: {r['path']} ({r['kind']})" + (f"; {r['note']}" if r["note"] else ""),
                      highlight=False, soft_wrap=True)
    for r in rep.skipped:
        console.print(f"  skipped: {r['path']}: {r['reason']}", highlight=False, soft_wrap=True)
    for n in rep.notes:
        console.print(f"  note: {n}", highlight=False, soft_wrap=True)


pull_app = typer.Typer(help="Pull data from the publishers' APIs (Census, USITC HTS, FRED) and ingest it.", no_args_is_help=True)
data_app.add_typer(pull_app, name="pull")


def _show_pull(res, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(res.to_dict(), indent=2, default=str))
    else:
        console.print(res.message, highlight=False, soft_wrap=True)


@pull_app.command("census")
def pull_census_cmd(
    flow: str = typer.Option("imports", "--flow", help="imports (imports/hs) or exports (exports/hs)."),
    partner: str = typer.Option("JPN", "--partner", help="Country (JPN, Japan, 5880) or WLD for all countries."),
    year: int = typer.Option(2024, "--year"),
    month: int | None = typer.Option(None, "--month", help="A month (monthly _MO values); default: the year (_YR through December)."),
    level: str = typer.Option("HS10", "--level", help="HS2, HS4, HS6 or HS10."),
    commodity: str | None = typer.Option(None, "--commodity", help="HS code filter, e.g. 8703 or 8703*."),
    no_ingest: bool = typer.Option(False, "--no-ingest", help="Only download."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Pull the Census international trade API (imports/hs or exports/hs) and ingest the answer.

    Example: tariffscope data pull census --flow imports --partner JPN --year 2024 --level HS10
    """
    _show_pull(api.pull("census", flow=flow, partner=partner, year=year, month=month, level=level,
                        commodity=commodity, ingest=not no_ingest), fmt)


@pull_app.command("hts")
def pull_hts_cmd(
    revision: str = typer.Argument(..., help="Revision: 2025_basic, 2025_rev_17, 2026_rev_10 ..."),
    rest: bool = typer.Option(False, "--rest", help="Use the REST export (serves only the current release)."),
    no_ingest: bool = typer.Option(False, "--no-ingest", help="Only download."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Pull one HTS revision as USITC JSON and ingest it (lines, Chapter 99, revision row).

    Example: tariffscope data pull hts 2026_rev_10
    """
    _show_pull(api.pull("hts", revision=revision, rest=rest, ingest=not no_ingest), fmt)


@pull_app.command("fred")
def pull_fred_cmd(
    series: str = typer.Argument("DEXJPUS", help="FRED series id: DEXJPUS (daily yen per dollar), EXJPUS (monthly) ..."),
    start: str | None = typer.Option(None, "--start", help="First date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--end", help="Last date, YYYY-MM-DD."),
    no_ingest: bool = typer.Option(False, "--no-ingest", help="Only download."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Pull a FRED exchange-rate series as CSV and ingest it.

    Example: tariffscope data pull fred DEXJPUS --start 2025-01-01
    """
    _show_pull(api.pull("fred", series=series, start=start, end=end, ingest=not no_ingest), fmt)
