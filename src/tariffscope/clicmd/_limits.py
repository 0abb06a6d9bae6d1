"""Bounds on the run-size options of the CLI, checked before any work, with the bound in the message.

``--draws 2147483648`` ran into MemoryError after 78 s and ``--workers 0`` silently meant all cores;
each option is now refused at once when outside its range.
"""
from __future__ import annotations

from tariffscope.errors import InputError

MAX_DRAWS = 10_000  # Monte Carlo draws: bands settle long before this; more is a typo
MAX_WORKERS = 256  # worker processes (a Dask cluster may have many; this machine has few)


def check_draws(value: int | None, option: str = "--draws", low: int = 0, high: int = MAX_DRAWS) -> int | None:
    """``value`` within [low, high] (None passes: the model's default)."""
    if value is not None and not low <= value <= high:
        raise InputError(f"{option} must be between {low} and {high:,}, got {value}")
    return value


def check_workers(value: int | None, option: str = "--workers") -> int | None:
    """1..MAX_WORKERS, or None for the default; 0 or a negative number is refused, never 'all cores'."""
    if value is not None and not 1 <= value <= MAX_WORKERS:
        raise InputError(f"{option} must be between 1 and {MAX_WORKERS} (leave it out for the default), got {value}")
    return value
