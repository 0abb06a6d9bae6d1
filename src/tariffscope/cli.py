"""The ``tariffscope`` command line: a typer app whose commands parse options, call ``api``, render.

Commands live in ``tariffscope.clicmd.*`` (one module per area) and register themselves on ``app``
or on its sub-apps. Any ``TariffscopeError`` becomes one line ``Error: ...`` and exit code 1.
"""
from __future__ import annotations

import sys

import typer
from rich.console import Console

from tariffscope.errors import TariffscopeError

app = typer.Typer(
    name="tariffscope",
    help="Trade imbalances and US tariff policy from official data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Load, pull and inspect data in the warehouse.", no_args_is_help=True)
measures_app = typer.Typer(help="The tariff measure catalogue: list, show, check against the HTS.", no_args_is_help=True)
scenarios_app = typer.Typer(help="Scenario files: list, show, validate.", no_args_is_help=True)
gravity_app = typer.Typer(help="Structural gravity: PPML estimation.", no_args_is_help=True)
ge_app = typer.Typer(help="General-equilibrium counterfactuals.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(measures_app, name="measures")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(gravity_app, name="gravity")
app.add_typer(ge_app, name="ge")

console = Console()
err_console = Console(stderr=True)


def _register() -> None:
    # Importing each module registers its commands on the apps above.
    from tariffscope.clicmd import codes, data, demo, gravity, report, scale, scenarios, tariffs, trade  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    _register()
    try:
        app(args=argv, standalone_mode=False)
    except TariffscopeError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        return _exit(1)
    except typer.Exit as exc:
        return _exit(exc.exit_code)
    except typer.Abort:
        err_console.print("Aborted.")
        return _exit(1)
    except Exception as exc:  # click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return _exit(exc.exit_code)
        raise
    return _exit(0)


def _exit(code: int | None) -> int:
    code = int(code or 0)
    if __name__ == "__main__":
        sys.exit(code)
    return code


def run() -> None:  # console script entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
