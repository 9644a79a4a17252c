"""Drive a real Jupyter kernel from a test: run a cell and read its iopub messages."""

from __future__ import annotations

import queue
import time
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
