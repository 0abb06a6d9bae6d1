#!/usr/bin/env python
"""Checked documentation examples: the console and Python blocks of README.md and docs/*.md that carry a
``<!-- check -->`` marker are regenerated from real runs (``--write``, ``make docs``) and compared by
``tests/test_docs_examples.py``, so what the docs show is what the code prints.

The marker goes on the line before the fence::

    <!-- check: columns=200 head=12 tail=3 slow -->
    ```
    $ tariffscope balance --partner JPN --period 2024
    ...output...
    ```

Console blocks hold one or more ``$ tariffscope ...`` commands (continued with a trailing ``\\``), each
followed by its output, a blank line between them; ``$ echo $?`` shows the exit code of the command
before. The commands are kept, the outputs are rewritten. Python blocks (```` ```python ````) are run
statement by statement in one namespace; what a statement prints follows it as ``#> `` lines (any
``#>`` lines already there are replaced).

Marker options (``key=value`` or bare flags, separated by spaces):

* ``columns=N``: the terminal width (``COLUMNS``) of the run, default 120;
* ``head=N``, ``tail=M``: keep the first N and last M lines of each command's output; the lines in between
  become one line ``... (K lines not shown)``. Deterministic, so the trimmed block is still checked;
* ``lines=A-B,C-D``: keep these line ranges (1-based, inclusive; ``C-`` runs to the end) instead, each gap
  shown the same way;
* ``slow``: the test is marked ``slow`` (deselect with ``-m "not slow"``), run by default;
* ``raw``: the command reads the raw data folder (``../shared/data``); the test is marked ``raw``.

Each block runs in a fresh Python (its commands through ``tariffscope.cli.main``, the console script's
own entry point) from the repository root, with COLUMNS set and a warehouse of its own, built from the
embedded data in a temporary ``TARIFFSCOPE_HOME`` by the first block. Normalised before comparing or
writing: progress-bar lines (dropped: their timings vary), timings (``X.X s``), trailing spaces, the
home folder (shown as ``~/.tariffscope``, its line unindented) and the repository path (shown relative).

Usage: ``.venv/bin/python scripts/docs_examples.py [--write | --check] [FILE ...] [--only TEXT]``
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DEFAULT_COLUMNS = 120

MARKER = re.compile(r"^<!--\s*check\b:?(?P<opts>.*?)-->\s*$")
FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")
_FLAGS = {"slow", "raw"}
_INTS = {"columns", "head", "tail"}
_RANGES = re.compile(r"^\d+-\d*(,\d+-\d*)*$")


class DocsExampleError(Exception):
    """A malformed checked block (bad marker option, unclosed fence, no command)."""


@dataclass
class Block:
    """One checked fenced block: where it is, its marker options and its current text."""

    path: Path
    marker_line: int  # 0-based index of the marker line
    start: int  # index of the first content line (after the opening fence)
    end: int  # index of the closing fence
    lang: str
    options: dict[str, int | bool | str] = field(default_factory=dict)
    text: str = ""

    @property
    def id(self) -> str:
        return f"{_rel(self.path)}:{self.marker_line + 1}"

    @property
    def columns(self) -> int:
        return int(self.options.get("columns", DEFAULT_COLUMNS))


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def _options(text: str, where: str) -> dict[str, int | bool | str]:
    opts: dict[str, int | bool | str] = {}
    for word in text.split():
        key, _, value = word.partition("=")
        if key in _FLAGS and not value:
            opts[key] = True
        elif key in _INTS and value.isdigit():
            opts[key] = int(value)
        elif key == "lines" and _RANGES.match(value):
            opts[key] = value
        else:
            raise DocsExampleError(f"{where}: unknown check option {word!r} "
                                   "(known: columns=N head=N tail=N lines=A-B,C- slow raw)")
    return opts


def find_blocks(path: Path) -> list[Block]:
    """The checked blocks of one Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").split("\n")
    blocks: list[Block] = []
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        where = f"{_rel(path)}:{i + 1}"
        fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if fence is None:
            raise DocsExampleError(f"{where}: a check marker must be followed by an opening ``` fence")
        end = next((j for j in range(i + 2, len(lines)) if lines[j].rstrip() == "```"), None)
        if end is None:
            raise DocsExampleError(f"{where}: the checked block is not closed")
        blocks.append(Block(path, i, i + 2, end, fence["lang"], _options(m["opts"], where),
                            "\n".join(lines[i + 2:end])))
    return blocks


