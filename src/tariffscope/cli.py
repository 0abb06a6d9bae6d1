"""The ``tariffscope`` command line: a typer app whose commands parse options, call ``api``, render.

Commands live in ``tariffscope.clicmd.*`` (one module per area) and register themselves on the apps of
``tariffscope.clicmd._app``; this module sits above them, imports them and runs the app. Any
``TariffscopeError`` becomes one line ``Error: ...`` and exit code 1.
"""
from __future__ import annotations

import sys

import typer

from tariffscope.clicmd._app import app, err_console
from tariffscope.errors import TariffscopeError

# ``tariffscope.cli.app`` stays the assembled command group (after ``_register()``): tests and docs walk it
__all__ = ["app", "main", "run"]


def _register() -> None:
    # Importing each module registers its commands on the apps of clicmd._app.
    from tariffscope.clicmd import codes, data, demo, gravity, report, scale, scenarios, tariffs, trade  # noqa: F401
    from tariffscope.clicmd import backtest  # noqa: F401,E402  (the PE backtest)
    from tariffscope.clicmd import formula  # noqa: F401,E402  (the reciprocal formula, issue 13)


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
