"""The docs cannot drift from the CLI: every command is documented, the README starts with the two commands."""
from __future__ import annotations

from pathlib import Path

import typer.main

from tariffscope import cli

REPO = Path(__file__).resolve().parents[1]


def _command_paths() -> list[str]:
    cli._register()
    group = typer.main.get_command(cli.app)
    paths: list[str] = []

    def walk(cmd, prefix: str) -> None:
        for name, sub in getattr(cmd, "commands", {}).items():
            path = f"{prefix} {name}".strip()
            if getattr(sub, "commands", None):
                walk(sub, path)
            else:
                paths.append(path)

    walk(group, "")
    return paths


def test_readme_starts_with_the_two_commands():
    text = (REPO / "README.md").read_text()
    block = text.split("```", 2)[1].strip().splitlines()
    assert block == ["make demo", "make test"]


def test_every_command_is_documented_with_an_example():
    docs = (REPO / "README.md").read_text() + "".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))
    missing = [p for p in _command_paths() if f"tariffscope {p}" not in docs]
    assert not missing, f"commands with no 'tariffscope <command>' example in README/docs: {missing}"


def test_every_command_has_help_text():
    cli._register()
    group = typer.main.get_command(cli.app)

    def walk(cmd, prefix=""):
        for name, sub in getattr(cmd, "commands", {}).items():
            if getattr(sub, "commands", None):
                yield from walk(sub, f"{prefix}{name} ")
            else:
                yield f"{prefix}{name}", (sub.help or "").strip()

    empty = [name for name, text in walk(group) if not text]
    assert not empty, f"commands without help: {empty}"


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()
