"""AutoMode's plan at submit time, and the longer limits of a resumed sweep."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from automl_nb.errors import JobError
from automl_nb.runner._layout import JobPaths


def write_plan(paths: JobPaths, *, started: float | None = None) -> Any:
    """AutoMode: plan the job's sweep into ``plan.json`` (the cost probe is cached in the
    workspace); returns the :class:`~automl_nb.sweep.Plan`, or ``None`` for other jobs.

    The job's clock (``timeout_minutes``) starts at ``started`` (default: now), before the
    data profile and the cost probe, so planning counts against the budget it plans for."""
    from automl_nb.config import load_job
    from automl_nb.runner._status import StatusRecorder
    from automl_nb.sweep import is_automode
    from automl_nb.sweep import plan_job

    spec = load_job(paths.job_yaml)  # data paths made absolute
    if not is_automode(spec):
        return None
    started = time.time() if started is None else started
    StatusRecorder(paths).job(started=started)
    plan = plan_job(spec, workspace=paths.root.parent.parent, started=started)
    plan.save(paths.root)
    return plan


def extend_limits(job: Any, *, max_trials: int | None, timeout_minutes: int | None) -> None:
    """Rewrite a job's ``job.yaml`` limits before it is resumed.

    Args:
        job: The :class:`~automl_nb.runner.Job`.
        max_trials: The new ``max_trials``: every trial, earlier ones included.
        timeout_minutes: The new ``timeout_minutes``, counted from the resume.

    Raises:
        JobError: ``max_trials`` not above the trials the job has, or a timeout under 1.
    """
    from automl_nb.config import dump_job

    spec = job.spec
    changes: dict[str, Any] = {}
    if max_trials is not None:
        done = len(job.trials())
        if max_trials <= done:
            raise JobError(
                f"job {job.id} has {done} trials already; --max-trials must be more "
                "(it counts every trial, earlier ones included)"
            )
        changes["max_trials"] = int(max_trials)
    if timeout_minutes is not None:
        if timeout_minutes < 1:
            raise JobError("--timeout-minutes must be at least 1")
        changes["timeout_minutes"] = int(timeout_minutes)
    limits = dataclasses.replace(spec.limits, **changes)
    job.paths.job_yaml.write_text(
        dump_job(dataclasses.replace(spec, limits=limits)), encoding="utf-8"
    )
