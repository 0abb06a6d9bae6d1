"""Memory handed back when the server goes quiet.

Pages, duties and model runs free what they allocate, but glibc keeps freed memory mapped; a server that
served a burst of requests stayed at the burst's resident size while idle. ``IdleRelease`` is ASGI
middleware that notes each request; a background thread calls ``report.memory.release_memory`` once the
server has had no request for ``quiet_s`` seconds after some activity.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from tariffscope.report.memory import release_memory


class IdleRelease:
    """ASGI middleware: after ``quiet_s`` seconds without a request (following at least one), release memory once."""

    def __init__(self, app: Any, quiet_s: float = 5.0, every_s: float = 1.0) -> None:
        self.app, self.quiet_s, self.every_s = app, quiet_s, every_s
        self._last = time.monotonic()
        self._dirty = False
        self.releases = 0
        threading.Thread(target=self._watch, name="tariffscope-idle-release", daemon=True).start()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self._last, self._dirty = time.monotonic(), True
        return await self.app(scope, receive, send)

    def _watch(self) -> None:
        while True:
            time.sleep(self.every_s)
            if self._dirty and time.monotonic() - self._last >= self.quiet_s:
                self._dirty = False
                release_memory()
                self.releases += 1
