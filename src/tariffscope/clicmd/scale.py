"""CLI commands: scale (filled by its area's owner)."""
from __future__ import annotations

from tariffscope.cli import app  # noqa: F401

