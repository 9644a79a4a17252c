"""The kernels of a job: one per slot, started ahead of the slot's next trial, released after.

A kernel started ahead of its trial lives in ``<job>/.kernels/<slot>-<token>/`` (its
``kernel.log`` and ``pid``); once it runs a trial its log is copied into the trial folder
when it is released. Kernels left behind by a controller that was killed are killed here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import signal
from pathlib import Path

from automl_nb.runner._kernels import TrialKernel
from automl_nb.runner._kernels import write_kernelspec
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_json
from automl_nb.runner._slots import Slot

log = logging.getLogger("automl_nb.runner")

# Sent to a kernel started ahead of its trial: the imports are most of a trial's start-up.
WARMUP_CODE = "import torch, torchvision, timm\nimport automl_nb.training, automl_nb.inference\n"

KERNELS_DIR = ".kernels"


class KernelPool:
    """Starts, pre-warms and releases the trial kernels of one job.

    Args:
        paths: The job folder (its private kernelspec is written under ``.kernelspec``).
    """

    def __init__(self, paths: JobPaths) -> None:
        self.paths = paths
        self.kernelspec_dir = write_kernelspec(paths.root / ".kernelspec")
        self._warm: dict[str, TrialKernel] = {}

    def _new_kernel(self, slot: Slot) -> TrialKernel:
        name = f"{slot.name.replace(':', '-')}-{secrets.token_hex(3)}"
        folder = self.paths.root / KERNELS_DIR / name
        kernel = TrialKernel(
            folder,
            kernelspec_dir=self.kernelspec_dir,
            cuda_devices=slot.cuda_devices,
            threads=slot.threads,
        )
        kernel.launch(warmup=WARMUP_CODE)
        (folder / "pid").write_text(str(kernel.pid), encoding="utf-8")
        return kernel

    def take(self, slot: Slot) -> TrialKernel:
        """The slot's warm kernel if it is still alive, else a new one."""
        kernel = self._warm.pop(slot.name, None)
        if kernel is not None and kernel.is_alive():
            return kernel
        if kernel is not None:
            release_kernel(kernel)
        return self._new_kernel(slot)

    def prewarm(self, slot: Slot) -> None:
        """Start the slot's next kernel now, so its imports overlap the running trial."""
        if slot.name in self._warm:
            return
        try:
            self._warm[slot.name] = self._new_kernel(slot)
        except Exception as exc:  # noqa: BLE001 - the next trial starts a kernel itself
            log.warning("could not start a spare kernel on %s: %s", slot.name, exc)

    def discard_warm(self) -> None:
        """Shut down every kernel started ahead of a trial that will not come."""
        for kernel in self._warm.values():
            release_kernel(kernel)
        self._warm.clear()


def release_kernel(kernel: TrialKernel, *, log_to: Path | None = None) -> None:
    """Shut a kernel down; keep its log in the trial folder and drop its own folder."""
    kernel.shutdown()
    if kernel.trial_dir.parent.name != KERNELS_DIR:
        return
    if log_to is not None and (kernel.trial_dir / "kernel.log").exists():
        shutil.copyfile(kernel.trial_dir / "kernel.log", log_to / "kernel.log")
    shutil.rmtree(kernel.trial_dir, ignore_errors=True)


def _kill(pid: int | None) -> bool:
    if pid and pid_alive(int(pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
            return True
    return False


def kill_spare_kernels(paths: JobPaths) -> None:
    """Kill kernels started ahead of their trial by a controller that is gone."""
    for pid_file in paths.root.glob(f"{KERNELS_DIR}/*/pid"):
        with contextlib.suppress(ValueError, OSError):
            _kill(int(pid_file.read_text(encoding="utf-8") or 0))
        shutil.rmtree(pid_file.parent, ignore_errors=True)


def kill_orphan_kernel(folder: Path) -> bool:
    """Kill a trial kernel left behind by a controller that was killed; True if one ran.

    Its ``kernel.log`` (in ``.kernels/``) is copied into the trial folder first.
    """
    runtime = read_json(folder / "runtime.json", {}) or {}
    killed = _kill(runtime.get("kernel_pid"))
    kernel_dir = Path(runtime.get("kernel_dir") or folder)
    if kernel_dir != folder and (kernel_dir / "kernel.log").exists():
        with contextlib.suppress(OSError):
            shutil.copyfile(kernel_dir / "kernel.log", folder / "kernel.log")
    return killed
