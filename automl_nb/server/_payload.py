"""JSON payloads about jobs, read from the job folder: the REST API's bodies and the
``application/vnd.automl-nb.job+json`` MIME output of the notebook layer.

Pure (no tornado, no IPython): the job folder and its Optuna storage are the truth.
"""

from __future__ import annotations

import math
import time
from typing import Any

from automl_nb.runner._layout import read_json
from automl_nb.runner._status import describe_progress
from automl_nb.runner._status import read_progress

JOB_MIME = "application/vnd.automl-nb.job+json"
# Trial states counted in a job summary; anything else is counted as "other".
COUNTED_STATES = ("completed", "running", "queued", "pruned", "failed", "canceled", "timeout")


def _finite(value: Any) -> float | None:
    """A float JSON can carry (NaN and infinities become None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """A metrics row with non-finite numbers replaced by None (strict JSON)."""
    return {
        k: (_finite(v) if isinstance(v, float) else v)
        for k, v in row.items()
        if isinstance(v, (int, float, str, bool)) or v is None
    }


def _job_settings(job: Any) -> dict[str, Any]:
    """Task, primary metric and max_trials of a job; a half-written folder still answers."""
    record = job.status_record()
    try:
        spec = job.spec
    except Exception:  # noqa: BLE001 - an unreadable job.yaml must not hide the job
        return {"task": None, "primary_metric": record.get("primary_metric"), "max_trials": None}
    return {
        "task": str(getattr(spec.task, "value", spec.task)),
        "primary_metric": record.get("primary_metric") or spec.primary_metric,
        "max_trials": spec.limits.max_trials,
    }


def _elapsed(started: float | None, ended: float | None, now: float) -> float | None:
    if started is None:
        return None
    return max(0.0, (ended if ended is not None else now) - started)


def stop_note(trial: Any, metric: str | None) -> str | None:
    """Why a trial stopped early (pruned, canceled, timeout), from its folder and metrics."""
    if trial.state not in ("pruned", "canceled", "timeout"):
        return None
    rows = [r for r in trial.metrics if isinstance(r.get("epoch"), int)]
    note = {
        "pruned": "pruned by the early-termination policy",
        "canceled": "canceled on request",
        "timeout": "stopped at the trial timeout",
    }[trial.state]
    if rows:
        last = rows[-1]
        value = _finite(last.get(metric)) if metric else None
        note += f" after epoch {last['epoch']}"
        if value is not None:
            note += f" ({metric} = {value:.4f})"
    return note


def trial_payload(trial: Any, metric: str | None, now: float) -> dict[str, Any]:
    """One trial: state, hyperparameters, per-epoch rows, best score, full error and
    traceback, why it stopped early, timings."""
    status = read_json(trial.folder / "status.json", {}) if trial.folder is not None else {}
    return {
        "number": trial.number,
        "state": trial.state,
        "hyperparameters": trial.hyperparameters,
        "metrics": [_clean_row(r) for r in trial.metrics],
        "epoch": trial.epoch,
        "best_score": _finite(trial.best_score),
        "error": trial.error,
        "traceback": status.get("traceback"),
        "stop_reason": stop_note(trial, metric),
        "progress": read_progress(trial.folder) if trial.state == "running" else None,
        "progress_text": describe_progress(trial.state, read_progress(trial.folder)),
        "started": trial.started,
        "ended": trial.ended,
        "elapsed": _elapsed(trial.started, trial.ended, now),
    }


def job_summary(job: Any, trials: list[Any] | None = None) -> dict[str, Any]:
    """A job's line in a list: status, trial counts, best score, elapsed time."""
    now = time.time()
    trials = job.trials() if trials is None else trials
    record = job.status_record()
    settings = _job_settings(job)
    counts = dict.fromkeys(COUNTED_STATES, 0)
    for trial in trials:
        key = trial.state if trial.state in counts else "other"
        counts[key] = counts.get(key, 0) + 1
    scored = [t for t in trials if t.state == "completed" and _finite(t.best_score) is not None]
    best = max(scored, key=lambda t: t.best_score) if scored else None
    started = record.get("started") or record.get("submitted")
    return {
        "id": job.id,
        "experiment": job.paths.experiment,
        "status": job.status,
        **settings,
        "total": len(trials),
        "counts": counts,
        "best_score": _finite(best.best_score) if best else None,
        "best_trial": best.number if best else None,
        "created": job._meta.get("created"),
        "started": started,
        "ended": record.get("ended"),
        "elapsed": _elapsed(started, record.get("ended") if job.done else None, now),
        "error": record.get("error"),
        # Running trials' signs of life, from their first batch.
        "progress": [
            f"trial {t.number}: {describe_progress(t.state, read_progress(t.folder))}"
            for t in trials
            if t.state == "running"
        ],
    }


def plan_payload(job: Any) -> dict[str, str] | None:
    """AutoMode's plan of a job (``plan.json``) as ``{"headline", "text"}``, or None when the
    job has none (a manual sweep) or it cannot be read."""
    try:
        plan = job.plan()
    except Exception:  # noqa: BLE001 - a damaged plan.json must not hide the job
        return None
    if plan is None:
        return None
    return {"headline": plan.headline(), "text": plan.text()}


def job_detail(job: Any) -> dict[str, Any]:
    """A job with all its trials (per-epoch rows, reasons in full), its folder and, for
    AutoMode, its plan."""
    now = time.time()
    trials = job.trials()
    summary = job_summary(job, trials)
    metric = summary["primary_metric"]
    return {
        **summary,
        "folder": str(job.dir),
        "notes": job.status_record().get("notes", []),
        "plan": plan_payload(job),
        "trials": [trial_payload(t, metric, now) for t in trials],
    }
