"""Duty answers first: page work waits at a gate while duty answers are being computed; duties never wait.

One server process answers everything, and its Python work runs one thread at a time. Under 50 clients
with no pause between requests every request in flight shared the CPU with every other, so a 3 ms duty
answer waited behind page work (duty p95 347 ms in the load test). Bounding how many pages work at once
did not fix it alone: once pages became cheap (whole answers cached as bytes, ``web.pagecache``) clients
came back from them at once and the queue simply moved to the duties. So the gate gives duties priority:

- a page request (anything but ``PRIORITY_PATHS`` and static files) waits, on the event loop (no thread,
  no CPU), first come first served, until fewer than ``slots`` pages are working **and** no duty request
  is in flight, or until it has been held back ``defer_s`` (so a stream of duties cannot starve pages);
- the interactive paths (the duty page and API, the product search, health) go straight through;
- a page that found no slot in ``wait_s`` gets 503 + Retry-After.

A model run has its own bound (``web.app.ModelSlots``): a request that starts one gives its page slot
back first (``yield_slot``), so pages keep answering while a comparison computes for seconds.

The gate is shared across event loops and threads (a test client runs a loop per request; a slot is
handed back from a worker thread when a model run starts), so it is a lock and a queue of futures, not an
``asyncio.Semaphore`` (bound to one loop).
"""
from __future__ import annotations

import asyncio
import contextvars
import os
import threading
import time
from collections import deque
from typing import Any

from tariffscope.errors import InputError
from tariffscope.web.settings import env_whole

PRIORITY_PATHS = frozenset({"/duty", "/api/duty", "/api/products", "/api/health"})
DEFAULT_WAIT_S = 30.0
RETRY_AFTER_S = 10


def page_slots_default() -> int:
    """Page requests working at once: TARIFFSCOPE_WEB_PAGE_SLOTS (0: no gate at all), else one per core.

    More than the cores only makes each page slower and the duties wait longer (page work is CPU:
    templates and SVG); fewer leaves a core idle while a page waits on the warehouse."""
    return env_whole("TARIFFSCOPE_WEB_PAGE_SLOTS", max(1, os.cpu_count() or 2))


def page_defer_default() -> float:
    """Seconds a page may be held back while duties are in flight: TARIFFSCOPE_WEB_PAGE_DEFER_MS / 1000
    (0: no priority, only the bound on pages), else 0.25 s (a page's answer stays well under a second)."""
    return env_whole("TARIFFSCOPE_WEB_PAGE_DEFER_MS", 250) / 1000


def page_pace_default() -> float:
    """Least seconds between two pages let through: TARIFFSCOPE_WEB_PAGE_PACE_MS / 1000 (0: no pacing), else
    0.008 s, at most 125 pages a second: far above what people clicking produce, so it only shapes a flood."""
    return env_whole("TARIFFSCOPE_WEB_PAGE_PACE_MS", 8) / 1000


def prioritized(path: str) -> bool:
    """Whether a request to ``path`` skips the page gate (the interactive duty paths and static files)."""
    return path in PRIORITY_PATHS or path.startswith("/static/")


class _Waiter:
    __slots__ = ("loop", "future", "granted", "since")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future, since: float) -> None:
        self.loop, self.future, self.granted, self.since = loop, future, False, since


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


