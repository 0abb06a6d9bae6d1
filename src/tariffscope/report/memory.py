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


M_ARENA_MAX = -8  # glibc mallopt parameter (malloc.h)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas. A server runs dozens of request threads and glibc gives busy threads arenas of
    their own (up to 8 per core), each keeping freed memory mapped: RSS grew with the thread count, not the data."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to cap
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, int(arenas))
