"""The job controller: runs the sweep of one job folder from start (or resume) to its end.

It runs as a detached process (``python -m automl_nb.runner JOB_DIR``) that outlives notebook
kernel restarts, or in the foreground for ``automl-vision run``. The job folder and the Optuna
storage are the truth: a controller that is killed can be started again (``resume``) and
continues without redoing finished trials.

The work is split by job:

* :class:`~automl_nb.runner._scheduler.TrialScheduler` asks Optuna, fills slots, reports
  epochs to the pruner and applies cancel and timeouts;
* :class:`~automl_nb.runner._kernel_pool.KernelPool` starts, pre-warms and releases kernels;
* :class:`~automl_nb.runner._publisher.BestModelPublisher` stages ``best_model/``;
* :class:`~automl_nb.runner._status.StatusRecorder` writes every ``status.json``;
* :mod:`~automl_nb.runner._recovery` settles what a dead controller left behind.

The controller wires them together and scores each finished trial in the storage.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_nb.runner._kernel_pool import KernelPool
from automl_nb.runner._kernel_pool import kill_spare_kernels
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import read_json
from automl_nb.runner._publisher import BestModelPublisher
from automl_nb.runner._recovery import recover_interrupted
from automl_nb.runner._recovery import remove_stale_temp_files
from automl_nb.runner._scheduler import RunningTrial
from automl_nb.runner._scheduler import TrialScheduler
from automl_nb.runner._slots import gpus_per_trial
from automl_nb.runner._slots import plan_slots
from automl_nb.runner._status import JOB_CANCELED
from automl_nb.runner._status import JOB_COMPLETED
from automl_nb.runner._status import JOB_FAILED
from automl_nb.runner._status import JOB_QUEUED
from automl_nb.runner._status import JOB_RUNNING
from automl_nb.runner._status import StatusRecorder
from automl_nb.runner._storage import open_storage
from automl_nb.runner._worker import CANCELED
from automl_nb.runner._worker import COMPLETED
from automl_nb.runner._worker import FAILED
from automl_nb.runner._worker import PRUNED
from automl_nb.runner._worker import RUNNING
from automl_nb.runner._worker import TIMEOUT

__all__ = [
    "JOB_CANCELED",
    "JOB_COMPLETED",
    "JOB_FAILED",
    "JOB_QUEUED",
    "JOB_RUNNING",
    "JobController",
    "TrialEvent",
    "kill_spare_kernels",
]

log = logging.getLogger("automl_nb.runner")
# Study attribute holding AutoMode's plan, for workers on other machines.
PLAN_ATTR = "automode_plan"


@dataclass(frozen=True)
class TrialEvent:
    """Something that happened to a trial, for foreground progress display."""

    kind: str  # "started" | "epoch" | "finished"
    number: int
    data: dict[str, Any]


class JobController:
    """Runs (or resumes) the sweep of one job folder.

    Args:
        job_dir: The job folder written by :func:`automl_nb.runner.submit`.
        storage: Optuna storage URL; default: the one recorded in ``job.json``.
        on_event: Called with each :class:`TrialEvent` (foreground progress).
        poll_interval: Seconds between checks of the running trials.
    """

    def __init__(
        self,
        job_dir: Path,
        *,
        storage: str | None = None,
        on_event: Callable[[TrialEvent], None] | None = None,
        poll_interval: float = 0.25,
    ) -> None:
        self.paths = JobPaths(Path(job_dir).resolve())
        meta = read_json(self.paths.job_json, {})
        self.storage_url = storage if storage is not None else meta.get("storage")
        self.on_event = on_event
        self.poll_interval = poll_interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.status = StatusRecorder(self.paths)
        self.publisher = BestModelPublisher(self.paths)
        self._observed_epoch_seconds: float | None = None

    # ----------------------------------------------------------------------------- setup
    def _load(self) -> None:
        import optuna

        from automl_nb.config import load_job
        from automl_nb.sweep import create_study_components
        from automl_nb.sweep import visible_gpu_memory_gb

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.spec = load_job(self.paths.job_yaml)
        self.plan = create_study_components(
            self.spec,
            gpu_memory_gb=visible_gpu_memory_gb(),
            automode_plan=automode_plan_of(self.spec, self.paths, self.storage_url),
        )
        self.study = optuna.create_study(
            study_name=self.paths.job_id,
            storage=open_storage(self.storage_url, journal=self.paths.journal),
            sampler=self.plan.sampler,
            pruner=self.plan.pruner,
            direction="maximize",
            load_if_exists=True,
        )
        job_yaml = self.paths.job_yaml.read_text(encoding="utf-8")
        if self.study.user_attrs.get("job_yaml") != job_yaml:
            # Workers on other machines read the spec from the shared storage (a resume
            # with more trials or time changes it).
            self.study.set_user_attr("job_yaml", job_yaml)
        automode_plan = self.plan.automode_plan
        if automode_plan is not None and PLAN_ATTR not in self.study.user_attrs:
            # Workers on other machines sample from the same plan (see automode_plan_of).
            self.study.set_user_attr(PLAN_ATTR, automode_plan.to_dict())
        self.plan.enqueue_first_trial(self.study)
        self.metric = (
            self.spec.task.primary_metric
            if hasattr(self.spec.task, "primary_metric")
            else self.spec.primary_metric
        )
        self.status.primary_metric = self.metric
        limits = self.spec.limits
        budget = min(limits.max_trials, self.plan.n_trials)
        slots = plan_slots(
            max_trials=budget,
            max_concurrent_trials=limits.max_concurrent_trials,
            compute=self.spec.compute,
            gpus_per_trial=gpus_per_trial(self.spec),
        )
        threads = getattr(self.plan.automode_plan, "threads", None)
        if threads:
            # AutoMode's probe found fewer threads per CPU trial faster on this machine now.
            slots = [
                dataclasses.replace(s, threads=min(s.threads, threads)) if s.threads else s
                for s in slots
            ]
        self.scheduler = TrialScheduler(
            study=self.study,
            plan=self.plan,
            paths=self.paths,
            slots=slots,
            pool=KernelPool(self.paths),
            status=self.status,
            budget=budget,
            metric=self.metric,
            trial_timeout=limits.trial_timeout_minutes * 60,
            worker_id=self.worker_id,
            on_event=self._emit,
        )
        self.scheduler.trial_time_budget = self._trial_time_budget

    def _recover(self) -> None:
        """Settle what a dead controller left: kernels, trials, temp files, best_model/."""
        notes = recover_interrupted(self.study, self.paths, self.status)
        kill_spare_kernels(self.paths)
        self.publisher.remove_stale_staging()
        remove_stale_temp_files(self.paths)
        self._publish_best()
        for line in notes:
            self.status.note(line)

    # ----------------------------------------------------------------------------- loop
    def run(self) -> str:
        """Run until the sweep is done, the job is canceled or its timeout passes.

        Returns:
            The final job state (``completed``, ``failed`` or ``canceled``).
        """
        self._load()
        started = self.status.job_record().get("started") or time.time()
        self.status.job(JOB_RUNNING, started=started, pid=os.getpid(), ended=None, error=None)
        self._recover()
        deadline = started + self.spec.limits.timeout_minutes * 60
        self.deadline = deadline
        final = JOB_COMPLETED
        scheduler = self.scheduler
        try:
            while True:
                if self.paths.cancel_flag.exists() and final != JOB_CANCELED:
                    scheduler.stop_all(CANCELED)
                    final = JOB_CANCELED
                if time.time() > deadline and final != JOB_CANCELED:
                    scheduler.stop_all(TIMEOUT)
                    self.status.note("job timeout reached; no new trials")
                    deadline = float("inf")
                    scheduler.budget = 0
                for running in scheduler.poll():
                    self._finish(running)
                if self._too_late_for_a_trial(deadline):
                    scheduler.budget = scheduler.budget - scheduler.remaining()
                    self.status.note("too little time left for another trial to be evaluated")
                if final != JOB_CANCELED:
                    scheduler.fill_free_slots()
                    for running in scheduler.take_finished():  # kernels that did not start
                        self._finish(running)
                if not scheduler.running and (final == JOB_CANCELED or scheduler.remaining() <= 0):
                    break
                time.sleep(self.poll_interval)
        except BaseException as exc:
            scheduler.stop_all(CANCELED, wait=True, poll_interval=self.poll_interval)
            for running in scheduler.take_finished():
                self._finish(running)
            self.status.job(JOB_FAILED, ended=time.time(), error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            scheduler.pool.discard_warm()
        if final == JOB_COMPLETED and self._all_canceled():
            # Trials that were all canceled one by one leave a canceled job (with the best
            # model one of them kept, if any), not a completed or failed one.
            final = JOB_CANCELED
        elif final == JOB_COMPLETED and not self._any_completed():
            final = JOB_FAILED
        self.status.job(final, ended=time.time(), **self._best_summary())
        return final

    def _trial_time_budget(self) -> float:
        """Seconds a trial starting now may train: its own limit, or the job's time left."""
        left = getattr(self, "deadline", float("inf")) - time.time()
        plan = self.plan.automode_plan
        startup = plan.trial_overhead_seconds if plan is not None else 0.0
        return max(1.0, min(self.spec.limits.trial_timeout_minutes * 60, left - startup))

    def _too_late_for_a_trial(self, deadline: float) -> bool:
        """AutoMode: the time left cannot take a new trial to its first evaluation rung."""
        plan = self.plan.automode_plan
        if plan is None or not plan.candidates or deadline == float("inf"):
            return False
        if self.scheduler.remaining() <= 0:
            return False
        if len(self.scheduler.running) >= len(self.scheduler.slots):
            return False
        cheapest = min(c.epoch_seconds for c in plan.candidates)
        if self._observed_epoch_seconds is not None:
            # What epochs really took here beats the probe's estimate (the load changes).
            cheapest = min(cheapest, self._observed_epoch_seconds)
        needed = plan.trial_overhead_seconds + plan.min_resource * cheapest
        return deadline - time.time() < needed

    def _finish(self, running: RunningTrial) -> None:
        """Score a trial that ended in the storage; publish it when it is the best."""
        import optuna

        record = self.status.trial_record(running.number)
        state = record.get("state")
        if state in (None, RUNNING):
            # Stopped before the worker could record anything (e.g. canceled while starting).
            state = running.stopping or FAILED
            record = self.status.trial(running.number, state)
        trial = running.optuna_trial
        trial.set_user_attr("status", state)
        if record.get("error"):
            trial.set_user_attr("error", str(record["error"])[:2000])
        score = record.get("best_score")
        # A trial stopped by a timeout or a cancel after an evaluation kept its best model:
        # it counts with that score (its state still says why it stopped).
        kept = state in (TIMEOUT, CANCELED) and (running.folder / "model").is_dir()
        if (state == COMPLETED or kept) and score is not None:
            self.study.tell(trial, float(score))
            self._publish_best()
        elif state == PRUNED:
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        self._observe_epochs(running.folder)
        log.info("trial %d finished: %s (best %s=%s)", running.number, state, self.metric, score)
        self._emit("finished", running.number, record)

    def _observe_epochs(self, folder: Path) -> None:
        """Remember the fastest mean epoch time (training and validation) seen in a trial."""
        from automl_nb.runner._layout import read_jsonl

        times = [
            float(row.get("seconds") or 0) + float(row.get("validation_seconds") or 0)
            for row in read_jsonl(folder / "metrics.jsonl")
        ]
        if times:
            mean = sum(times) / len(times)
            known = self._observed_epoch_seconds
            self._observed_epoch_seconds = mean if known is None else min(known, mean)

    def _publish_best(self) -> None:
        """Make ``best_model/`` the best completed trial's model (if it is not already)."""
        best = self._best_summary()
        if best["best_trial"] is not None and self.publisher.ensure(best["best_trial"]):
            self.status.job(**best)

    # ----------------------------------------------------------------------------- status
    def _any_completed(self) -> bool:
        import optuna

        return any(
            t.state == optuna.trial.TrialState.COMPLETE
            for t in self.study.get_trials(deepcopy=False)
        )

    def _all_canceled(self) -> bool:
        trials = self.study.get_trials(deepcopy=False)
        return bool(trials) and all(t.user_attrs.get("status") == CANCELED for t in trials)

    def _best_summary(self) -> dict[str, Any]:
        try:
            best = self.study.best_trial
        except ValueError:
            return {"best_trial": None, "best_score": None}
        return {"best_trial": best.number, "best_score": best.value}

    def _emit(self, kind: str, number: int, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(TrialEvent(kind, number, data))


def automode_plan_of(spec: Any, paths: JobPaths, storage_url: str | None = None) -> Any:
    """The job's AutoMode plan: ``plan.json`` when written at submit, else the one in the
    shared storage (a worker joining from another machine), else planned now."""
    from automl_nb.sweep import Plan
    from automl_nb.sweep import is_automode
    from automl_nb.sweep import plan_job
    from automl_nb.sweep._plan_job import workspace_of

    if not is_automode(spec):
        return None
    plan = Plan.load(paths.root)
    if plan is None and storage_url:
        import optuna

        try:
            study = optuna.load_study(
                study_name=paths.job_id,
                storage=open_storage(storage_url, journal=paths.journal),
            )
            stored = study.user_attrs.get(PLAN_ATTR)
        except KeyError:
            stored = None
        plan = Plan.from_dict(stored) if stored else None
    if plan is None:
        plan = plan_job(spec, workspace=workspace_of(paths.root))
    plan.save(paths.root)
    return plan
