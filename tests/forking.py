"""Fork a test process while another thread holds a lock, as a thread of a real
parent may at any moment (shared by the fork-safety tests)."""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import pytest


def exit_code_of_child_forked_while_held(
    lock: Any, child: Callable[[], int], *, timeout: float = 10.0
) -> int:
    """Fork while a parent thread holds ``lock``; the child runs ``child()`` and exits
    with what it returns (1 if it raises). The child's exit code; the test fails if
    the child is still running after ``timeout`` seconds (stuck on an inherited lock)."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            done.wait()

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait()
    try:
        pid = os.fork()
        if pid == 0:  # the child never returns into pytest
            status = 1
            try:
                status = child()
            except BaseException:
                traceback.print_exc()
            os._exit(status)
    finally:
        done.set()
        holder.join()
    deadline = time.monotonic() + timeout
    while (found := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if found[0] == 0:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail(f"the forked child was still running after {timeout} s")
    return os.waitstatus_to_exitcode(found[1])
