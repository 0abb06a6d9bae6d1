"""The public surface: every name in ``tariffscope.__all__`` resolves, every API function says what it returns,
and the classes it returns are exported (and loaded only when asked for)."""
from __future__ import annotations

import ast
import datetime
import inspect
import subprocess
import sys
import typing
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

import tariffscope
from tariffscope import api, db

INIT = Path(tariffscope.__file__)


def test_every_name_in_all_resolves() -> None:
    missing = [n for n in tariffscope.__all__ if not hasattr(tariffscope, n)]
    assert not missing, f"in tariffscope.__all__ but not importable: {missing}"
    assert len(set(tariffscope.__all__)) == len(tariffscope.__all__), "a name is listed twice in __all__"


def test_result_classes_import_from_the_package() -> None:
    from tariffscope import BalanceResult, DutyResult, EtrResult, SimulationResult

    assert api.balance.__annotations__["return"] == "BalanceResult | BalanceTable"
    for cls in (BalanceResult, DutyResult, EtrResult, SimulationResult):
        assert inspect.isclass(cls) and cls.__name__ in tariffscope.__all__
    with pytest.raises(AttributeError, match="no attribute 'NoSuchResult'"):
        tariffscope.NoSuchResult  # noqa: B018 - the attribute access is what must raise


def _public_functions() -> list[str]:
    return [n for n in api.__all__ if inspect.isfunction(getattr(api, n))]


def test_every_api_function_has_a_return_annotation() -> None:
    names = _public_functions()
    assert len(names) >= 30
    lacking = [n for n in names if inspect.signature(getattr(api, n)).return_annotation is inspect.Signature.empty]
    assert not lacking, f"api functions with no return type: {lacking}"


def test_api_annotations_resolve_to_exported_classes() -> None:
    # Resolve each function's annotations with only the public namespace (plus the libraries whose types
    # the API passes through): a result class that is not exported from tariffscope fails here by name.
    public = {n: getattr(tariffscope, n) for n in tariffscope.__all__}
    localns = public | {"db": db, "pa": pa, "httpx": httpx, "dt": datetime}
    unresolved = {}
    for n in _public_functions():
        try:
            typing.get_type_hints(getattr(api, n), localns=localns)
        except NameError as exc:
            unresolved[n] = str(exc)
    assert not unresolved, f"annotations naming classes tariffscope does not export: {unresolved}"


def test_lazy_exports_match_their_type_checking_imports() -> None:
    # __init__ lists each result class twice (for type checkers, and for loading on first use): same names, same modules
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    declared = {a.name: node.module for node in block.body if isinstance(node, ast.ImportFrom) for a in node.names}
    assert declared == tariffscope._RESULT_TYPES
    for name, module in declared.items():
        assert getattr(tariffscope, name).__module__ == module, f"{name} is defined elsewhere than {module}"


def test_importing_the_package_loads_no_area() -> None:
    # every CLI start imports tariffscope: the result classes must not pull in the areas (pandas, pyfixest...)
    code = ("import sys, tariffscope; "
            "print(sorted(m for m in sys.modules if m.startswith(('tariffscope.trade', 'tariffscope.models', "
            "'tariffscope.scenarios', 'tariffscope.tariffs'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
