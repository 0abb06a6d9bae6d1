"""Shared fixtures: every test session gets its own TARIFFSCOPE_HOME; raw data from ../shared/data.

Tests that read the raw files carry the ``raw`` marker. Without the raw folder they are skipped with
the reason (``-ra`` lists them); with ``TARIFFSCOPE_REQUIRE_RAW=1`` (for CI, which has the folder) a
missing folder is an error instead. A test that asks for the ``raw`` fixture without the marker is a
collection error, so the marker cannot drift from what the test reads.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RAW = Path(os.environ.get("TARIFFSCOPE_RAW_DATA") or REPO.parent / "shared" / "data").resolve()
HAVE_RAW = RAW.is_dir()
SKIP_REASON = f"raw data not found at {RAW} (put ../shared/data beside the repository or set TARIFFSCOPE_RAW_DATA)"


def pytest_configure(config: pytest.Config) -> None:
    if not HAVE_RAW and os.environ.get("TARIFFSCOPE_REQUIRE_RAW") == "1":
        raise pytest.UsageError(f"TARIFFSCOPE_REQUIRE_RAW=1 but {SKIP_REASON}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = [it.nodeid for it in items if "raw" in getattr(it, "fixturenames", ()) and it.get_closest_marker("raw") is None]
    if unmarked:
        raise pytest.UsageError("tests use the 'raw' fixture without the 'raw' marker: " + ", ".join(unmarked))
    if HAVE_RAW:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for it in items:
        if it.get_closest_marker("raw") is not None:
            it.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Never touch the user's ~/.tariffscope: one home per test session (per xdist worker)."""
    home = tmp_path_factory.mktemp("tariffscope_home")
    os.environ["TARIFFSCOPE_HOME"] = str(home)
    if HAVE_RAW:  # for the ingest code under test (its revision_dates.csv fallback) and the build scripts
        os.environ["TARIFFSCOPE_RAW_DATA"] = str(RAW)
    return home


@pytest.fixture(scope="session")
def raw() -> Path:
    """The raw shared data directory (tests that use it carry the ``raw`` marker and skip without it)."""
    if not HAVE_RAW:
        pytest.skip(SKIP_REASON)
    return RAW


@pytest.fixture(scope="session")
def warehouse(_isolated_home: Path):
    """The session's warehouse with the embedded data loaded (read it; copy it before writing)."""
    from tariffscope.ingest.warehouse import open_warehouse

    con = open_warehouse(read_only=False)  # the process's one connection mode: tests also ingest into this home
    yield con
    con.close()
