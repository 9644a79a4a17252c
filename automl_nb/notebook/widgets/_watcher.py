"""The background thread that re-reads a job folder for a dashboard.

It follows the ipywidgets pattern for background updates under ipykernel 7: the thread runs
in a copy of the cell's context and sets the cell's parent header for itself, so what it
sends belongs to the cell that made the dashboard; it only hands snapshots to a callback
that sets widget traits (no printing, no ``with output:``); and it reads at most once per
``interval`` seconds, so a burst of metric rows becomes one update.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any

MIN_INTERVAL = 0.5


def _cell_parent() -> tuple[Any, Any]:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None, None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "get_parent"):
        return shell, None
    return shell, shell.get_parent()


class JobWatcher:
    """Calls ``callback(read())`` every ``interval`` seconds until ``done(result)`` or stop.

    Args:
        read: Reads the job once (returns a snapshot).
        callback: Receives each snapshot (sets widget traits).
        interval: Seconds between reads (at least 0.5).
        done: True when the snapshot is final; the watcher then stops by itself.
        on_error: Receives an exception raised by ``read`` or ``callback``; the watcher
            keeps going.
    """

    def __init__(
        self,
        read: Callable[[], Any],
        callback: Callable[[Any], None],
        *,
        interval: float = 1.0,
        done: Callable[[Any], bool] = lambda snapshot: False,
        on_error: Callable[[BaseException], None] | None = None,
        name: str = "automl-nb-watcher",
    ) -> None:
        self.read = read
        self.callback = callback
        self.interval = max(MIN_INTERVAL, float(interval))
        self.done = done
        self.on_error = on_error
        self.name = name
        self.reads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> JobWatcher:
        """Start the thread (call it from the cell that shows the widget)."""
        if self.running:
            return self
        shell, parent = _cell_parent()
        context = contextvars.copy_context()
        self._stop.clear()
        self._thread = threading.Thread(
            target=context.run, args=(self._loop, shell, parent), name=self.name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Ask the thread to stop and wait for it (up to ``timeout`` seconds)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self, shell: Any, parent: Any) -> None:
        if parent and hasattr(shell, "set_thread_parent"):
            # ipykernel 7: outputs of sub-threads are routed by the thread's parent header.
            shell.set_thread_parent(parent)
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                snapshot = self.read()
                self.reads += 1
                self.callback(snapshot)
                if self.done(snapshot):
                    return
            except Exception as exc:  # noqa: BLE001 - a torn read must not kill the thread
                if self.on_error is not None:
                    self.on_error(exc)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))
