"""A real server in a child process for tests that need one (the browser tests, the CLI beside `serve`): a free
loopback port, waiting until it answers /api/health, and stopping it."""
from __future__ import annotations

import socket
import subprocess
import time

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(proc: subprocess.Popen, base: str, seconds: float) -> dict:
    """Poll ``base``/api/health until it answers 200 (returns its JSON); fail the test with the server's last
    stderr if it exits, or if it has not answered in ``seconds`` (a first start builds the warehouse)."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read() if proc.stderr else ""
            pytest.fail("server exited: " + (err.decode() if isinstance(err, bytes) else err)[-3000:])
        try:
            health = httpx.get(base + "/api/health", timeout=2)
            if health.status_code == 200:
                return dict(health.json())
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"server did not answer in {seconds:g} s")
        time.sleep(0.3)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
