"""Cached page results for the web app: computed once per set of inputs, recomputed only when the data change.

The pages (balance, timeline, overview, backtest, built-in scenario comparisons) are pure functions of their
GET/POST inputs and of what the warehouse holds. The cache keys every entry on the inputs and drops everything
when the warehouse's *data state* changes: the rows of its ingest log (how many loads, the latest id and finish
time), which every ingest appends to. The state is probed at most once every ``probe_s`` seconds, so a page
hit costs a dictionary lookup, not a query.

Concurrent requests for one missing entry compute it once: the first computes, the others wait for it (50
clients opening the same timeline must not run 50 identical computations). Entries are bounded (least
recently used dropped first, by count and optionally by weight, e.g. bytes); results marked as failures are
not kept.

``ResponseCache`` keeps whole answers of those pages as the bytes sent: a repeated GET of one URL skips
routing, validation and the template (a cached section still cost 2-40 ms of rendering per request, the
scenario form most). It sits in front of the page gate (``web.gate``): a hit is a dictionary lookup, not
work worth queueing for.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

DEFAULT_ENTRIES = 512  # pages are small (a section of a few KB to ~200 KB of SVG): tens of MB at most
DEFAULT_PROBE_S = 2.0
RESPONSE_ENTRIES = 256
RESPONSE_BYTES = 48 * 2**20  # whole pages (HTML with inline SVG) run to ~0.5 MB: bounded in bytes, not only in count


def ingest_state(con: Any) -> tuple:
    """The warehouse's data state: (loads, latest ingest id, latest finish time) from its ingest log."""
    rows = con.sql("SELECT count(*), max(ingest_id), max(finished_at) FROM ingest_log").fetchall()
    return tuple(rows[0]) if rows else ()


class PageCache:
    """``get(key, compute)``: the cached value of ``key``, or ``compute()``'s, kept while the data state holds."""

    def __init__(self, state: Callable[[], Hashable], *, max_entries: int = DEFAULT_ENTRIES,
                 probe_s: float = DEFAULT_PROBE_S, keep: Callable[[Any], bool] = lambda value: True,
                 weigh: Callable[[Any], int] | None = None, max_weight: int | None = None) -> None:
        self._state_fn, self.max_entries, self.probe_s, self._keep = state, max_entries, probe_s, keep
        self._weigh, self.max_weight, self.weight = weigh, max_weight, 0
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._state: Hashable = None
        self._probed_at = float("-inf")
        self.hits = self.misses = self.resets = 0

    def due(self) -> bool:
        """Whether the next lookup probes the data state (a query: callers on an event loop run ``check`` in a thread)."""
        return time.monotonic() - self._probed_at >= self.probe_s

    def check(self) -> None:
        """Probe the data state if due; drop every entry when it changed."""
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
                self.weight = 0
                self._state = state

    _check_state = check

    def _store(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` (caller holds the lock), then drop the least recently used past either bound."""
        if not self._keep(value):
            return
        if key in self._entries:
            self._drop(key)
        w = self._weigh(value) if self._weigh else 0
        if self.max_weight is not None and w > self.max_weight:
            return  # larger than the whole budget: served, not kept
        self._entries[key] = value
        self.weight += w
        while len(self._entries) > self.max_entries or (self.max_weight is not None and self.weight > self.max_weight):
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        value = self._entries.pop(key)
        if self._weigh:
            self.weight -= self._weigh(value)

    def peek(self, key: Hashable) -> Any | None:
        """The entry for ``key`` (counted as a hit) or None (nothing counted: the caller computes and ``put``s)."""
        with self._lock:
            if key in self._entries:
                self.hits += 1
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` computed by the caller after a ``peek`` found nothing (counted as a miss)."""
        with self._lock:
            self.misses += 1
            self._store(key, value)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        self.check()
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
                self._store(key, value)
                self._computing.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.weight = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._entries), "hits": self.hits, "misses": self.misses, "resets": self.resets,
                    "weight": self.weight}


class ResponseCache:
    """ASGI middleware: GET answers (status 200) of ``paths`` kept as the bytes sent, per path and query
    string, in ``cache`` (a ``PageCache``: dropped when the data state changes).

    Only pages that are pure functions of their URL and the warehouse belong in ``paths``: nothing per
    client (cookies, tokens) may appear in them. Other statuses (a bad input's 400, a busy 503) are not
    kept. A streamed answer (several body messages) is passed through and not kept.
    """

    def __init__(self, app: Any, cache: PageCache, paths: Collection[str]) -> None:
        self.app, self.cache, self.paths = app, cache, frozenset(paths)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") not in self.paths:
            return await self.app(scope, receive, send)
        if self.cache.due():  # the probe queries the warehouse: not on the event loop
            await run_in_threadpool(self.cache.check)
        key = (scope["path"], scope.get("query_string", b""))
        hit = self.cache.peek(key)
        if hit is not None:
            status, headers, body = hit
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return None
        start: dict[str, Any] = {}
        parts: list[bytes] = []
        streamed = False

        async def capture(message: Any) -> None:
            nonlocal streamed
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                if message.get("more_body"):
                    streamed = True
                parts.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        if start.get("status") == 200 and not streamed and len(parts) == 1:
            self.cache.put(key, (200, list(start.get("headers") or []), parts[0]))
        return None


def response_weight(entry: tuple[int, list, bytes]) -> int:
    """Bytes a kept answer holds (its body and headers)."""
    return len(entry[2]) + sum(len(k) + len(v) for k, v in entry[1])
