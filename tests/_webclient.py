"""One way to stand up the web app in a test module: its own warehouse, the Host allow-list's base URL."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient


@contextmanager
def web_client(folder: Path) -> Iterator[TestClient]:
    """A TestClient on ``create_app`` with a warehouse in ``folder``; server errors come back as responses
    (500s are what the tests look for); TARIFFSCOPE_HOME is put back as it was."""
    from tariffscope.web.app import create_app

    home = os.environ.get("TARIFFSCOPE_HOME")
    app = create_app(folder / "warehouse.duckdb")
    try:
        with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:  # the Host allow-list
            yield c
    finally:
        if app.state.con is not None:
            app.state.con.close()
        if home is not None:
            os.environ["TARIFFSCOPE_HOME"] = home
