"""The ``tariffscope`` command line: a typer app whose commands parse options, call ``api``, render.

Commands live in ``tariffscope.clicmd.*`` (one module per area) and register themselves on the apps of
``tariffscope.clicmd._app``; this module sits above them, imports them and runs the app.

Every failure a user can cause ends as one line on stderr and a non-zero exit code, never a traceback:

* a ``TariffscopeError`` (bad input, missing data, a damaged warehouse...): ``Error: ...``, exit 1;
* a usage error (unknown option, a value of the wrong type, a missing argument): ``Error: ...`` with a
  pointer to ``--help``, exit 2;
* what the operating system refuses (a directory where a file was wanted, a full or read-only disk, no
  permission), a file that is not UTF-8 text or not readable CSV, input nested too deeply or too large for
  memory: exit 1.

Anything else is a bug in tariffscope and keeps its traceback, so that it can be reported and fixed.
"""
from __future__ import annotations

import csv
import errno
import sys

import typer
from rich.text import Text

from tariffscope import db
from tariffscope.clicmd._app import app, err_console
from tariffscope.errors import TariffscopeError

# ``tariffscope.cli.app`` stays the assembled command group (after ``_register()``): tests and docs walk it
__all__ = ["app", "main", "run"]

EXIT_ERROR = 1  # the command could not do what was asked (bad input, missing data, refused by the OS)
EXIT_USAGE = 2  # the command line itself is wrong (as click does)


def _register() -> None:
    # Importing each module registers its commands on the apps of clicmd._app.
    from tariffscope.clicmd import (  # noqa: F401  (imported for their side effect: registration)
        backtest,
        calibrate,
        codes,
        data,
        demo,
        formula,
        gravity,
        report,
        scale,
        scenarios,
        tariffs,
        trade,
    )


def _click_exceptions() -> tuple[type[BaseException], ...]:
    # typer 0.29 raises its own copies of click's exceptions (typer._click); older typers raise click's.
    kinds: list[type[BaseException]] = []
    try:
        from typer._click.exceptions import ClickException as TyperClickException

        kinds.append(TyperClickException)
    except ImportError:  # pragma: no cover - typer without a vendored click
        pass
    try:
        import click

        kinds.append(click.exceptions.ClickException)
    except ImportError:  # pragma: no cover - click not installed
        pass
    return tuple(kinds)


def error_line(message: str) -> None:
    """Print ``Error: message`` on stderr as one line; the message is never read as Rich markup."""
    err_console.print(Text.assemble(("Error:", "bold red"), " ", message.strip()), highlight=False, soft_wrap=True)


def os_error_message(exc: OSError) -> str:
    """One line for an error the operating system raised: which file, and what it refused."""
    what = {
        errno.ENOSPC: "no space left on the disk",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EISDIR: "is a directory, not a file",
        errno.ENOTDIR: "a part of the path is a file, not a directory",
        errno.ENOENT: "no such file or directory",
        errno.EEXIST: "already exists",
        errno.ENAMETOOLONG: "file name too long",
        errno.ELOOP: "too many levels of symbolic links",
    }.get(exc.errno or -1, exc.strerror or type(exc).__name__)
    where = exc.filename if exc.filename is not None else ""
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    return f"{where}: {what}" if where else what


def _usage_message(exc: BaseException) -> str:
    msg = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    opt = getattr(exc, "option_name", "") or ""
    if type(exc).__name__ == "NoSuchOption" and opt[:2].lstrip("-")[:1].isdigit():
        # '-8703230140' is read as option -8: a value starting with '-' goes after '--'
        msg += "; a value that starts with '-' goes after '--', e.g. tariffscope duty -- -8703230140"
    if ctx is not None and getattr(exc, "exit_code", 1) == EXIT_USAGE:
        msg += f" (see '{ctx.command_path} --help')"
    return msg


def main(argv: list[str] | None = None) -> int:
    _register()
    click_errors = _click_exceptions()
    try:
        rv = app(args=argv, standalone_mode=False)
    except TariffscopeError as exc:
        error_line(str(exc))
        return _exit(EXIT_ERROR)
    except typer.Exit as exc:
        return _exit(exc.exit_code)
    except typer.Abort:
        error_line("aborted")
        return _exit(EXIT_ERROR)
    except KeyboardInterrupt:
        error_line("interrupted")
        return _exit(130)
    except click_errors as exc:  # usage errors: unknown option, bad value, missing argument...
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()  # type: ignore[attr-defined]  # click's ClickException.show; typer's copy shares it
            # (a bare group prints its help, as click does; exit 2)
        else:
            error_line(_usage_message(exc))
        return _exit(int(getattr(exc, "exit_code", EXIT_USAGE)))
    except db.DatabaseError as exc:  # a damaged warehouse shows while reading it, not only when opening it
        msg = db.damage_message(exc) or db.write_failure_message(exc)  # or a write the disk refused
        if msg is None:
            raise
        error_line(msg)
        return _exit(EXIT_ERROR)
    except UnicodeError as exc:
        # a text file in another encoding (UTF-16, Latin-1...): the readers take UTF-8
        error_line(f"cannot read the input as UTF-8 text ({getattr(exc, 'reason', exc)}): save the file as UTF-8")
        return _exit(EXIT_ERROR)
    except OSError as exc:
        error_line(os_error_message(exc))
        return _exit(EXIT_ERROR)
    except csv.Error as exc:  # a CSV a reader outside ingest opened (--partner-figures...): the same one line
        from tariffscope.ingest.common import csv_error_reason

        error_line(f"cannot read the CSV input: {csv_error_reason(exc)}")
        return _exit(EXIT_ERROR)
    except RecursionError:
        error_line("the input is nested too deeply to read")
        return _exit(EXIT_ERROR)
    except MemoryError:
        error_line("out of memory: the input or the requested run is too large for this machine")
        return _exit(EXIT_ERROR)
    # Outside standalone mode typer returns the code of a ``typer.Exit`` raised inside a command.
    return _exit(rv if isinstance(rv, int) and not isinstance(rv, bool) else 0)


def _exit(code: int | None) -> int:
    code = int(code or 0)
    if __name__ == "__main__":
        sys.exit(code)
    return code


def run() -> None:  # console script entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
