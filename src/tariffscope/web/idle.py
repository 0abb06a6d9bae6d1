"""Memory handed back when the server goes quiet.

Pages, duties and model runs free what they allocate, but glibc keeps freed memory mapped; a server that
served a burst of requests stayed at the burst's resident size while idle. ``IdleRelease`` is ASGI
middleware that notes each request; a background thread calls ``report.memory.release_memory`` once the
server has had no request for ``quiet_s`` seconds after some activity.

After a longer quiet (``drop_s``; ``tariffscope serve`` passes TARIFFSCOPE_WEB_IDLE_DROP_S, default 20 s;
an app made by ``create_app`` alone never drops, since the caches are the whole process's) it also calls
``drop``: the server passes the engine's rebuildable caches (``tariffs.engine.drop_caches``: the compiled catalogue
index and the MFN tables, ~200 MB of the ~640 MB a server held idle after the load test). The next duty
rebuilds them (about a second); a user who pauses less than ``drop_s`` between entries never pays it.
The small page caches are kept. Caches are dropped only with no request in flight, and a request that
arrives during the drop waits for it (milliseconds), so no request finds its tables gone half-way (the
engine copes with that too, but would rebuild them within the request).
"""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from tariffscope.report.memory import release_memory
from tariffscope.web.settings import env_whole

DEFAULT_DROP_S = 20.0


def drop_after_default() -> float:
    """Seconds of quiet before the rebuildable caches go: TARIFFSCOPE_WEB_IDLE_DROP_S (0: never), else 20."""
    return float(env_whole("TARIFFSCOPE_WEB_IDLE_DROP_S", int(DEFAULT_DROP_S), what=" seconds (0: never)"))


class IdleRelease:
    """ASGI middleware: after ``quiet_s`` seconds without a request (following at least one), release memory
    once; after ``drop_s`` (0: never), also call ``drop`` once and release again."""

    def __init__(self, app: Any, quiet_s: float = 5.0, every_s: float = 1.0, drop: Callable[[], Any] | None = None,
                 drop_s: float = DEFAULT_DROP_S) -> None:
        self.app, self.quiet_s, self.every_s, self.drop, self.drop_s = app, quiet_s, every_s, drop, drop_s
        self._last = time.monotonic()
        self._dirty = self._cached = False
        self._lock = threading.Lock()
        self._in_flight = 0
        self._dropping = False
        self.releases = self.drops = 0
        threading.Thread(target=self._watch, name="tariffscope-idle-release", daemon=True).start()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        while True:
            with self._lock:
                if not self._dropping:
                    self._in_flight += 1
                    self._last, self._dirty, self._cached = time.monotonic(), True, True
                    break
            await asyncio.sleep(0.005)  # the caches are being dropped (milliseconds): then go on
        try:
            return await self.app(scope, receive, send)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last = time.monotonic()

    def _watch(self) -> None:
        while True:
            time.sleep(self.every_s)
            self.tick()

    def tick(self) -> None:
        """One check of the quiet time (the watcher calls it every ``every_s``)."""
        with self._lock:
            quiet = time.monotonic() - self._last if self._in_flight == 0 else 0.0
            release = self._dirty and quiet >= self.quiet_s
            drop = self.drop if self.drop_s > 0 and self._cached and quiet >= self.drop_s else None
            if release:
                self._dirty = False
            if drop is not None:
                self._cached, self._dropping = False, True
        if drop is not None:
            try:
                drop()
                self.drops += 1
            finally:
                with self._lock:
                    self._dropping = False
            release = True
        if release:
            release_memory()
            self.releases += 1
