"""Cached page results for the web app: computed once per set of inputs, recomputed only when the data change.

The pages (balance, timeline, overview, backtest, built-in scenario comparisons) are pure functions of their
GET/POST inputs and of what the warehouse holds. The cache keys every entry on the inputs and drops everything
when the warehouse's *data state* changes: the rows of its ingest log (how many loads, the latest id and finish
time), which every ingest appends to. The state is probed at most once every ``probe_s`` seconds, so a page
hit costs a dictionary lookup, not a query.

Concurrent requests for one missing entry compute it once: the first computes, the others wait for it (50
clients opening the same timeline must not run 50 identical computations). Entries are bounded (least
recently used dropped first); results marked as failures are not kept.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_ENTRIES = 512  # pages are small (a section of a few KB to ~200 KB of SVG): tens of MB at most
DEFAULT_PROBE_S = 2.0


def ingest_state(con: Any) -> tuple:
    """The warehouse's data state: (loads, latest ingest id, latest finish time) from its ingest log."""
    rows = con.sql("SELECT count(*), max(ingest_id), max(finished_at) FROM ingest_log").fetchall()
    return tuple(rows[0]) if rows else ()


class PageCache:
    """``get(key, compute)``: the cached value of ``key``, or ``compute()``'s, kept while the data state holds."""

    def __init__(self, state: Callable[[], Hashable], *, max_entries: int = DEFAULT_ENTRIES,
                 probe_s: float = DEFAULT_PROBE_S, keep: Callable[[Any], bool] = lambda value: True) -> None:
        self._state_fn, self.max_entries, self.probe_s, self._keep = state, max_entries, probe_s, keep
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._state: Hashable = None
        self._probed_at = float("-inf")
        self.hits = self.misses = self.resets = 0

    def _check_state(self) -> None:
        now = time.monotonic()
        if now - self._probed_at < self.probe_s:
            return
        state = self._state_fn()
        with self._lock:
            self._probed_at = now
            if state != self._state:
                if self._entries:
                    self.resets += 1
                self._entries.clear()
                self._state = state

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        self._check_state()
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # one computation per key; the others wait here and then find the entry
            with self._lock:
                if key in self._entries:
                    self.hits += 1
                    return self._entries[key]
                self.misses += 1
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:  # stored before the gate is dropped: a later request finds the entry, not a new gate
                if self._keep(value):
                    self._entries[key] = value
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._entries), "hits": self.hits, "misses": self.misses, "resets": self.resets}
