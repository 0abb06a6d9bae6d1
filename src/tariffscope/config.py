"""Paths and defaults: where the warehouse lives, where the raw shared data are."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
EMBEDDED_DIR = PACKAGE_DIR / "data" / "embedded"
REPO_DIR = PACKAGE_DIR.parents[1]  # src/tariffscope -> repo root (editable installs)


def home() -> Path:
    """``$TARIFFSCOPE_HOME`` (default ``~/.tariffscope``), created on first use."""
    path = Path(os.environ.get("TARIFFSCOPE_HOME", Path.home() / ".tariffscope")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_path() -> Path:
    return home() / "warehouse.duckdb"


def raw_data_dir() -> Path:
    """The read-only raw inputs (``../shared/data`` beside the repository, or ``$TARIFFSCOPE_RAW_DATA``)."""
    env = os.environ.get("TARIFFSCOPE_RAW_DATA")
    if env:
        return Path(env).expanduser()
    return (REPO_DIR.parent / "shared" / "data").resolve()

