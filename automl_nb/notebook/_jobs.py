"""Finding the job a verb is about, and reading what the dashboard and tables show."""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.cli._jobs_common import find_job
from automl_nb.cli._jobs_common import job_with_best_model
from automl_nb.notebook._state import last_job
from automl_nb.notebook._state import remember_job


def resolve_job(ctx: Any, ref: str | None) -> Any:
    """The job named ``ref`` (id, unique id prefix or folder), else the last submitted one,
    else the newest job of the workspace (so a restarted kernel finds its job again); it
    becomes the notebook's last job.

    Raises:
        JobError: ``ref`` names no job (or several), or there is no job yet.
    """
    job = find_job(ref, ctx.workspace, None if ref else last_job())
    remember_job(job)
    return job


def resolve_job_with_model(ctx: Any, ref: str | None) -> Any:
    """Like :func:`resolve_job`, but without ``ref`` the newest job that has a best model
    (the last submitted one when it has), so a canceled or failed job is passed over."""
    if not ref:
        job = job_with_best_model(ctx.workspace, last_job())
        if job is not None:
            return job
    return resolve_job(ctx, ref)


def metric_values(trial: Any, metric: str) -> dict[int, float]:
    """``{epoch: value}`` of ``metric`` from a trial's per-epoch rows."""
    out = {}
    for row in trial.metrics:
        epoch, value = row.get("epoch"), row.get(metric)
        if isinstance(epoch, int) and isinstance(value, (int, float)):
            out[epoch] = float(value)
    return out


@dataclass
class JobSnapshot:
    """One reading of a job folder: what a dashboard or a table shows at a moment.

    Attributes:
        job_id: The job id.
        status: The job status.
        primary_metric: The metric the trials are compared on.
        trials: The :class:`automl_nb.runner.TrialInfo` list.
        policy: The early-termination policy (config object), or None.
        max_trials: ``limits.max_trials``.
        taken: When it was read (``time.time()``).
        error: The controller's error, when the job failed.
        plan: AutoMode's plan as ``{"headline", "text"}`` (``plan.json``), or None.
    """

    job_id: str
    status: str
    primary_metric: str
    trials: list[Any] = field(default_factory=list)
    policy: Any = None
    max_trials: int = 1
    taken: float = 0.0
    error: str | None = None
    plan: dict[str, str] | None = None

    @property
    def done(self) -> bool:
        """True once the job will not change any more."""
        return self.status in ("completed", "failed", "canceled", "stopped")

    def curves(self) -> dict[int, dict[int, float]]:
        """``{trial number: {epoch: primary metric}}``."""
        return {t.number: metric_values(t, self.primary_metric) for t in self.trials}

    def best(self) -> tuple[int, float] | None:
        """``(trial number, value)`` of the best primary-metric value reported so far."""
        best = None
        for number, values in self.curves().items():
            for value in values.values():
                if best is None or value > best[1]:
                    best = (number, value)
        return best


def job_settings(job: Any) -> tuple[str, Any, int]:
    """``(primary metric, early-termination policy, max_trials)`` of a job."""
    try:
        spec = job.spec
    except Exception:  # noqa: BLE001 - a half-written job folder still gets a dashboard
        return job.status_record().get("primary_metric") or "accuracy", None, 1
    policy = spec.sweep.early_termination if spec.sweep is not None else None
    return spec.primary_metric, policy, spec.limits.max_trials


def take_snapshot(job: Any, settings: tuple[str, Any, int] | None = None) -> JobSnapshot:
    """Read the job folder (and its Optuna storage) once."""
    from automl_nb.server._payload import plan_payload

    metric, policy, max_trials = settings or job_settings(job)
    record = job.status_record()
    status = job.status
    return JobSnapshot(
        job_id=job.id,
        status=status,
        primary_metric=record.get("primary_metric") or metric,
        trials=job.trials(),
        policy=policy,
        max_trials=max_trials,
        taken=time.time(),
        error=record.get("error"),
        plan=plan_payload(job),
    )


def elapsed(trial: Any, now: float | None = None) -> float | None:
    """Seconds a trial ran (so far, when running)."""
    if trial.started is None:
        return None
    end = trial.ended if trial.ended is not None else (now or time.time())
    return max(0.0, end - trial.started)
