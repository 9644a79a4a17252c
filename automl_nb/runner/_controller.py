"""The job controller: asks Optuna for parameters, runs each trial in its own kernel, reports
per-epoch metrics to the pruner, and records outcomes.

It runs as a detached process (``python -m automl_nb.runner JOB_DIR``) that outlives notebook
kernel restarts, or in the foreground for ``automl-vision run``. The job folder and the Optuna
storage are the truth: a controller that is killed can be started again (``resume``) and
continues without redoing finished trials.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from automl_nb.runner._kernels import TrialKernel
from automl_nb.runner._kernels import write_kernelspec
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_json
from automl_nb.runner._layout import read_jsonl
from automl_nb.runner._layout import write_json
from automl_nb.runner._slots import Slot
from automl_nb.runner._slots import plan_slots
from automl_nb.runner._storage import open_storage
from automl_nb.runner._worker import CANCELED
from automl_nb.runner._worker import COMPLETED
from automl_nb.runner._worker import FAILED
from automl_nb.runner._worker import PRUNED
from automl_nb.runner._worker import RUNNING
from automl_nb.runner._worker import TIMEOUT
from automl_nb.runner._worker import request_stop

log = logging.getLogger("automl_nb.runner")

# How long an interrupted trial may take to record its state before its kernel is killed.
STOP_GRACE_SECONDS = 30.0

# Sent to a kernel started ahead of its trial: the imports are most of a trial's start-up.
WARMUP_CODE = "import torch, torchvision, timm\nimport automl_nb.training, automl_nb.inference\n"

# Job states written to status.json.
JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_COMPLETED = "completed"
JOB_FAILED = "failed"
JOB_CANCELED = "canceled"


@dataclass
class _RunningTrial:
    number: int
    optuna_trial: Any
    slot: Slot
    kernel: TrialKernel
    folder: Path
    started: float
    reported_steps: set[int] = field(default_factory=set)
    stopping: str | None = None
    stop_requested_at: float | None = None


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
        self._running: dict[str, _RunningTrial] = {}
        # One kernel per slot started ahead of the slot's next trial (imports done meanwhile).
        self._warm: dict[str, TrialKernel] = {}

    # ----------------------------------------------------------------------------- setup
    def _load(self) -> None:
        import optuna

        from automl_nb.config import load_job
        from automl_nb.sweep import create_study_components
        from automl_nb.sweep import visible_gpu_memory_gb

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.spec = load_job(self.paths.job_yaml)
        self.plan = create_study_components(self.spec, gpu_memory_gb=visible_gpu_memory_gb())
        self.storage = open_storage(self.storage_url, journal=self.paths.journal)
        self.study = optuna.create_study(
            study_name=self.paths.job_id,
            storage=self.storage,
            sampler=self.plan.sampler,
            pruner=self.plan.pruner,
            direction="maximize",
            load_if_exists=True,
        )
        if "job_yaml" not in self.study.user_attrs:
            # Workers on other machines read the spec from the shared storage.
            self.study.set_user_attr("job_yaml", self.paths.job_yaml.read_text(encoding="utf-8"))
        self.plan.enqueue_first_trial(self.study)
        limits = self.spec.limits
        self.budget = min(limits.max_trials, self.plan.n_trials)
        self.slots = plan_slots(
            max_trials=self.budget,
            max_concurrent_trials=limits.max_concurrent_trials,
            compute=self.spec.compute,
        )
        self.kernelspec_dir = write_kernelspec(self.paths.root / ".kernelspec")
        self.metric = (
            self.spec.task.primary_metric
            if hasattr(self.spec.task, "primary_metric")
            else self.spec.primary_metric
        )

    def _recover_interrupted(self) -> None:
        """Mark trials left RUNNING by a dead controller as failed, and queue them again."""
        import optuna

        from automl_nb.sweep._search_space import FIXED_HYPERPARAMETERS_ATTR

        host = socket.gethostname()
        for frozen in self.study.get_trials(deepcopy=False):
            if frozen.state != optuna.trial.TrialState.RUNNING:
                continue
            worker = str(frozen.user_attrs.get("worker", ""))
            worker_host, _, worker_pid = worker.partition(":")
            if worker_host != host or (worker_pid.isdigit() and pid_alive(int(worker_pid))):
                continue
            folder = self.paths.trial_dir(frozen.number)
            _kill_orphan_kernel(folder)
            status = read_json(folder / "status.json", {})
            storage = self.study._storage
            storage.set_trial_user_attr(frozen._trial_id, "interrupted", True)
            if status.get("state") == COMPLETED and status.get("best_score") is not None:
                # It finished while no controller was watching: keep the result.
                storage.set_trial_user_attr(frozen._trial_id, "status", COMPLETED)
                self.study.tell(frozen.number, float(status["best_score"]))
                continue
            storage.set_trial_user_attr(frozen._trial_id, "status", "interrupted")
            self.study.tell(frozen.number, state=optuna.trial.TrialState.FAIL)
            self.study.enqueue_trial(
                frozen.params,
                user_attrs={
                    "retry_of": frozen.number,
                    FIXED_HYPERPARAMETERS_ATTR: frozen.user_attrs.get("hyperparameters", {}),
                },
                skip_if_exists=False,
            )
            log.info("trial %d was interrupted by a controller stop; queued again", frozen.number)

    # ----------------------------------------------------------------------------- loop
    def run(self) -> str:
        """Run until the sweep is done, the job is canceled or its timeout passes.

        Returns:
            The final job state (``completed``, ``failed`` or ``canceled``).
        """
        self._load()
        status = read_json(self.paths.status_json, {})
        started = status.get("started") or time.time()
        self._write_status(JOB_RUNNING, started=started, pid=os.getpid(), ended=None, error=None)
        kill_spare_kernels(self.paths)
        self._recover_interrupted()
        deadline = started + self.spec.limits.timeout_minutes * 60
        final = JOB_COMPLETED
        try:
            while True:
                if self.paths.cancel_flag.exists():
                    self._stop_all(CANCELED)
                    final = JOB_CANCELED
                if time.time() > deadline and final != JOB_CANCELED:
                    self._stop_all(TIMEOUT)
                    self._note("job timeout reached; no new trials")
                    deadline = float("inf")
                    self.budget = 0
                self._watch_running()
                if final != JOB_CANCELED:
                    self._fill_free_slots()
                if not self._running and (final == JOB_CANCELED or self._remaining() <= 0):
                    break
                time.sleep(self.poll_interval)
        except BaseException as exc:
            self._stop_all(CANCELED, wait=True)
            self._write_status(JOB_FAILED, ended=time.time(), error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self._discard_warm_kernels()
        if final == JOB_COMPLETED and not self._any_completed():
            final = JOB_FAILED
        best = self._best_summary()
        self._write_status(final, ended=time.time(), **best)
        return final

    def _remaining(self) -> int:
        counted = [
            t for t in self.study.get_trials(deepcopy=False) if not t.user_attrs.get("interrupted")
        ]
        return self.budget - len(counted)

    def _fill_free_slots(self) -> None:
        busy = {r.slot.name for r in self._running.values()}
        for slot in self.slots:
            if slot.name in busy or self._remaining() <= 0:
                continue
            self._start_trial(slot)

    def _start_trial(self, slot: Slot) -> None:
        trial = self.study.ask()
        hyperparameters = self.plan.suggest(trial)
        folder = self.paths.trial_dir(trial.number)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in ("stop", "status.json", "cancel"):
            (folder / stale).unlink(missing_ok=True)
        trial.set_user_attr("worker", self.worker_id)
        trial.set_user_attr("hyperparameters", hyperparameters)
        trial.set_user_attr("slot", slot.name)
        write_json(
            folder / "request.json",
            {
                "number": trial.number,
                "hyperparameters": hyperparameters,
                "job_yaml": str(self.paths.job_yaml),
                "slot": slot.name,
            },
        )
        code = (
            "import os\n"
            f"os.chdir({str(folder)!r})\n"
            "from automl_nb.runner import run_trial_in_kernel as _run_trial\n"
            f"_run_trial({str(folder)!r})"
        )
        kernel: TrialKernel | None = None
        try:
            kernel = self._take_kernel(slot)
            kernel.run(code)
        except Exception as exc:  # noqa: BLE001 - a kernel that cannot start fails its trial
            write_json(folder / "status.json", {"state": FAILED, "error": str(exc)})
            if kernel is not None:
                kernel.shutdown()
            self._finish(_RunningTrial(trial.number, trial, slot, kernel, folder, time.time()))
            return
        write_json(
            folder / "runtime.json",
            {"kernel_pid": kernel.pid, "slot": slot.name, "kernel_dir": str(kernel.trial_dir)},
        )
        self._running[slot.name] = _RunningTrial(
            trial.number, trial, slot, kernel, folder, time.time()
        )
        if self._remaining() > 0:
            self._prewarm(slot)
        log.info("trial %d started on %s: %s", trial.number, slot.name, hyperparameters)
        self._emit("started", trial.number, {"slot": slot.name, "params": hyperparameters})

    def _new_kernel(self, slot: Slot) -> TrialKernel:
        folder = (
            self.paths.root / ".kernels" / f"{slot.name.replace(':', '-')}-{secrets.token_hex(3)}"
        )
        kernel = TrialKernel(
            folder,
            kernelspec_dir=self.kernelspec_dir,
            cuda_devices=slot.cuda_devices,
            threads=slot.threads,
        )
        kernel.launch(warmup=WARMUP_CODE)
        (folder / "pid").write_text(str(kernel.pid), encoding="utf-8")
        return kernel

    def _take_kernel(self, slot: Slot) -> TrialKernel:
        """The slot's warm kernel if it is still alive, else a new one."""
        kernel = self._warm.pop(slot.name, None)
        if kernel is not None and kernel.is_alive():
            return kernel
        if kernel is not None:
            _release_kernel(kernel)
        return self._new_kernel(slot)

    def _prewarm(self, slot: Slot) -> None:
        """Start the slot's next kernel now, so its imports overlap the running trial."""
        if slot.name in self._warm:
            return
        try:
            self._warm[slot.name] = self._new_kernel(slot)
        except Exception as exc:  # noqa: BLE001 - the next trial starts a kernel itself
            log.warning("could not start a spare kernel on %s: %s", slot.name, exc)

    def _discard_warm_kernels(self) -> None:
        for kernel in self._warm.values():
            _release_kernel(kernel)
        self._warm.clear()

    def _watch_running(self) -> None:
        trial_timeout = self.spec.limits.trial_timeout_minutes * 60
        for name, running in list(self._running.items()):
            self._report_new_metrics(running)
            if running.stopping is None:
                if (running.folder / "cancel").exists():
                    self._stop(running, CANCELED)
                elif time.time() - running.started > trial_timeout:
                    self._stop(running, TIMEOUT)
            outcome = running.kernel.poll()
            overdue = time.time() - (running.stop_requested_at or 0) > STOP_GRACE_SECONDS
            if outcome is None and running.stopping is not None and overdue:
                outcome = "dead"
            if outcome is None:
                continue
            self._report_new_metrics(running)
            if outcome == "dead":
                status = read_json(running.folder / "status.json", {})
                if status.get("state") in (None, RUNNING):
                    write_json(
                        running.folder / "status.json",
                        {
                            **status,
                            "state": running.stopping or FAILED,
                            "error": "the trial's kernel died",
                            "log_tail": running.kernel.log_tail(),
                            "ended": time.time(),
                        },
                    )
            _release_kernel(running.kernel, log_to=running.folder)
            del self._running[name]
            self._finish(running)

    def _report_new_metrics(self, running: _RunningTrial) -> None:
        for row in read_jsonl(running.folder / "metrics.jsonl"):
            step = row.get("epoch")
            value = row.get(self.metric)
            if not isinstance(step, int) or step in running.reported_steps:
                continue
            if not isinstance(value, (int, float)) or value != value:
                continue
            running.reported_steps.add(step)
            running.optuna_trial.report(float(value), step)
            self._emit("epoch", running.number, row)
            if running.stopping is None and running.optuna_trial.should_prune():
                log.info(
                    "trial %d pruned at epoch %d (%s=%.4f)",
                    running.number,
                    step,
                    self.metric,
                    value,
                )
                self._stop(running, PRUNED)

    def _stop(self, running: _RunningTrial, reason: str) -> None:
        running.stopping = reason
        running.stop_requested_at = time.time()
        request_stop(running.folder, reason)
        running.kernel.interrupt()

    def _stop_all(self, reason: str, *, wait: bool = False) -> None:
        for running in self._running.values():
            if running.stopping is None:
                self._stop(running, reason)
        if wait:
            end = time.time() + STOP_GRACE_SECONDS
            while self._running and time.time() < end:
                self._watch_running()
                time.sleep(self.poll_interval)
            for running in list(self._running.values()):
                _release_kernel(running.kernel, log_to=running.folder)
                self._finish(running)
            self._running.clear()

    def _finish(self, running: _RunningTrial) -> None:
        import optuna

        status = read_json(running.folder / "status.json", {})
        state = status.get("state")
        if state in (None, RUNNING):
            # Stopped before the worker could record anything (e.g. canceled while starting).
            state = running.stopping or FAILED
            status = {**status, "state": state, "ended": time.time()}
            write_json(running.folder / "status.json", status)
        trial = running.optuna_trial
        trial.set_user_attr("status", state)
        if status.get("error"):
            trial.set_user_attr("error", str(status["error"])[:2000])
        score = status.get("best_score")
        if state == COMPLETED and score is not None:
            self.study.tell(trial, float(score))
            self._update_best_model(running.number)
        elif state == PRUNED:
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        log.info("trial %d finished: %s (best %s=%s)", running.number, state, self.metric, score)
        self._emit("finished", running.number, status)

    def _update_best_model(self, number: int) -> None:
        try:
            best = self.study.best_trial
        except ValueError:
            return
        if best.number != number:
            return
        source = self.paths.trial_dir(number) / "model"
        if not source.is_dir():
            return
        staging = self.paths.root / ".best_model.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source, staging)
        shutil.rmtree(self.paths.best_model, ignore_errors=True)
        staging.rename(self.paths.best_model)
        (self.paths.best_model / "TRIAL").write_text(str(number), encoding="utf-8")

    # ----------------------------------------------------------------------------- status
    def _any_completed(self) -> bool:
        import optuna

        return any(
            t.state == optuna.trial.TrialState.COMPLETE
            for t in self.study.get_trials(deepcopy=False)
        )

    def _best_summary(self) -> dict[str, Any]:
        try:
            best = self.study.best_trial
        except ValueError:
            return {"best_trial": None, "best_score": None}
        return {"best_trial": best.number, "best_score": best.value}

    def _write_status(self, state: str, **fields: Any) -> None:
        current = read_json(self.paths.status_json, {})
        current.update(fields, status=state, primary_metric=getattr(self, "metric", None))
        write_json(self.paths.status_json, current)

    def _note(self, message: str) -> None:
        log.info(message)
        notes = read_json(self.paths.status_json, {}).get("notes", [])
        self._write_status(
            read_json(self.paths.status_json, {}).get("status", JOB_RUNNING),
            notes=[*notes, message],
        )

    def _emit(self, kind: str, number: int, data: dict[str, Any]) -> None:
        if self.on_event is not None:
            self.on_event(TrialEvent(kind, number, data))


def _release_kernel(kernel: TrialKernel, *, log_to: Path | None = None) -> None:
    """Shut a kernel down; keep its log in the trial folder and drop its own folder."""
    kernel.shutdown()
    if kernel.trial_dir.parent.name != ".kernels":
        return
    if log_to is not None and (kernel.trial_dir / "kernel.log").exists():
        shutil.copyfile(kernel.trial_dir / "kernel.log", log_to / "kernel.log")
    shutil.rmtree(kernel.trial_dir, ignore_errors=True)


def kill_spare_kernels(paths: JobPaths) -> None:
    """Kill kernels started ahead of their trial by a controller that is gone."""
    import signal

    for pid_file in paths.root.glob(".kernels/*/pid"):
        pid = int(pid_file.read_text(encoding="utf-8") or 0)
        if pid and pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(pid_file.parent, ignore_errors=True)


def _kill_orphan_kernel(folder: Path) -> None:
    """Kill a trial kernel left behind by a controller that was killed."""
    import signal

    pid = read_json(folder / "runtime.json", {}).get("kernel_pid")
    if pid and pid_alive(int(pid)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
