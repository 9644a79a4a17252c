"""The scheduler of a job: asks Optuna for trials, fills free slots, reports epochs to the
pruner and applies the trial limits (cancel, timeout).

It knows nothing of how a finished trial is scored or published: :meth:`TrialScheduler.poll`
hands finished trials back to the controller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from automl_nb.runner._kernel_pool import KernelPool
from automl_nb.runner._kernel_pool import release_kernel
from automl_nb.runner._kernels import TrialKernel
from automl_nb.runner._kernels import describe_exit
from automl_nb.runner._kernels import file_tail
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import read_jsonl
from automl_nb.runner._layout import write_json
from automl_nb.runner._recovery import carry_checkpoints
from automl_nb.runner._slots import Slot
from automl_nb.runner._status import StatusRecorder
from automl_nb.runner._worker import CANCELED
from automl_nb.runner._worker import FAILED
from automl_nb.runner._worker import PRUNED
from automl_nb.runner._worker import RUNNING
from automl_nb.runner._worker import TIMEOUT
from automl_nb.runner._worker import request_stop

log = logging.getLogger("automl_nb.runner")

# How long an interrupted trial may take to record its state before its kernel is killed.
STOP_GRACE_SECONDS = 30.0
# Lines of log.txt / kernel.log kept in the status of a trial whose kernel died.
LOG_TAIL_LINES = 40


@dataclass
class RunningTrial:
    """A trial the scheduler started and still watches."""

    number: int
    optuna_trial: Any
    slot: Slot
    kernel: TrialKernel | None
    folder: Path
    started: float
    reported_steps: set[int] = field(default_factory=set)
    stopping: str | None = None
    stop_requested_at: float | None = None


class TrialScheduler:
    """Runs trials of one study on the job's slots.

    Args:
        study: The Optuna study.
        plan: The sweep plan (``suggest(trial)`` gives a trial's hyperparameters).
        paths: The job folder.
        slots: Where trials run.
        pool: The job's kernels.
        status: The job's status recorder.
        budget: How many trials the job may run (interrupted ones not counted).
        metric: The primary metric reported to the pruner.
        trial_timeout: Seconds a trial may run.
        worker_id: ``host:pid`` recorded on each trial (recovery tells dead controllers apart).
        on_event: Called as ``on_event(kind, number, data)`` when a trial starts or reports.
    """

    def __init__(
        self,
        *,
        study: Any,
        plan: Any,
        paths: JobPaths,
        slots: list[Slot],
        pool: KernelPool,
        status: StatusRecorder,
        budget: int,
        metric: str,
        trial_timeout: float,
        worker_id: str,
        on_event: Callable[[str, int, dict[str, Any]], None],
    ) -> None:
        self.study, self.plan, self.paths = study, plan, paths
        self.slots, self.pool, self.status = slots, pool, status
        self.budget, self.metric, self.trial_timeout = budget, metric, trial_timeout
        self.worker_id = worker_id
        self.on_event = on_event
        self.running: dict[str, RunningTrial] = {}
        self._finished: list[RunningTrial] = []
        # Seconds a trial started now may train (the controller's job deadline), or None.
        self.trial_time_budget: Callable[[], float] | None = None

    # ----------------------------------------------------------------------------- starting
    def remaining(self) -> int:
        """Trials still to start within the budget (queued ones are still to start)."""
        counted = [
            t
            for t in self.study.get_trials(deepcopy=False)
            if not t.user_attrs.get("interrupted") and t.state.name != "WAITING"
        ]
        return self.budget - len(counted)

    def fill_free_slots(self) -> None:
        """Start a trial on every free slot while the budget lasts."""
        busy = {r.slot.name for r in self.running.values()}
        for slot in self.slots:
            if slot.name in busy or self.remaining() <= 0:
                continue
            self.start_trial(slot)

    def _prepare_folder(self, trial: Any, slot: Slot) -> tuple[Path, dict[str, Any]]:
        hyperparameters = self.plan.suggest(trial)
        folder = self.paths.trial_dir(trial.number)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in ("stop", "status.json", "cancel"):
            (folder / stale).unlink(missing_ok=True)
        trial.set_user_attr("worker", self.worker_id)
        trial.set_user_attr("hyperparameters", hyperparameters)
        trial.set_user_attr("slot", slot.name)
        request = {
            "number": trial.number,
            "hyperparameters": hyperparameters,
            "job_yaml": str(self.paths.job_yaml),
            "slot": slot.name,
        }
        if self.trial_time_budget is not None:
            request["time_budget"] = self.trial_time_budget()
        retry_of = trial.user_attrs.get("retry_of")
        if retry_of is not None:
            # An interrupted trial continues from its last checkpoint in this folder.
            source = self.paths.trial_dir(int(retry_of))
            resume = carry_checkpoints(source, folder)
            request.update(resume=resume, retry_of=int(retry_of))
            self.status.trial(int(retry_of), retried_as=trial.number)
        write_json(folder / "request.json", request)
        return folder, hyperparameters

    def start_trial(self, slot: Slot) -> None:
        """Ask Optuna for a trial and start it in the slot's kernel."""
        trial = self.study.ask()
        folder, hyperparameters = self._prepare_folder(trial, slot)
        code = (
            "import os\n"
            f"os.chdir({str(folder)!r})\n"
            "from automl_nb.runner import run_trial_in_kernel as _run_trial\n"
            f"_run_trial({str(folder)!r})"
        )
        kernel: TrialKernel | None = None
        try:
            kernel = self.pool.take(slot)
            kernel.run(code)
        except Exception as exc:  # noqa: BLE001 - a kernel that cannot start fails its trial
            self.status.trial(
                trial.number, FAILED, error=f"the trial's kernel did not start: {exc}"
            )
            if kernel is not None:
                kernel.shutdown()
            self._finished.append(
                RunningTrial(trial.number, trial, slot, None, folder, time.time())
            )
            return
        write_json(
            folder / "runtime.json",
            {"kernel_pid": kernel.pid, "slot": slot.name, "kernel_dir": str(kernel.trial_dir)},
        )
        self.running[slot.name] = RunningTrial(
            trial.number, trial, slot, kernel, folder, time.time()
        )
        if self.remaining() > 0:
            self.pool.prewarm(slot)
        log.info("trial %d started on %s: %s", trial.number, slot.name, hyperparameters)
        self.on_event("started", trial.number, {"slot": slot.name, "params": hyperparameters})

    # ----------------------------------------------------------------------------- watching
    def poll(self) -> list[RunningTrial]:
        """Report new epochs, apply cancel and timeout; return the trials that ended."""
        for name, running in list(self.running.items()):
            self.report_new_metrics(running)
            if running.stopping is None:
                if (running.folder / "cancel").exists():
                    self.stop(running, CANCELED)
                elif time.time() - running.started > self.trial_timeout:
                    self.stop(running, TIMEOUT)
            outcome = running.kernel.poll() if running.kernel is not None else "dead"
            overdue = time.time() - (running.stop_requested_at or 0) > STOP_GRACE_SECONDS
            if outcome is None and running.stopping is not None and overdue:
                outcome = "dead"
            if outcome is None:
                continue
            self.report_new_metrics(running)
            if outcome != "ok":
                self._record_unfinished(running, outcome)
            if running.kernel is not None:
                release_kernel(running.kernel, log_to=running.folder)
            del self.running[name]
            self._finished.append(running)
        finished, self._finished = self._finished, []
        return finished

    def _record_unfinished(self, running: RunningTrial, outcome: str) -> None:
        """A kernel that died (or whose code raised) before the trial recorded its end."""
        record = self.status.trial_record(running.number)
        if record.get("state") not in (None, RUNNING):
            return
        kernel = running.kernel
        code = kernel.exit_code() if kernel is not None else None
        if outcome == "dead":
            error = f"the trial's kernel died: {describe_exit(code)}"
        else:
            error = "the trial's code raised in its kernel (see kernel_log_tail)"
        log_tail = file_tail(running.folder / "log.txt", LOG_TAIL_LINES)
        kernel_tail = kernel.log_tail(LOG_TAIL_LINES) if kernel is not None else ""
        self.status.trial(
            running.number,
            running.stopping or FAILED,
            error=error,
            exit=code,
            log_tail=log_tail,
            kernel_log_tail=kernel_tail,
        )
        log.warning("trial %d: %s; last log lines:\n%s", running.number, error, log_tail)

    def report_new_metrics(self, running: RunningTrial) -> None:
        """Report each new epoch's primary metric to Optuna; stop the trial when pruned."""
        for row in read_jsonl(running.folder / "metrics.jsonl"):
            step = row.get("epoch")
            value = row.get(self.metric)
            if not isinstance(step, int) or step in running.reported_steps:
                continue
            if not isinstance(value, (int, float)) or value != value:
                continue
            running.reported_steps.add(step)
            running.optuna_trial.report(float(value), step)
            self.on_event("epoch", running.number, row)
            if running.stopping is None and running.optuna_trial.should_prune():
                log.info(
                    "trial %d pruned at epoch %d (%s=%.4f)",
                    running.number,
                    step,
                    self.metric,
                    value,
                )
                self.stop(running, PRUNED)

    # ----------------------------------------------------------------------------- stopping
    def stop(self, running: RunningTrial, reason: str) -> None:
        """Ask a trial to stop: record why, then interrupt its kernel."""
        running.stopping = reason
        running.stop_requested_at = time.time()
        request_stop(running.folder, reason)
        if running.kernel is not None:
            running.kernel.interrupt()

    def stop_all(self, reason: str, *, wait: bool = False, poll_interval: float = 0.25) -> None:
        """Stop every running trial; with ``wait``, give them the grace time, then kill."""
        for running in self.running.values():
            if running.stopping is None:
                self.stop(running, reason)
        if not wait:
            return
        end = time.time() + STOP_GRACE_SECONDS
        while self.running and time.time() < end:
            self._finished.extend(self.poll())
            time.sleep(poll_interval)
        for running in list(self.running.values()):
            if running.kernel is not None:
                release_kernel(running.kernel, log_to=running.folder)
            self._finished.append(running)
        self.running.clear()

    def take_finished(self) -> list[RunningTrial]:
        """Trials that ended during :meth:`stop_all` (and were not handed out yet)."""
        finished, self._finished = self._finished, []
        return finished
