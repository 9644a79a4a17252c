"""Drive a real Jupyter kernel from a test: run a cell and read its iopub messages."""

from __future__ import annotations

import contextlib
import os
import queue
import time
from collections.abc import Iterator
from typing import Any


def collect_until_idle(client: Any, msg_id: str, timeout: float) -> list[dict[str, Any]]:
    """Every iopub message until the kernel is idle after request ``msg_id``.

    Messages of other requests (a dashboard's comm updates under an earlier cell, say) are
    kept too, in order; the caller filters by ``parent_header`` when it needs to.

    Raises:
        AssertionError: No idle status for ``msg_id`` within ``timeout`` seconds.
    """
    messages = []
    end = time.time() + timeout
    while time.time() < end:
        try:
            msg = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        messages.append(msg)
        parent = msg.get("parent_header", {}).get("msg_id")
        if (
            parent == msg_id
            and msg["msg_type"] == "status"
            and msg["content"]["execution_state"] == "idle"
        ):
            return messages
    raise AssertionError(f"no idle status for {msg_id} within {timeout} s")


def errors_of(messages: list[dict[str, Any]], msg_id: str) -> list[dict[str, Any]]:
    """The ``error`` contents (``ename``, ``evalue``, ``traceback``) request ``msg_id`` sent."""
    return [
        m["content"]
        for m in messages
        if m["msg_type"] == "error" and m.get("parent_header", {}).get("msg_id") == msg_id
    ]


def stdout_of(messages: list[dict[str, Any]], msg_id: str) -> str:
    """What request ``msg_id`` printed."""
    return "".join(
        m["content"].get("text", "")
        for m in messages
        if m["msg_type"] == "stream" and m.get("parent_header", {}).get("msg_id") == msg_id
    )


@contextlib.contextmanager
def running_kernel(cwd: str | os.PathLike[str], env: dict[str, str]) -> Iterator[tuple[Any, Any]]:
    """A real ``python3`` kernel started in ``cwd`` with ``env``, ready; yields its manager and
    a client with channels open, and shuts it down on exit."""
    from jupyter_client import KernelManager

    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(cwd), env=env)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
