"""The import graph of ``src/tariffscope`` follows the layers written in ``tariffscope/compose/__init__.py``.

Every module is parsed with ``ast`` (nothing is imported or run), and every import counts: top-level,
inside functions, under ``if TYPE_CHECKING:``, and ``importlib.import_module("tariffscope....")`` with a
literal (or f-string with a literal prefix) name. A module may import its own layer or lower ones:

    data      config, errors, types -> db -> codes -> ingest
    domain    parallel -> tariffs -> trade | models | panels -> scenarios
    compose   compose (and a top-level sweep package, if any)
    api       api
    front     report -> web -> clicmd -> cli -> tariffscope/__init__

Inside data and front ends the order is total (db is the lowest thing that touches the warehouse; the
CLI commands in clicmd never import cli.py, which assembles them). Inside the domain, areas of the same
rank are independent of each other: trade, models and panels may use the tariff vocabulary and engine
below them but never one another, and only scenarios combine areas; anything else that feeds one area's
results into another's model belongs in compose. Modules of one area (one package) may import each
other freely.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "tariffscope"

# (layer, rank within the layer) of each top-level module or package of tariffscope. A module whose
# top-level name is missing here fails the test: a new module must be given a layer.
LAYERS: dict[str, tuple[int, int]] = {
    # data
    "config": (0, 0), "errors": (0, 0), "types": (0, 0),
    "db": (0, 1),
    "codes": (0, 2),
    "ingest": (0, 3),
    # domain
    "parallel": (1, 0),
    "tariffs": (1, 1),
    "trade": (1, 2), "models": (1, 2), "panels": (1, 2),
    "scenarios": (1, 3),
    # composition above the domain
    "compose": (2, 0),
    # the facade
    "api": (3, 0),
    # front ends
    "report": (4, 0),
    "web": (4, 1),
    "clicmd": (4, 2),
    "cli": (4, 3),
    "": (4, 4),  # tariffscope/__init__.py: the curated public surface
}
LAYER_NAMES = ("data", "domain", "compose", "api", "front end")

# Violations other branches are fixing in parallel (domain modules that import the facade). The lead
# empties this set when those branches are merged; nothing may be added to it.
PENDING: set[tuple[str, str]] = set()  # selfcontained: ge_spec's engine rates moved to compose/ge_rates


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    imported: str  # dotted module name (the submodule when ``from pkg import submodule``)
    line: int


def module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _dynamic_target(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module("tariffscope.x")`` (or an f-string's literal prefix)."""
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if name not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        prefix = str(arg.values[0].value)
        return prefix.rsplit(".", 1)[0] if "." in prefix else None
    return None


