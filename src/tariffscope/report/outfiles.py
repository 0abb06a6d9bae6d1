"""Output files written safely: the path checked before any work, the bytes written atomically.

``check_output_file`` / ``check_output_dir`` run before a command computes anything, so that a run of
minutes never ends on ``--chart /etc/passwd/x.png``. ``atomic_output`` gives a temporary path beside the
target and renames it over the target only when writing finished: a full disk or a crash leaves the old
file (or none), never a truncated one.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from tariffscope.errors import InputError


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output_file(path: str | Path, option: str = "--out") -> Path:
    """The file ``path`` can be written: not a directory, and its folder exists or can be made, writable."""
    p = Path(path).expanduser()
    if str(path) == "" or p.name in ("", ".", ".."):
        raise InputError(f"{option} {str(path)!r}: give a file name")
    if p.is_dir():
        raise InputError(f"{option} {str(path)!r} is a directory: give a file name")
    base = _nearest_existing(p.parent)
    if not base.is_dir():
        raise InputError(f"{option} {str(path)!r}: {base} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{option} {str(path)!r}: cannot write in {base} (permission denied or read-only)")
    if p.exists() and not os.access(p, os.W_OK) and not os.access(p.parent, os.W_OK):
        raise InputError(f"{option} {str(path)!r}: the file is not writable")
    return p


def check_output_dir(path: str | Path, option: str = "--out") -> Path:
    """The folder ``path`` exists and is writable, or can be created."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InputError(f"{option} {str(path)!r} is a file: give a directory")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise InputError(f"{option} {str(path)!r}: {base} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{option} {str(path)!r}: cannot write in {base} (permission denied or read-only)")
    return p


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    # same folder (so the rename is atomic on one file system), same suffix (writers pick the format from it)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(path).expanduser()