def all_blocks(files: list[Path] | None = None) -> list[Block]:
    return [b for f in (files or DOC_FILES) for b in find_blocks(f)]


# --- running -----------------------------------------------------------------------------------


ECHO_STATUS = "$ echo $?"


def commands(block: Block) -> list[str]:
    """The ``$ tariffscope ...`` commands of a console block, continuation lines joined."""
    out: list[str] = []
    lines = block.text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("$ "):
            cmd = [lines[i]]
            while cmd[-1].endswith("\\") and i + 1 < len(lines):
                i += 1
                cmd.append(lines[i])
            out.append("\n".join(cmd))
        i += 1
    if not out:
        raise DocsExampleError(f"{block.id}: a checked console block needs at least one `$ tariffscope ...` line")
    return out


def _argv(command: str, where: str) -> list[str]:
    words = shlex.split(command[2:].replace("\\\n", " "), comments=True)
    if not words or words[0] != "tariffscope":
        raise DocsExampleError(f"{where}: only `tariffscope` commands can be checked, not {command!r}")
    return words[1:]


def run_command(argv: list[str]) -> tuple[str, int]:
    """Everything ``tariffscope ARGV`` prints (stdout and stderr interleaved as written) and its exit code."""
    from tariffscope import cli

    buf = io.StringIO()
    cwd = os.getcwd()
    os.chdir(REPO)  # the docs' paths (examples/ge/...) are relative to the repository
    try:
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            code = cli.main(argv)
    finally:
        os.chdir(cwd)
    return buf.getvalue(), code


def run_python(source: str) -> list[tuple[int, str]]:
    """Run a snippet statement by statement: (last line of the statement, what it printed) for each."""
    tree = ast.parse(source)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    out: list[tuple[int, str]] = []
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for node in tree.body:
            buf = io.StringIO()
            code = compile(ast.Module(body=[node], type_ignores=[]), "<docs>", "exec")
            with contextlib.redirect_stdout(buf):
                exec(code, namespace)
            if buf.getvalue():
                out.append((node.end_lineno or node.lineno, buf.getvalue()))
    finally:
        os.chdir(cwd)
    return out


#: A finished rich progress bar ("Monte Carlo ... ━━━━ 200/200 0:00:56 0:00:00"): its times differ run to run.
PROGRESS_LINE = re.compile(r"━.* \d+/\d+ .*\d+:\d\d:\d\d\s*$")


#: Wall-clock timings ("process x2, 4.3 s", "in 1.64s"): shown as ``X.X s``.
TIMING = re.compile(r"(?<![\w.])\d+\.\d+ ?s\b")


def normalise(text: str) -> str:
    text = "\n".join(line for line in text.split("\n") if not PROGRESS_LINE.search(line))
    text = TIMING.sub("X.X s", text)
    home = os.environ.get("TARIFFSCOPE_HOME", "")
    if home:
        # a centred title's padding depends on the length of the real path: drop it on those lines
        text = "\n".join(line.replace(home, "~/.tariffscope").lstrip() if home in line else line
                         for line in text.split("\n"))
    text = text.replace(str(REPO) + "/", "").replace(str(REPO), ".")
    return "\n".join(line.rstrip() for line in text.rstrip("\n").split("\n"))


def trim(text: str, head: int | None = None, tail: int | None = None, ranges: str | None = None) -> str:
    """Keep the first ``head`` and last ``tail`` lines, or the 1-based inclusive ``ranges`` ("1-5,40-");
    every run of hidden lines becomes one ``... (K lines not shown)`` line."""
    lines = text.split("\n")
    n = len(lines)
    if ranges:
        keep: set[int] = set()
        for part in ranges.split(","):
            a, _, b = part.partition("-")
            keep.update(range(int(a) - 1, min(int(b) if b else n, n)))
    elif head is not None or tail is not None:
        keep = set(range(min(head or 0, n))) | set(range(max(n - (tail or 0), 0), n))
    else:
        return text
    out: list[str] = []
    hidden = 0
    for i, line in enumerate(lines):
        if i in keep:
            if hidden:
                out.append(f"... ({hidden} lines not shown)" if hidden > 1 else lines[i - 1])
            hidden = 0
            out.append(line)
        else:
            hidden += 1
    if hidden:
        out.append(f"... ({hidden} lines not shown)" if hidden > 1 else lines[-1])
    return "\n".join(out)


