"""Waiting on, and cleaning up after, the background processes a test's jobs start."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def wait_for(
    predicate: Callable[[], Any], *, timeout: float = 180.0, poll: float = 0.2, what: str = "it"
) -> Any:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Raises:
        AssertionError: ``timeout`` seconds passed first.
    """
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def kill_job_processes(workspace: str | os.PathLike[str]) -> None:
    """SIGKILL every controller, spare kernel and trial kernel the workspace's jobs recorded
    (a controller running in this very process, as ``run_job`` does, is left alone)."""
    from automl_nb.runner._controller import kill_spare_kernels
    from automl_nb.runner._layout import JobPaths
    from automl_nb.runner._layout import pid_alive
    from automl_nb.runner._layout import read_json

    root = Path(workspace)
    for status in root.glob("*/*/status.json"):
        pid = read_json(status, {}).get("pid")
        if pid and pid != os.getpid() and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    for job_json in root.glob("*/*/job.json"):
        kill_spare_kernels(JobPaths(job_json.parent))
    for runtime in root.glob("*/*/trials/*/runtime.json"):
        pid = read_json(runtime, {}).get("kernel_pid")
        if pid and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
