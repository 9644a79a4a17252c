"""One background Jupyter kernel per trial (jupyter_client), pinned to this Python.

The kernel runs one line, ``run_trial_in_kernel("<trial dir>")``; everything the trial produces
goes to files in its folder, so the kernel is only a process boundary with a clean interrupt
(``KeyboardInterrupt`` in the trial) and a hard stop (shutdown / kill).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

KERNEL_NAME = "automl-nb-trial"


def write_kernelspec(folder: Path) -> Path:
    """Write a private kernelspec that runs ipykernel on *this* interpreter.

    A user-registered ``python3`` kernelspec may point at another environment; pinning
    ``sys.executable`` guarantees trials run with the same packages as the controller.
    """
    spec_dir = folder / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "automl-nb trial",
        "language": "python",
        "interrupt_mode": "signal",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


class TrialKernel:
    """A kernel that runs one trial.

    Args:
        trial_dir: The kernel's working directory, where ``kernel.log`` (the kernel's own
            stdout/stderr) is written: the trial folder, or a folder of its own for a kernel
            started ahead of its trial.
        kernelspec_dir: Folder holding the private kernelspec (see :func:`write_kernelspec`).
        cuda_devices: Value for ``CUDA_VISIBLE_DEVICES``; ``""`` hides every GPU.
        threads: CPU threads for the trial (``OMP_NUM_THREADS`` and friends), or None.
    """

    def __init__(
        self,
        trial_dir: Path,
        *,
        kernelspec_dir: Path,
        cuda_devices: str | None = None,
        threads: int | None = None,
    ) -> None:
        self.trial_dir = Path(trial_dir)
        self.kernelspec_dir = Path(kernelspec_dir)
        self.cuda_devices = cuda_devices
        self.threads = threads
        self._km: Any = None
        self._kc: Any = None
        self._msg_id: str | None = None
        self._log_file: Any = None
        self.started_at: float | None = None

    @property
    def pid(self) -> int | None:
        """The kernel process id, once started."""
        provisioner = getattr(self._km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        return getattr(process, "pid", None)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.cuda_devices is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.cuda_devices
        if self.threads:
            for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
                env[var] = str(self.threads)
        env.setdefault("MPLBACKEND", "Agg")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def launch(
        self, *, warmup: str | None = None, startup_timeout: float = 120.0, attempts: int = 3
    ) -> None:
        """Start the kernel and wait until it answers; ``warmup`` code (imports) is sent
        without waiting for it, so a kernel can get ready while another trial still runs."""
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        self.trial_dir.mkdir(parents=True, exist_ok=True)
        last_error: Exception | None = None
        for attempt in range(1, attempts + 1):
            ksm = KernelSpecManager()
            ksm.kernel_dirs = [str(self.kernelspec_dir)]
            ksm.ensure_native_kernel = False
            km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
            self._log_file = open(self.trial_dir / "kernel.log", "ab")  # noqa: SIM115
            try:
                km.start_kernel(
                    cwd=str(self.trial_dir),
                    env=self._env(),
                    # Parallel kernels must not fight over IPython's history database.
                    extra_arguments=["--HistoryManager.enabled=False"],
                    stdout=self._log_file,
                    stderr=self._log_file,
                )
                kc = km.client()
                kc.start_channels()
                kc.wait_for_ready(timeout=startup_timeout)
            except Exception as exc:  # port race or a kernel that died while starting
                last_error = exc
                log.warning("kernel start attempt %d failed: %s", attempt, exc)
                with contextlib.suppress(Exception):  # best-effort cleanup
                    km.shutdown_kernel(now=True)
                self._log_file.close()
                time.sleep(0.5 * attempt)
                continue
            self._km, self._kc = km, kc
            if warmup:
                kc.execute(warmup, store_history=False, silent=True, allow_stdin=False)
            return
        raise RuntimeError(f"could not start a kernel in {self.trial_dir}: {last_error}")

    def run(self, code: str) -> None:
        """Send ``code`` for execution; :meth:`poll` reports when it has returned."""
        if self._kc is None:
            raise RuntimeError("the kernel is not started")
        self._msg_id = self._kc.execute(code, store_history=False, allow_stdin=False)
        self.started_at = time.time()

    def start(self, code: str, *, startup_timeout: float = 120.0, attempts: int = 3) -> None:
        """Start the kernel and send ``code`` for execution; returns once it is running."""
        self.launch(startup_timeout=startup_timeout, attempts=attempts)
        self.run(code)

    def is_alive(self) -> bool:
        """True while the kernel process runs."""
        return self._km is not None and self._km.is_alive()

    def poll(self) -> str | None:
        """None while the code runs; ``"ok"``/``"error"`` once it returned; ``"dead"`` if the
        kernel process is gone."""
        if self._kc is None or self._msg_id is None:
            return "dead" if self._kc is None else None
        while True:
            try:
                msg = self._kc.get_shell_msg(timeout=0)
            except queue.Empty:
                break
            if msg.get("parent_header", {}).get("msg_id") == self._msg_id:
                return "ok" if msg["content"].get("status") == "ok" else "error"
        if not self._km.is_alive():
            return "dead"
        return None

    def exit_code(self) -> int | None:
        """The kernel process's exit status once it is gone (``-N``: killed by signal N)."""
        provisioner = getattr(self._km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is None:
            return None
        with contextlib.suppress(Exception):
            process.poll()
        return getattr(process, "returncode", None)

    def interrupt(self) -> None:
        """Send SIGINT: the trial sees ``KeyboardInterrupt`` and records its final state."""
        if self._km is not None and self._km.is_alive():
            self._km.interrupt_kernel()

    def shutdown(self) -> None:
        """Stop the kernel (polite request, then SIGTERM, then SIGKILL) and free resources."""
        if self._kc is not None:
            with contextlib.suppress(Exception):
                self._kc.stop_channels()
        if self._km is not None:
            try:
                if self._km.is_alive():
                    self._km.shutdown_kernel(now=True)
                self._km.cleanup_resources()
            except Exception as exc:  # noqa: BLE001
                log.warning("kernel shutdown for %s: %s", self.trial_dir, exc)
        if self._log_file is not None:
            self._log_file.close()
        self._km = self._kc = None

    def log_tail(self, lines: int = 50) -> str:
        """The last lines the kernel process printed (tracebacks of hard crashes land here)."""
        return file_tail(self.trial_dir / "kernel.log", lines)


def file_tail(path: Path, lines: int = 50) -> str:
    """The last ``lines`` lines of a text file (``""`` when it is missing)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def describe_exit(code: int | None) -> str:
    """``killed by signal 9 (SIGKILL)``, ``exited with code 1`` or ``exit status unknown``."""
    import signal

    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exited with code {code}"
