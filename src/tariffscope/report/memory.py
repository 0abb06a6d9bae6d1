"""Handing memory back to the system between heavy steps (brief sections, web model runs).

A model run allocates hundreds of MB of numpy arrays and Arrow tables and frees them on return, but glibc
keeps the freed arenas mapped, so the process's resident size stays at its peak and the next heavy step
starts from there. Collecting garbage and calling ``malloc_trim`` returns them.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc


def release_memory() -> None:
    """Collect garbage and ask glibc to give freed arenas back (RSS falls to what is still referenced)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, musl): the next step reuses the memory instead
        ctypes.CDLL("libc.so.6").malloc_trim(0)
