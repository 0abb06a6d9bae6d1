"""Shared fixtures: every test session gets its own TARIFFSCOPE_HOME; raw data from ../shared/data."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAW = Path(os.environ.get("TARIFFSCOPE_RAW_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Never touch the user's ~/.tariffscope: one home per test session (per xdist worker)."""
    home = tmp_path_factory.mktemp("tariffscope_home")
    os.environ["TARIFFSCOPE_HOME"] = str(home)
    os.environ["TARIFFSCOPE_RAW_DATA"] = str(RAW)
    return home


@pytest.fixture(scope="session")
def raw() -> Path:
    """The raw shared data directory; tests that need it are skipped loudly if it is missing."""
    if not RAW.is_dir():
        pytest.fail(f"raw data not found at {RAW} (set TARIFFSCOPE_RAW_DATA)")
    return RAW


@pytest.fixture(scope="session")
def warehouse(_isolated_home: Path):
    """The session's warehouse with the embedded data loaded (read it; copy it before writing)."""
    from tariffscope.ingest.warehouse import open_warehouse

    con = open_warehouse(read_only=False)  # the process's one connection mode: tests also ingest into this home
    yield con
    con.close()
