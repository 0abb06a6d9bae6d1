"""The checked examples of README.md and docs/*.md (blocks after a ``<!-- check -->`` marker) are run
again and must print exactly what the docs show (``scripts/docs_examples.py``; ``make docs`` rewrites
them). Slow blocks carry the ``slow`` marker (deselect with ``-m "not slow"``); they run by default.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from _scripts import load_script

docs = load_script("docs_examples")
BLOCKS = docs.all_blocks()


def _param(block):
    marks = [getattr(pytest.mark, flag) for flag in ("slow", "raw") if block.options.get(flag)]
    return pytest.param(block, id=block.id, marks=marks)


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_documented_output_is_what_the_code_prints(block) -> None:
    d = docs.diff(block)
    assert not d, f"{block.id}: the documented output drifted (regenerate with `make docs`):\n{d}"


def test_the_main_examples_are_checked() -> None:
    """The README tour and each command doc keep checked blocks (a marker lost in an edit shows here)."""
    checked = {b.path.name for b in BLOCKS}
    assert {"README.md", "codes.md", "tariffs.md", "trade.md", "scenarios.md", "ge.md"} <= checked
    assert sum(b.path.name == "README.md" for b in BLOCKS) >= 7


def _doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_changed_output_is_reported(tmp_path: Path) -> None:
    path = _doc(tmp_path, "<!-- check -->\n```\n$ tariffscope codes country Japn\n"
                          "Error: unknown country 'Japn': did you mean JPN (Japan)? no\n```\n")
    (block,) = docs.find_blocks(path)
    d = docs.diff(block)
    assert "-Error: unknown country 'Japn': did you mean JPN (Japan)? no" in d
    assert "+Error: unknown country 'Japn': did you mean JPN (Japan)? Use an ISO3/ISO2 code" in d
    assert docs.write(path) == [block.id]
    assert docs.diff(docs.find_blocks(path)[0]) == ""


def test_python_blocks_show_printed_lines_after_their_statement(tmp_path: Path) -> None:
    path = _doc(tmp_path, "<!-- check -->\n```python\nx = 6 * 7\nfor i in range(2):\n    print(i, x)\n"
                          "#> stale\ny = x\n```\n")
    docs.write(path)
    assert path.read_text(encoding="utf-8").split("```python\n")[1] == (
        "x = 6 * 7\nfor i in range(2):\n    print(i, x)\n#> 0 42\n#> 1 42\ny = x\n```\n")


def test_trim_keeps_head_and_tail_and_counts_the_rest() -> None:
    text = "\n".join(str(i) for i in range(10))
    assert docs.trim(text, 2, 1) == "0\n1\n... (7 lines not shown)\n9"
    assert docs.trim(text, 9, None) == text  # one line hidden would be no shorter
    assert docs.trim(text, None, None) == text
    # one hidden line is shown as itself: a marker line would be no shorter
    assert docs.trim(text, ranges="2-3,6-") == "0\n1\n2\n... (2 lines not shown)\n5\n6\n7\n8\n9"


def test_bad_markers_get_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(docs.DocsExampleError, match=r"doc.md:1: unknown check option 'heads=3'"):
        docs.find_blocks(_doc(tmp_path, "<!-- check: heads=3 -->\n```\n$ tariffscope x\n```\n"))
    with pytest.raises(docs.DocsExampleError, match="followed by an opening ``` fence"):
        docs.find_blocks(_doc(tmp_path, "<!-- check -->\ntext\n"))
    (block,) = docs.find_blocks(_doc(tmp_path, "<!-- check -->\n```\n$ ls -l\n```\n"))
    with pytest.raises(docs.DocsExampleError, match="only `tariffscope` commands"):
        docs.render(block)
