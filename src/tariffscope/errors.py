"""The one exception tree of tariffscope.

Every error a user can cause is a ``TariffscopeError``; the CLI prints its message as one line
(``Error: ...``) and exits 1, the web app returns it as JSON with a 4xx status.
"""
from __future__ import annotations

import os


class TariffscopeError(Exception):
    """Base of every error tariffscope raises on purpose."""


class InputError(TariffscopeError, ValueError):
    """A bad code, country, date, period, option or file given by the user."""


class IngestError(InputError):
    """A file that cannot be ingested: wrong header, bad number, unknown country...

    The message names the file, the line and the reason; nothing was written.
    """

    def __init__(self, path: str | os.PathLike[str], line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


class DataNotFoundError(InputError):
    """The question is well formed but the loaded data do not cover it (e.g. a period with no data)."""


class RuleError(TariffscopeError):
    """The measure catalogue or a scenario is inconsistent (schema, overlaps, unknown measure)."""


class ModelError(TariffscopeError):
    """A model could not produce an answer (non-convergence, singular system)."""


class WarehouseError(TariffscopeError):
    """The warehouse or its home cannot be used: damaged, locked by a writer, not writable, a file."""
