"""The one writer of job and trial ``status.json`` files.

The controller, the trial worker (inside its kernel), recovery after a crash and the
single-trial path of ``automl-vision run`` all record states here, so every status file has the
same fields and is always replaced atomically (:func:`automl_nb.runner._layout.write_json`).

Job ``status.json``: ``status`` (one of the ``JOB_*`` states), ``pid``, ``started``, ``ended``,
``error``, ``primary_metric``, ``best_trial``, ``best_score``, ``notes``.
Trial ``status.json``: ``state`` (``running``, ``completed``, ``pruned``, ``failed``,
``canceled``, ``timeout`` or ``interrupted``), ``pid``, ``started``, ``ended``, ``error``,
``best_score``, ``primary_metric``, ``epochs`` and, for a dead kernel, ``exit``, ``log_tail``
and ``kernel_log_tail``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import read_json
from automl_nb.runner._layout import write_json

log = logging.getLogger("automl_nb.runner")

# Job states written to status.json.
JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_COMPLETED = "completed"
JOB_FAILED = "failed"
JOB_CANCELED = "canceled"

# A trial stopped by a controller crash; a retry continues it from its last checkpoint.
INTERRUPTED = "interrupted"


def read_trial_status(folder: Path) -> dict[str, Any]:
    """The trial folder's ``status.json`` (``{}`` when there is none yet)."""
    return read_json(Path(folder) / "status.json", {}) or {}


def write_trial_status(folder: Path, state: str | None = None, /, **fields: Any) -> dict[str, Any]:
    """Merge ``fields`` (and ``state``) into the trial's ``status.json``; return the record.

    A final state without an ``ended`` time gets one.
    """
    record = {**read_trial_status(folder), **fields}
    if state is not None:
        record["state"] = state
        if state != "running" and not record.get("ended"):
            record["ended"] = time.time()
    write_json(Path(folder) / "status.json", record)
    return record


class StatusRecorder:
    """Records the state of one job folder and of its trials.

    Args:
        paths: The job folder.
        primary_metric: Written into the job record with every update, when known.
    """

    def __init__(self, paths: JobPaths, *, primary_metric: str | None = None) -> None:
        self.paths = paths
        self.primary_metric = primary_metric

    def job_record(self) -> dict[str, Any]:
        """The job's ``status.json``."""
        return read_json(self.paths.status_json, {}) or {}

    def job(self, state: str | None = None, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` (and the job ``state``) into the job's ``status.json``."""
        record = {**self.job_record(), **fields}
        if state is not None:
            record["status"] = state
        if self.primary_metric is not None:
            record["primary_metric"] = self.primary_metric
        write_json(self.paths.status_json, record)
        return record

    def note(self, message: str) -> None:
        """Log ``message`` and append it to the job record's ``notes`` (shown by ``status``)."""
        log.info(message)
        notes = list(self.job_record().get("notes") or [])
        self.job(notes=[*notes, message])

    def trial_record(self, number: int) -> dict[str, Any]:
        """Trial ``number``'s ``status.json``."""
        return read_trial_status(self.paths.trial_dir(number))

    def trial(self, number: int, state: str | None = None, /, **fields: Any) -> dict[str, Any]:
        """Merge ``fields`` (and ``state``) into trial ``number``'s ``status.json``."""
        return write_trial_status(self.paths.trial_dir(number), state, **fields)


# ``progress.json``: what a running trial writes after its batches
# (``automl_nb.training._builtin_callbacks.Progress``).
PROGRESS_FILE = "progress.json"


def read_progress(folder: Path | None) -> dict[str, Any] | None:
    """A running trial's last ``progress.json`` record, or None."""
    if folder is None:
        return None
    record = read_json(Path(folder) / PROGRESS_FILE, None)
    return record if isinstance(record, dict) else None


def _duration(seconds: Any) -> str:
    seconds = int(max(0, float(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def describe_progress(state: str, progress: dict[str, Any] | None) -> str:
    """A running trial's sign of life in words: ``epoch 1/10, batch 12/40, 35.2 images/s,
    1m10s left in this epoch, about 12m00s left in the trial``; ``""`` when not running."""
    if state != "running":
        return ""
    if not progress or "epoch" not in progress:
        return "preparing the data and the model"
    epochs = progress.get("epochs")
    head = f"epoch {progress['epoch']}/{epochs}" if epochs else f"epoch {progress['epoch']}"
    if progress.get("phase") == "evaluating":
        return f"{head}: evaluating"
    if not progress.get("batch"):
        return f"{head}: starting"
    batches = progress.get("batches")
    parts = [
        head,
        f"batch {progress['batch']}/{batches}" if batches else f"batch {progress['batch']}",
    ]
    if isinstance(progress.get("images_per_second"), (int, float)):
        parts.append(f"{progress['images_per_second']:.1f} images/s")
    if isinstance(progress.get("epoch_eta_seconds"), (int, float)):
        parts.append(f"{_duration(progress['epoch_eta_seconds'])} left in this epoch")
    if isinstance(progress.get("eta_seconds"), (int, float)) and epochs and epochs > 1:
        parts.append(f"about {_duration(progress['eta_seconds'])} left in the trial")
    return ", ".join(parts)
