"""Opening the warehouse ready to use: connected and migrated (``db``), filled with the embedded data.

``db`` is the lowest layer and knows connections and schema only; filling a new warehouse with the
package's embedded fact tables is an ingest (``ingest.embedded``). This module composes the two, one
layer above ``db``, so that ``db`` never imports ``ingest``. Everything that needs the data (the domain,
the API, the front ends through ``api.open_warehouse``) opens the warehouse here.
"""
from __future__ import annotations

from pathlib import Path

from tariffscope import db
from tariffscope.ingest import embedded


def open_warehouse(path: str | Path | None = None, read_only: bool = False) -> db.Connection:
    """Connect, migrate, and on first use load the embedded fact tables shipped with the package.

    ``read_only`` opens an existing warehouse as it is (nothing loaded, nothing written).
    """
    if read_only:
        return db.connect(path, read_only=True)
    con = db.connect(path)
    embedded.ensure_loaded(con)
    return con
