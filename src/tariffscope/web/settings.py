"""The web server's settings from the environment: one reader for its whole-number variables."""
from __future__ import annotations

import os

from tariffscope.errors import InputError


def env_whole(name: str, default: int, minimum: int = 0, what: str = "") -> int:
    """A whole-number setting from the environment (unset or blank: ``default``); anything else than a whole
    number >= ``minimum`` is one InputError naming the variable (``what`` says what 0 means, when it means
    something)."""
    env = os.environ.get(name, "").strip()
    if not env:
        return default
    if not env.isdigit() or int(env) < minimum:
        raise InputError(f"{name} must be a whole number >= {minimum}{what}, got {env!r}")
    return int(env)
