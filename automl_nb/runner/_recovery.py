"""Recovery of a job whose controller died: what ``resume`` does before new trials start.

For every trial the storage still calls running but whose controller is gone:

* its kernel, if it outlived the controller, is killed (ipykernel normally exits with its
  parent; a kernel whose parent only hung, or was re-parented, may not);
* a trial whose ``status.json`` says it completed is scored from that record (and published
  as ``best_model/`` when it is the best): nothing that finished is lost or run again;
* any other is recorded ``interrupted`` (in the storage and in its ``status.json``) and queued
  again with the same hyperparameters; the retry continues from its ``checkpoints/last.pt``
  (the epoch count and optimizer state), carried into the retry's folder.

Stale temporary files (half-written checkpoints and JSON files) are removed first.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from automl_nb.runner._kernel_pool import kill_orphan_kernel
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._status import INTERRUPTED
from automl_nb.runner._status import StatusRecorder
from automl_nb.runner._worker import COMPLETED

log = logging.getLogger("automl_nb.runner")

CHECKPOINT_DIR = "checkpoints"


def remove_stale_temp_files(paths: JobPaths) -> list[Path]:
    """Remove ``*.tmp`` files a killed writer left in the job folder; returns them.

    Call only while no process of this job writes (the controller is starting).
    """
    stale = [p for p in paths.root.rglob("*.tmp") if p.is_file() or p.is_symlink()]
    for path in stale:
        path.unlink(missing_ok=True)
    if stale:
        log.info("removed %d stale temporary files", len(stale))
    return stale


def carry_checkpoints(source: Path, target: Path) -> bool:
    """Give trial folder ``target`` the checkpoints of ``source`` (hard links where possible).

    Returns:
        True when ``target`` now has a ``last.pt`` to resume from.
    """
    origin = Path(source) / CHECKPOINT_DIR
    if not (origin / "last.pt").is_file():
        return False
    destination = Path(target) / CHECKPOINT_DIR
    destination.mkdir(parents=True, exist_ok=True)
    for item in origin.glob("*.pt"):
        copy = destination / item.name
        copy.unlink(missing_ok=True)
        try:
            os.link(item, copy)  # the checkpoint is replaced, never rewritten, so links are safe
        except OSError:
            shutil.copy2(item, copy)
    return True


def _controller_gone(frozen: Any, host: str) -> bool:
    worker = str(frozen.user_attrs.get("worker", ""))
    worker_host, _, worker_pid = worker.partition(":")
    if worker_host != host:
        return False  # a worker on another machine: not ours to judge
    return not (worker_pid.isdigit() and pid_alive(int(worker_pid)))


def _wait_dead(pid: Any, timeout: float = 10.0) -> None:
    end = time.time() + timeout
    while pid and pid_alive(int(pid)) and time.time() < end:
        time.sleep(0.05)


def recover_interrupted(study: Any, paths: JobPaths, status: StatusRecorder) -> list[str]:
    """Settle every trial left running by a dead controller (see the module doc).

    Returns:
        One line per settled trial, for the job's notes.
    """
    import optuna

    from automl_nb.runner._layout import read_json
    from automl_nb.sweep._search_space import FIXED_HYPERPARAMETERS_ATTR

    host = socket.gethostname()
    notes = []
    for frozen in study.get_trials(deepcopy=False):
        if frozen.state != optuna.trial.TrialState.RUNNING or not _controller_gone(frozen, host):
            continue
        folder = paths.trial_dir(frozen.number)
        runtime = read_json(folder / "runtime.json", {}) or {}
        if kill_orphan_kernel(folder):
            _wait_dead(runtime.get("kernel_pid"))
        record = status.trial_record(frozen.number)
        storage = study._storage
        if record.get("state") == COMPLETED and record.get("best_score") is not None:
            # It finished while no controller was watching: keep the result (and count it in
            # the budget, unlike an interrupted trial, so no extra trial is run).
            storage.set_trial_user_attr(frozen._trial_id, "recovered", True)
            storage.set_trial_user_attr(frozen._trial_id, "status", COMPLETED)
            study.tell(frozen.number, float(record["best_score"]))
            notes.append(f"trial {frozen.number} finished while the controller was down: kept")
            continue
        storage.set_trial_user_attr(frozen._trial_id, "interrupted", True)
        epochs = _checkpoint_epoch(folder)
        resumable = f"; the retry continues after epoch {epochs}" if epochs else ""
        status.trial(
            frozen.number,
            INTERRUPTED,
            error=f"the job's controller stopped while this trial ran{resumable}",
        )
        storage.set_trial_user_attr(frozen._trial_id, "status", INTERRUPTED)
        study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
        retry_attrs: dict[str, Any] = {"retry_of": frozen.number}
        if "hyperparameters" in frozen.user_attrs:
            retry_attrs[FIXED_HYPERPARAMETERS_ATTR] = frozen.user_attrs["hyperparameters"]
        # (A trial stopped before its hyperparameters were recorded retries what it sampled.)
        study.enqueue_trial(frozen.params, user_attrs=retry_attrs, skip_if_exists=False)
        notes.append(f"trial {frozen.number} was interrupted: queued again{resumable}")
    for line in notes:
        log.info(line)
    return notes


def _checkpoint_epoch(folder: Path) -> int | None:
    """The epoch of the trial's ``last.pt`` (None: no readable checkpoint)."""
    last = folder / CHECKPOINT_DIR / "last.pt"
    if not last.is_file():
        return None
    try:
        from automl_nb.training._checkpoint import load_checkpoint

        return int(load_checkpoint(last).get("epoch") or 0) or None
    except Exception as exc:  # noqa: BLE001 - a damaged checkpoint: the retry starts afresh
        log.warning("%s is not usable (%s); the retry starts from epoch 1", last, exc)
        last.unlink(missing_ok=True)
        return None
