"""CLI commands: ``brief`` (the one-file HTML/Markdown brief) and ``serve`` (the local web app)."""
from __future__ import annotations

from pathlib import Path

import typer

from tariffscope.clicmd._app import app, console
from tariffscope.errors import InputError


@app.command("brief")
def brief_cmd(
    partner: str = typer.Option("JPN", "--partner", "-p", help="Partner country (JPN, Japan, JP, 5880...)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date the brief describes, e.g. 2025-12-31 (default: the latest full year loaded)."),
    out: Path = typer.Option(Path("brief.html"), "--out", "-o", help="Output file."),
    fmt: str = typer.Option("html", "--format", "-f", help="html (one self-contained file) or md."),
    draws: int = typer.Option(50, "--draws", help="Monte Carlo draws for the scenario bands (1-1000)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    timings: bool = typer.Option(False, "--timings", help="Print the build time and each section's seconds in the brief (otherwise the same data give the same bytes)."),
) -> None:
    """Build the brief: balance, monitor, tariff timeline, duty examples, scenarios, GE, sources.

    Example: tariffscope brief --partner JPN --out brief.html
    """
    if fmt not in ("html", "md"):
        raise InputError(f"--format must be html or md, got {fmt!r}")
    if as_of:
        _check_as_of(as_of)
    from tariffscope.report.brief import build_brief  # late: jinja2 and the sections load only for this command

    path = build_brief(partner=partner, as_of=as_of, out=out, fmt=fmt, progress=not quiet, draws=draws, timings=timings)
    console.print(str(path), highlight=False, soft_wrap=True)


def _check_as_of(text: str) -> None:
    """A brief describes the tariff regime on its date: refuse dates the measure catalogue does not cover."""
    import datetime as dt

    from tariffscope.scenarios.schema import catalogue_coverage

    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--as-of must be a date like 2025-12-31, got {text!r}") from None
    lo, hi = catalogue_coverage()
    if not lo <= day < hi:
        raise InputError(f"--as-of {day} is outside the measure catalogue's coverage ({lo} to {hi - dt.timedelta(days=1)})")


@app.command("serve")
def serve_cmd(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default loopback only)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    warehouse: Path | None = typer.Option(None, "--warehouse", help="Warehouse file (default $TARIFFSCOPE_HOME/warehouse.duckdb)."),
) -> None:
    """Run the local web app (pages + JSON API under /api; API list at /docs).

    Example: tariffscope serve --port 8000   then open http://127.0.0.1:8000/
    """
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be 1-65535, got {port}")
    import uvicorn

    from tariffscope.web.app import create_app
    from tariffscope.web.idle import drop_after_default

    # answers to the name it binds, and loopback; a process that only serves drops the engine's caches when idle
    application = create_app(warehouse_path=warehouse, allowed_hosts=(host,), idle_drop_s=drop_after_default())
    console.print(f"tariffscope web app on http://{host}:{port}/  (API list: http://{host}:{port}/docs)", highlight=False)
    uvicorn.run(application, host=host, port=port, log_level="warning")