def imports_of(path: Path, name: str, modules: set[str]) -> list[Import]:
    """Every import of a tariffscope module in one source file, wherever it sits in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []

    def add(target: str, line: int) -> None:
        imp = Import(name, target, line)
        if (target == PACKAGE or target.startswith(PACKAGE + ".")) and imp not in found:
            found.append(imp)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            for alias in node.names:
                sub = f"{base_name}.{alias.name}"
                # ``from tariffscope import api`` imports the module tariffscope.api
                add(sub if sub in modules else base_name, node.lineno)
        elif isinstance(node, ast.Call):
            target = _dynamic_target(node)
            if target:
                add(target, node.lineno)
    return found


def source_modules(src: Path) -> dict[str, Path]:
    return {module_name(p, src): p for p in sorted((src / PACKAGE).rglob("*.py"))}


def layer_of(module: str) -> tuple[int, int]:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top not in LAYERS:
        raise KeyError(f"{module}: no layer for tariffscope.{top}: add it to LAYERS in tests/test_layers.py")
    return LAYERS[top]


def area_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def allowed(importer: str, imported: str) -> bool:
    if area_of(importer) == area_of(imported):
        return True
    (layer_a, rank_a), (layer_b, rank_b) = layer_of(importer), layer_of(imported)
    if layer_a != layer_b:
        return layer_b < layer_a
    # same layer, different areas: only strictly lower ranks (same-rank domain areas stay independent)
    return rank_b < rank_a


def violations(src: Path) -> list[Import]:
    modules = source_modules(src)
    found = [imp for name, path in modules.items() for imp in imports_of(path, name, set(modules))]
    return [imp for imp in found if not allowed(imp.importer, imp.imported)]


def describe(imp: Import) -> str:
    a, b = layer_of(imp.importer), layer_of(imp.imported)
    return (f"{imp.importer} (line {imp.line}, {LAYER_NAMES[a[0]]}) imports {imp.imported} "
            f"({LAYER_NAMES[b[0]]}{', same layer, not below it' if a[0] == b[0] else ''})")


# --- the real tree ---------------------------------------------------------------------------------


def test_every_module_has_a_layer() -> None:
    unknown = set()
    for name in source_modules(SRC):
        try:
            layer_of(name)
        except KeyError as exc:
            unknown.add(str(exc))
    assert not unknown, "\n".join(sorted(unknown))


def test_imports_follow_the_layers() -> None:
    found = violations(SRC)
    new = [imp for imp in found if (imp.importer, imp.imported) not in PENDING]
    assert not new, "imports against the layers:\n" + "\n".join(describe(i) for i in new)


def test_pending_entries_are_still_violations() -> None:
    # once a branch lands its fix, its PENDING entry must go (the set only ever shrinks)
    found = {(imp.importer, imp.imported) for imp in violations(SRC)}
    stale = PENDING - found
    assert not stale, f"fixed, remove from PENDING: {sorted(stale)}"


def test_no_domain_module_imports_the_facade() -> None:
    # the rule the layers exist for, stated on its own: models/, scenarios/, tariffs/, trade/ never
    # import tariffscope.api (pending fixes excepted until their branches merge)
    found = [imp for imp in violations(SRC) if imp.imported == "tariffscope.api"
             and area_of(imp.importer) in ("models", "scenarios", "tariffs", "trade")
             and (imp.importer, imp.imported) not in PENDING]
    assert not found, "\n".join(describe(i) for i in found)


# --- the checker itself fails on violating code -----------------------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / PACKAGE / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a domain module importing the facade inside a function
        ({"api.py": "", "models/__init__.py": "", "models/ge.py": "def f():\n    from tariffscope import api\n"},
         ("tariffscope.models.ge", "tariffscope.api")),
        # the lowest data module reaching up into ingest
        ({"db.py": "from tariffscope.ingest import embedded\n", "ingest/__init__.py": "", "ingest/embedded.py": ""},
         ("tariffscope.db", "tariffscope.ingest.embedded")),
        # ingest knowing the tariff domain, through a relative import
        ({"tariffs/__init__.py": "", "tariffs/schedule.py": "", "ingest/__init__.py": "",
          "ingest/hts.py": "from ..tariffs.schedule import parse_rate\n"},
         ("tariffscope.ingest.hts", "tariffscope.tariffs.schedule")),
        # a CLI command module importing the module that assembles the CLI
        ({"cli.py": "", "clicmd/__init__.py": "", "clicmd/trade.py": "import tariffscope.cli\n"},
         ("tariffscope.clicmd.trade", "tariffscope.cli")),
        # two independent domain areas of the same rank
        ({"trade/__init__.py": "", "trade/balance.py": "", "models/__init__.py": "",
          "models/pe.py": "from tariffscope.trade.balance import balance\n"},
         ("tariffscope.models.pe", "tariffscope.trade.balance")),
        # api reaching up into a front end, by name at run time
        ({"api.py": "import importlib\nm = importlib.import_module(f'tariffscope.report.{1}')\n",
          "report/__init__.py": ""},
         ("tariffscope.api", "tariffscope.report")),
    ],
)
def test_checker_catches_a_violation(tmp_path: Path, files: dict[str, str], expected: tuple[str, str]) -> None:
    found = [(i.importer, i.imported) for i in violations(_tree(tmp_path, files))]
    assert found == [expected]


def test_checker_accepts_downward_and_same_area_imports(tmp_path: Path) -> None:
    src = _tree(tmp_path, {
        "__init__.py": "from tariffscope import api\n",
        "api.py": "from tariffscope.compose import ge_rates\nfrom tariffscope.trade import balance\n",
        "compose/__init__.py": "", "compose/ge_rates.py": "from tariffscope.tariffs import engine\nfrom tariffscope.models import ge\n",
        "tariffs/__init__.py": "", "tariffs/engine.py": "from . import panel\n", "tariffs/panel.py": "from tariffscope.tariffs import engine\n",
        "models/__init__.py": "", "models/ge.py": "from tariffscope.tariffs import engine\nfrom tariffscope import parallel\n",
        "parallel.py": "", "trade/__init__.py": "", "trade/balance.py": "from tariffscope import db\n",
        "db.py": "from tariffscope import config, errors\n", "config.py": "", "errors.py": "",
    })
    assert violations(src) == []


def test_checker_names_a_module_without_a_layer(tmp_path: Path) -> None:
    src = _tree(tmp_path, {"helpers.py": "from tariffscope import db\n", "db.py": ""})
    with pytest.raises(KeyError, match="no layer for tariffscope.helpers"):
        violations(src)
