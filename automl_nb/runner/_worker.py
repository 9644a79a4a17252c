"""The trial side of the runner: what a background kernel executes.

The controller writes ``request.json`` into the trial folder and sends the kernel one line::

    from automl_nb.runner import run_trial_in_kernel

    run_trial_in_kernel("trials/7")

The worker trains with :func:`automl_nb.training.run_trial` (which appends one JSON line per
epoch to ``metrics.jsonl``) and records the outcome in ``status.json``. When the controller
interrupts the kernel (pruning, cancel, timeout) it first writes the reason to ``stop``, so
the worker records ``pruned``/``canceled``/``timeout`` rather than a failure. The trial also
reads that file between batches (``automl_nb.training._builtin_callbacks.StopRequest``), so a
stop is honoured even where the interrupt is lost; meanwhile it writes ``progress.json``.
"""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from typing import Any

from automl_nb.runner._layout import read_json
from automl_nb.runner._status import write_trial_status

# Final trial states written to status.json (Optuna's own states are mapped from these).
COMPLETED = "completed"
PRUNED = "pruned"
FAILED = "failed"
CANCELED = "canceled"
TIMEOUT = "timeout"
RUNNING = "running"


def stop_reason(trial_dir: Path) -> str | None:
    """The reason the controller asked this trial to stop, if it did."""
    try:
        return (trial_dir / "stop").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def request_stop(trial_dir: Path, reason: str) -> None:
    """Record why a trial is being stopped, before its kernel is interrupted."""
    (trial_dir / "stop").write_text(reason, encoding="utf-8")


def run_trial_in_kernel(trial_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Run the trial described by ``<trial_dir>/request.json``; return its final status.

    Args:
        trial_dir: The trial folder, holding ``request.json`` with ``hyperparameters`` and
            ``job_yaml`` (path of the job spec).

    Returns:
        The dict written to ``status.json``: ``state``, ``best_score``, ``primary_metric``,
        ``epochs``, ``error`` and timings.
    """
    from automl_nb.config import load_job
    from automl_nb.training import TrialPruned
    from automl_nb.training import run_trial

    folder = Path(trial_dir).resolve()
    request = read_json(folder / "request.json")
    if request is None:
        raise FileNotFoundError(f"{folder / 'request.json'} is missing")
    status: dict[str, Any] = {
        "state": RUNNING,
        "pid": os.getpid(),
        "started": time.time(),
        "number": request.get("number"),
    }
    write_trial_status(folder, **status)
    try:
        spec = load_job(request["job_yaml"])
        result = run_trial(
            spec,
            dict(request.get("hyperparameters") or {}),
            folder,
            resume=request.get("resume", False),
            time_budget=request.get("time_budget"),
        )
        status.update(
            state=PRUNED if getattr(result, "status", COMPLETED) == PRUNED else COMPLETED,
            best_score=_finite_or_none(result.best_score),
            primary_metric=result.primary_metric,
            epochs=result.epochs,
        )
    except (KeyboardInterrupt, TrialPruned):
        status.update(state=stop_reason(folder) or PRUNED, **_kept_model(folder))
    except BaseException as exc:  # noqa: BLE001 - the trial fails, the job goes on
        reason = stop_reason(folder)
        if reason:
            # Asked to stop, and the interrupt surfaced as another error (e.g. it hit an
            # import half-way): the trial stopped on request, it did not fail.
            status.update(state=reason, **_kept_model(folder))
            status["ended"] = time.time()
            write_trial_status(folder, **status)
            return status
        status.update(
            state=FAILED,
            error=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc()[-4000:],
        )
    status["ended"] = time.time()
    write_trial_status(folder, **status)
    return status


def _kept_model(folder: Path) -> dict[str, Any]:
    """The best score of a stopped trial that kept its evaluated model (see ``run_trial``)."""
    model = folder / "model"
    metrics = read_json(model / "metrics.json", None) if model.is_dir() else None
    if not isinstance(metrics, dict):
        return {}
    settings = read_json(model / "settings.json", {}) or {}
    from automl_nb.tasks import as_task

    try:
        primary = as_task(settings.get("task", "")).primary_metric
    except ValueError:
        return {}
    score = _finite_or_none(metrics.get(primary))
    return {} if score is None else {"best_score": score, "primary_metric": primary}


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