def render(block: Block) -> str:
    """The block's content regenerated from real runs, in this process (see ``render_isolated``)."""
    opts = block.options
    h, t, r = opts.get("head"), opts.get("tail"), opts.get("lines")
    head = h if isinstance(h, int) and not isinstance(h, bool) else None
    tail = t if isinstance(t, int) and not isinstance(t, bool) else None
    ranges = r if isinstance(r, str) else None
    if block.lang == "python":
        source = "\n".join(line for line in block.text.split("\n") if not line.startswith("#>"))
        printed = dict(run_python(source))
        lines: list[str] = []
        for n, line in enumerate(source.split("\n"), start=1):
            lines.append(line)
            if n in printed:
                out = trim(normalise(printed[n]), head, tail, ranges)
                lines.extend(f"#> {x}".rstrip() for x in out.split("\n"))
        return "\n".join(lines)
    parts: list[str] = []
    code = 0
    for cmd in commands(block):
        if cmd == ECHO_STATUS:  # the exit code of the command before, as a shell shows it
            parts.append(f"{cmd}\n{code}")
            continue
        out, code = run_command(_argv(cmd, block.id))
        out = trim(normalise(out), head, tail, ranges)
        parts.append(("\n" if parts else "") + (f"{cmd}\n{out}" if out else cmd))
    return "\n".join(parts)


_HOME: tempfile.TemporaryDirectory[str] | None = None


def _home() -> str:
    """One warehouse for every block this process renders (built from the embedded data by the first)."""
    global _HOME
    if _HOME is None:
        _HOME = tempfile.TemporaryDirectory(prefix="tariffscope-docs-")
    return _HOME.name


def render_isolated(block: Block) -> str:
    """``render`` in a fresh Python, as a shell runs ``tariffscope``: rich sizes its consoles from COLUMNS
    when they are created, and the warehouse is a home of its own (not one another process holds)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update(COLUMNS=str(block.columns), TARIFFSCOPE_HOME=_home(), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, __file__, "--render", block.id, str(block.path)], env=env, cwd=REPO,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    if proc.returncode != 0:
        raise DocsExampleError(f"{block.id}: rendering failed:\n{proc.stderr.strip()[-2000:]}")
    return proc.stdout


def write(path: Path, only: str | None = None) -> list[str]:
    """Rewrite the checked blocks of one file in place; the ids of the blocks that changed."""
    lines = path.read_text(encoding="utf-8").split("\n")
    changed = []
    for block in reversed(find_blocks(path)):  # from the end, so earlier line numbers stay valid
        if only and only not in block.id:
            continue
        new = render_isolated(block)
        if new != block.text:
            changed.append(block.id)
            lines[block.start:block.end] = new.split("\n")
    if changed:
        path.write_text("\n".join(lines), encoding="utf-8")
    return changed[::-1]


def diff(block: Block) -> str:
    """A unified diff from the block as documented to the block as regenerated ('' when equal)."""
    import difflib

    new = render_isolated(block)
    if new == block.text:
        return ""
    return "\n".join(difflib.unified_diff(block.text.split("\n"), new.split("\n"), "documented", "now", lineterm=""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the checked blocks in place (default: --check)")
    mode.add_argument("--check", action="store_true", help="report the blocks whose output drifted (exit 1)")
    ap.add_argument("--only", help="only the blocks whose id (FILE:LINE) contains this text")
    ap.add_argument("--render", metavar="ID", help=argparse.SUPPRESS)  # one block, in this process (internal)
    ap.add_argument("files", nargs="*", type=Path, help="Markdown files (default: README.md and docs/*.md)")
    args = ap.parse_args(argv)
    files = [f.resolve() for f in args.files] or DOC_FILES
    if args.render:
        block = next((b for b in all_blocks(files) if b.id == args.render), None)
        if block is None:
            raise DocsExampleError(f"no checked block {args.render}")
        sys.stdout.write(render(block))
        return 0
    if args.write:
        for f in files:
            for block_id in write(f, args.only):
                print(f"rewrote {block_id}")
        return 0
    drifted = 0
    for block in all_blocks(files):
        if args.only and args.only not in block.id:
            continue
        d = diff(block)
        drifted += bool(d)
        print(f"{'ok   ' if not d else 'DRIFT'} {block.id}" + (f"\n{d}" if d else ""))
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
