"""The one YAML loader of tariffscope: safe, bounded, strict about duplicate keys.

Every YAML file or text a user hands tariffscope (scenarios, GE specs, sweep specs, the web form) and
the package's own catalogue are read through :func:`load_yaml`. On top of ``yaml.SafeLoader`` (no
Python objects) it refuses:

* documents larger than ``MAX_BYTES``, nested deeper than ``MAX_DEPTH`` or with more than ``MAX_NODES``
  values **counted with every alias expanded** (``*name``): a 492-byte "billion laughs" file names a
  billion values through nine aliases of nine, and is refused at once; the few aliases that
  ``yaml.safe_dump`` writes for repeated objects stay readable;
* recursive aliases (an anchor used inside itself);
* a key given twice in one mapping (YAML's "last one wins" hides typos such as two ``rate:`` lines);
* text that is not UTF-8.

Each refusal is an ``InputError`` naming the source and, where it has one, the line.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tariffscope.errors import InputError

MAX_BYTES = 2_000_000  # the largest shipped YAML is a few kB; a scenario with 4,000 changes is ~400 kB
MAX_DEPTH = 50
MAX_NODES = 200_000

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml", "read_yaml_file"]


class _Refused(yaml.YAMLError):
    def __init__(self, reason: str, mark: Any = None) -> None:
        super().__init__(reason)
        self.reason, self.mark = reason, mark


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader without aliases, with depth and node limits and duplicate keys refused."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES:,} values", self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # '<<': merged keys may be overridden, as YAML defines
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeLoader refuses it below with its own message
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise _Refused(f"key {key!r} is given twice (lines {first} and {line})", key_node.start_mark)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _expanded(node: Any) -> tuple[int, int]:
    """(values, depth) of ``node`` with every alias expanded; linear in distinct nodes (memoized)."""
    done: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def walk(n: Any) -> tuple[int, int]:
        key = id(n)
        if key in done:
            return done[key]
        if key in active:
            raise _Refused("a recursive alias (an anchor used inside itself)", n.start_mark)
        active.add(key)
        children: list[Any] = []
        if isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        elif isinstance(n, yaml.MappingNode):
            children = [x for kv in n.value for x in kv]
        count, depth = 1, 1
        for c in children:
            cn, cd = walk(c)
            count += cn
            depth = max(depth, cd + 1)
            if count > MAX_NODES:
                raise _Refused(f"more than {MAX_NODES:,} values once aliases are expanded", n.start_mark)
            if depth > MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels once aliases are expanded", n.start_mark)
        active.discard(key)
        done[key] = (count, depth)
        return done[key]

    return walk(node)


def load_yaml(text: str | bytes, source: str = "<yaml>") -> Any:
    """Parse one YAML document within the limits above; ``InputError`` (with source and line) if refused."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise InputError(f"{source}: {len(text):,} bytes; YAML files are limited to {MAX_BYTES:,}")
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not UTF-8 text (byte {exc.start}): save the file as UTF-8") from None
    if len(text) > MAX_BYTES:
        raise InputError(f"{source}: {len(text):,} characters; YAML files are limited to {MAX_BYTES:,}")
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded(node)  # before anything is built from it
        return loader.construct_document(node)
    except _Refused as exc:
        where = f", line {exc.mark.line + 1}" if exc.mark is not None else ""
        raise InputError(f"{source}{where}: {exc.reason}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{source}{where}: not valid YAML: {problem}") from None
    except RecursionError:  # belt and braces: MAX_DEPTH keeps PyYAML well inside the stack
        raise InputError(f"{source}: nested too deeply") from None
    finally:
        loader.dispose()


def read_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file through :func:`load_yaml` (size checked before reading it all)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p} is a directory, not a YAML file")
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise InputError(f"no such file: {p}") from None
    if size > MAX_BYTES:
        raise InputError(f"{p}: {size:,} bytes; YAML files are limited to {MAX_BYTES:,}")
    return load_yaml(p.read_bytes(), source=str(p))