class Slots:
    """``n`` page slots handed out first come first served, each only while no priority request is in
    flight or once its waiter has waited ``defer_s``. ``acquire`` waits without a thread; ``release``,
    ``priority_enter`` and ``priority_exit`` may be called from any thread."""

    def __init__(self, n: int, defer_s: float = 0.0, pace_s: float = 0.0) -> None:
        if n < 1:
            raise InputError(f"a gate needs at least one slot, got {n}")
        if defer_s < 0 or pace_s < 0:
            raise InputError(f"a page's deferral and pace must be >= 0 s, got {defer_s} and {pace_s}")
        self.n, self.defer_s, self.pace_s = n, defer_s, pace_s
        self.active = self.priority = 0
        self._last_admit = float("-inf")
        self._timer = False
        self._waiters: deque[_Waiter] = deque()
        self._lock = threading.Lock()
        self.waited = self.timeouts = self.aged = 0

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiters)

    def _admits(self, since: float, now: float) -> bool:
        if self.active >= self.n or now - self._last_admit < self.pace_s:
            return False
        if self.priority == 0 or self.defer_s == 0:
            return True
        return now - since >= self.defer_s

    def _dispatch(self) -> None:
        """Hand slots to the waiters at the head of the line while the rule admits them (caller holds the lock)."""
        now = time.monotonic()
        while self._waiters and self._admits(self._waiters[0].since, now):
            waiter = self._waiters.popleft()
            if self.priority and self.defer_s:
                self.aged += 1
            waiter.granted = True
            self.active += 1
            self._last_admit = now
            waiter.loop.call_soon_threadsafe(_wake, waiter.future)
        if self._waiters and not self._timer and self.active < self.n and now - self._last_admit < self.pace_s:
            # held back by the pace: look again when it allows the next one (duties ending and the waiters'
            # deferral timers dispatch the other cases)
            head = self._waiters[0]
            self._timer = True
            try:
                head.loop.call_soon_threadsafe(head.loop.call_later, self._last_admit + self.pace_s - now, self._on_timer)
            except RuntimeError:  # that loop has closed (a test client's): the waiters' own timers dispatch instead
                self._timer = False

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = False
            self._dispatch()

    async def acquire(self, timeout: float) -> bool:
        """True once a slot is ours; False if none came within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        with self._lock:
            if not self._waiters and self._admits(now, now):
                self.active += 1
                self._last_admit = now
                return True
            waiter = _Waiter(loop, loop.create_future(), now)
            self._waiters.append(waiter)
            self.waited += 1
            self._dispatch()  # held back by the pace alone: this sets the timer that lets it through
        deadline = now + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                # wake once when the deferral runs out even if nothing else happens (a long duty in flight); after
                # that every slot handed back or duty finished dispatches the line, so no polling
                to_age = self.defer_s - (time.monotonic() - waiter.since)
                step = min(left, to_age + 0.001) if self.defer_s and to_age > -0.001 else left
                try:
                    await asyncio.wait_for(asyncio.shield(waiter.future), step)
                    return True
                except TimeoutError:
                    with self._lock:
                        if waiter.granted:
                            return True
                        self._dispatch()
                        if waiter.granted:
                            return True
        except TimeoutError:
            with self._lock:
                if waiter.granted:  # handed to us as the wait ran out: take it
                    return True
                self._waiters.remove(waiter)
                self.timeouts += 1
            return False
        except BaseException:  # cancelled (the client went away): a slot handed to us goes to the next in line
            with self._lock:
                granted = waiter.granted
                if not granted:
                    self._waiters.remove(waiter)
            if granted:
                self.release()
            raise

    def release(self) -> None:
        with self._lock:
            self.active = max(0, self.active - 1)
            self._dispatch()

    def priority_enter(self) -> None:
        with self._lock:
            self.priority += 1

    def priority_exit(self) -> None:
        with self._lock:
            self.priority = max(0, self.priority - 1)
            self._dispatch()

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"slots": self.n, "active": self.active, "priority_in_flight": self.priority, "waiting": len(self._waiters),
                    "waited": self.waited, "aged": self.aged, "timeouts": self.timeouts}


class _Held:
    """One request's slot, handed back once (by the request's end or by a model run starting)."""

    def __init__(self, slots: Slots) -> None:
        self._slots, self._lock, self._held = slots, threading.Lock(), True

    def release(self) -> None:
        with self._lock:
            if not self._held:
                return
            self._held = False
        self._slots.release()


_CURRENT: contextvars.ContextVar[_Held | None] = contextvars.ContextVar("tariffscope_page_slot", default=None)


def yield_slot() -> None:
    """Give the current request's page slot back (a model run about to start: it has its own bound)."""
    held = _CURRENT.get()
    if held is not None:
        held.release()


class PageGate:
    """ASGI middleware: HTTP requests other than ``prioritized`` ones wait for one of ``slots``; prioritized
    ones are counted while in flight (pages defer to them)."""

    def __init__(self, app: Any, slots: Slots, wait_s: float = DEFAULT_WAIT_S) -> None:
        self.app, self.slots, self.wait_s = app, slots, wait_s

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if prioritized(scope.get("path", "")):
            self.slots.priority_enter()
            try:
                return await self.app(scope, receive, send)
            finally:
                self.slots.priority_exit()
        if not await self.slots.acquire(self.wait_s):
            return await _busy(send, self.wait_s)
        held = _Held(self.slots)
        token = _CURRENT.set(held)
        try:
            return await self.app(scope, receive, send)
        finally:
            _CURRENT.reset(token)
            held.release()


async def _busy(send: Any, waited: float) -> None:
    body = (b'{"error":"the server is busy: no page slot came free in %d s; try again in %d s"}'
            % (int(waited), RETRY_AFTER_S))
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(RETRY_AFTER_S).encode())]})
    await send({"type": "http.response.body", "body": body})
