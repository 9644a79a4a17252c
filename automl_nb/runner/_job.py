"""The job handle: submit a job, find it again from any process, watch and control it.

The job folder and its Optuna storage are the truth, never a process's memory, so a
:class:`Job` made in a fresh notebook kernel (``get_job(id)``) sees the same trials, live.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from automl_nb.errors import JobError
from automl_nb.runner._extend import extend_limits
from automl_nb.runner._extend import write_plan
from automl_nb.runner._kernel_pool import kill_spare_kernels
from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import default_workspace
from automl_nb.runner._layout import find_job_dir
from automl_nb.runner._layout import iter_job_dirs
from automl_nb.runner._layout import new_job_id
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_json
from automl_nb.runner._layout import read_jsonl
from automl_nb.runner._layout import write_json
from automl_nb.runner._status import INTERRUPTED
from automl_nb.runner._status import JOB_CANCELED
from automl_nb.runner._status import JOB_COMPLETED
from automl_nb.runner._status import JOB_FAILED
from automl_nb.runner._status import JOB_QUEUED
from automl_nb.runner._status import JOB_RUNNING
from automl_nb.runner._status import StatusRecorder
from automl_nb.runner._worker import RUNNING

FINAL_JOB_STATES = (JOB_COMPLETED, JOB_FAILED, JOB_CANCELED)
# Shown when the controller of a running job is gone (killed, machine restarted): resumable.
JOB_STOPPED = "stopped"


@dataclass(frozen=True)
class TrialInfo:
    """One trial as the storage and its folder record it.

    Attributes:
        number: Trial number (its folder is ``trials/<number>``).
        state: ``running``, ``completed``, ``pruned``, ``failed``, ``canceled``, ``timeout``,
            ``interrupted`` or ``queued``.
        hyperparameters: The hyperparameters it trained with.
        metrics: Per-epoch rows from ``metrics.jsonl`` (or the storage's intermediate values).
        best_score: The best primary-metric value, once known.
        error: Why it failed, when it did.
        folder: The trial folder, when on this machine.
    """

    number: int
    state: str
    hyperparameters: dict[str, Any]
    metrics: list[dict[str, Any]] = field(default_factory=list)
    best_score: float | None = None
    error: str | None = None
    folder: Path | None = None
    started: float | None = None
    ended: float | None = None

    @property
    def epoch(self) -> int | None:
        """The last epoch reported."""
        epochs = [int(row["epoch"]) for row in self.metrics if isinstance(row.get("epoch"), int)]
        return max(epochs) if epochs else None


class Job:
    """A handle on one job folder. Cheap to create; every property re-reads the files."""

    def __init__(self, job_dir: str | os.PathLike[str]) -> None:
        self.paths = JobPaths(Path(job_dir).resolve())
        if not self.paths.job_json.is_file():
            raise JobError(f"{self.paths.root} is not a job folder (no job.json)")
        self._meta = read_json(self.paths.job_json, {})

    def __repr__(self) -> str:
        return f"Job({self.id!r}, status={self.status!r})"

    @property
    def id(self) -> str:
        """The job id (its folder name)."""
        return self.paths.job_id

    @property
    def dir(self) -> Path:
        """The job folder."""
        return self.paths.root

    @property
    def storage_url(self) -> str | None:
        """The Optuna storage URL, or None for the job's own journal file."""
        return self._meta.get("storage")

    @property
    def spec(self) -> Any:
        """The job spec (:class:`automl_nb.config.JobSpec`)."""
        from automl_nb.config import load_job

        return load_job(self.paths.job_yaml)

    def status_record(self) -> dict[str, Any]:
        """The raw ``status.json`` of the controller."""
        return read_json(self.paths.status_json, {})

    @property
    def status(self) -> str:
        """``queued``, ``running``, ``completed``, ``failed``, ``canceled`` or ``stopped``."""
        record = self.status_record()
        state = record.get("status", JOB_QUEUED)
        controller_gone = state in (JOB_QUEUED, JOB_RUNNING) and not pid_alive(record.get("pid"))
        # A queued job's controller may still be starting (imports take long on a busy machine).
        launched = read_json(self.paths.root / "controller.json", {}).get("pid")
        recent = time.time() - float(record.get("submitted", 0)) < 30
        starting = state == JOB_QUEUED and (recent or pid_alive(launched))
        if controller_gone and not starting:
            return JOB_STOPPED
        return state

    @property
    def done(self) -> bool:
        """True once the job reached a final state (or its controller is gone)."""
        return self.status in (*FINAL_JOB_STATES, JOB_STOPPED)

    def _study(self) -> Any:
        import optuna

        from automl_nb.runner._storage import open_storage

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = open_storage(self.storage_url, journal=self.paths.journal)
        try:
            return optuna.load_study(study_name=self.id, storage=storage)
        except KeyError:
            return None

    def trials(self) -> list[TrialInfo]:
        """All trials: state, hyperparameters and per-epoch metrics, live."""
        import optuna

        study = self._study() if (self.paths.journal.exists() or self.storage_url) else None
        if study is None:
            return self._trials_from_folders()
        frozen = study.get_trials(deepcopy=False)
        # Trials left running by a controller that is gone are interrupted (resume continues).
        job_status = self.status
        live_state = RUNNING if job_status in (JOB_QUEUED, JOB_RUNNING) else INTERRUPTED
        infos = []
        for t in frozen:
            folder = self.paths.trial_dir(t.number)
            status = read_json(folder / "status.json", {})
            state = t.user_attrs.get("status")
            if t.state == optuna.trial.TrialState.RUNNING:
                # With no controller, the folder's final state (canceled) is the one to show.
                final = status.get("state") not in (None, RUNNING)
                state = status["state"] if live_state != RUNNING and final else live_state
            elif t.state == optuna.trial.TrialState.WAITING:
                state = "queued"
            elif state is None:
                state = t.state.name.lower()
            metrics = read_jsonl(folder / "metrics.jsonl") if folder.is_dir() else []
            if not metrics and t.intermediate_values:
                metric = self.status_record().get("primary_metric") or "value"
                metrics = [
                    {"epoch": s, metric: v} for s, v in sorted(t.intermediate_values.items())
                ]
            infos.append(
                TrialInfo(
                    number=t.number,
                    state=state,
                    hyperparameters=dict(t.user_attrs.get("hyperparameters") or {}),
                    metrics=metrics,
                    best_score=t.value if t.value is not None else status.get("best_score"),
                    error=t.user_attrs.get("error") or status.get("error"),
                    folder=folder if folder.is_dir() else None,
                    started=status.get("started")
                    or (t.datetime_start.timestamp() if t.datetime_start else None),
                    ended=status.get("ended")
                    or (t.datetime_complete.timestamp() if t.datetime_complete else None),
                )
            )
        return infos

    def _trials_from_folders(self) -> list[TrialInfo]:
        """Trials of a job run without a sweep (``automl-vision run`` of one trial)."""
        infos = []
        folders = [d for d in self.paths.trials_dir.glob("*") if d.name.isdigit()]
        for folder in sorted(folders, key=lambda d: int(d.name)):
            status = read_json(folder / "status.json", {})
            state = status.get("state") or "queued"
            if state == RUNNING and not pid_alive(status.get("pid")):
                state = INTERRUPTED
            infos.append(
                TrialInfo(
                    number=int(folder.name),
                    state=state,
                    hyperparameters=dict(read_json(folder / "params.json", {}) or {}),
                    metrics=read_jsonl(folder / "metrics.jsonl"),
                    best_score=status.get("best_score"),
                    error=status.get("error"),
                    folder=folder,
                    started=status.get("started"),
                    ended=status.get("ended"),
                )
            )
        return infos

    def best_trial(self) -> TrialInfo | None:
        """The trial with the highest primary metric among those with a model (completed, or
        stopped by a timeout or cancel after an evaluation), or None."""
        kept = ("timeout", "canceled")
        done = [
            t
            for t in self.trials()
            if t.best_score is not None
            and (
                t.state == "completed"
                or (t.state in kept and t.folder and (t.folder / "model").is_dir())
            )
        ]
        return max(done, key=lambda t: float(t.best_score or 0.0)) if done else None

    @property
    def best_model_dir(self) -> Path | None:
        """The best trial's model folder (``best_model/``), once there is one."""
        return (
            self.paths.best_model if (self.paths.best_model / "settings.json").exists() else None
        )

    def wait(self, timeout: float | None = None, *, poll: float = 1.0) -> str:
        """Block until the job is done; returns its final status.

        Raises:
            TimeoutError: when ``timeout`` seconds pass first.
        """
        end = None if timeout is None else time.time() + timeout
        while not self.done:
            if end is not None and time.time() > end:
                raise TimeoutError(f"job {self.id} still {self.status} after {timeout} s")
            time.sleep(poll)
        return self.status

    def cancel(self, trial: int | None = None) -> None:
        """Cancel the whole job, or one trial (``trial=<number>``).

        A running controller stops the kernels itself; with no controller alive, any trial
        kernel left behind is killed here, so nothing keeps running.
        """
        if trial is not None:
            folder = self.paths.trial_dir(trial)
            if not folder.is_dir():
                raise JobError(f"job {self.id} has no trial {trial}")
            (folder / "cancel").write_text("canceled", encoding="utf-8")
            return
        self.paths.cancel_flag.write_text("canceled", encoding="utf-8")
        if not pid_alive(self.status_record().get("pid")):
            for folder in self.paths.trials_dir.glob("*"):
                pid = read_json(folder / "runtime.json", {}).get("kernel_pid")
                if pid and pid_alive(int(pid)):
                    os.kill(int(pid), signal.SIGKILL)
            kill_spare_kernels(self.paths)
            recorder = StatusRecorder(self.paths)
            for folder in self.paths.trials_dir.glob("*"):
                if folder.name.isdigit() and recorder.trial_record(int(folder.name)).get(
                    "state"
                ) in (RUNNING, INTERRUPTED):
                    recorder.trial(int(folder.name), JOB_CANCELED)
            recorder.job(JOB_CANCELED, ended=time.time())

    def plan(self) -> Any:
        """AutoMode's :class:`~automl_nb.sweep.Plan` for this job (``plan.json``), or None."""
        from automl_nb.sweep import Plan

        return Plan.load(self.paths.root)

    def resume(self, *, max_trials: int | None = None, timeout_minutes: int | None = None) -> Job:
        """Start a new controller for a stopped, finished or crashed job; every earlier trial
        is kept and the sampler (or AutoMode) continues from what it learned.

        Args:
            max_trials: Extend the sweep to this many trials in all (earlier ones included).
            timeout_minutes: Give the resumed run this many minutes from now. With either
                option the time limit (this one, or the job's ``timeout_minutes``) counts from
                the resume; without, from the job's first start.

        Raises:
            JobError: The job is still running, or ``max_trials`` is not above the trials it
                already has.
        """
        if self.status == JOB_RUNNING:
            raise JobError(f"job {self.id} is still running")
        if max_trials is not None or timeout_minutes is not None:
            extend_limits(self, max_trials=max_trials, timeout_minutes=timeout_minutes)
        self.paths.cancel_flag.unlink(missing_ok=True)
        fields: dict[str, Any] = {"submitted": time.time(), "pid": None, "ended": None}
        if max_trials is not None or timeout_minutes is not None:
            # An extended sweep gets its time limit again, from now; a plain resume after a
            # crash keeps the original deadline.
            fields["started"] = None
        StatusRecorder(self.paths).job(JOB_QUEUED, **fields)
        _start_controller(self.paths)
        return self

    def follow(
        self, *, poll: float = 0.5, timeout: float | None = None
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(trial number, metrics row)`` for each new per-epoch row until the job ends."""
        seen: dict[int, int] = {}
        end = None if timeout is None else time.time() + timeout
        while True:
            finished = self.done
            for folder in sorted(self.paths.trials_dir.glob("*"), key=lambda p: p.name):
                if not folder.name.isdigit():
                    continue
                rows = read_jsonl(folder / "metrics.jsonl")
                number = int(folder.name)
                for row in rows[seen.get(number, 0) :]:
                    yield number, row
                seen[number] = len(rows)
            if finished or (end is not None and time.time() > end):
                return
            time.sleep(poll)


def prepare_job_dir(
    spec: Any, *, workspace: str | os.PathLike[str] | None = None, storage: str | None = None
) -> JobPaths:
    """Create a new job folder: ``job.yaml`` (data paths made absolute), ``job.json`` and a
    ``queued`` ``status.json``.

    Args:
        spec: The :class:`automl_nb.config.JobSpec`.
        workspace: Workspace folder (default ``$AUTOML_NB_WORKSPACE`` or ``./automl_runs``).
        storage: Optuna storage URL recorded for the controller, or None.

    Returns:
        The new folder's :class:`JobPaths`.
    """
    from automl_nb.config import dump_job

    workspace = Path(workspace) if workspace else default_workspace()
    experiment = spec.experiment_name or "default"
    job_id = new_job_id(spec.name or spec.display_name or str(spec.task).replace("image_", ""))
    paths = JobPaths((workspace / experiment / job_id).resolve())
    paths.trials_dir.mkdir(parents=True, exist_ok=True)
    paths.job_yaml.write_text(dump_job(_absolute_data_paths(spec)), encoding="utf-8")
    write_json(
        paths.job_json,
        {"id": job_id, "experiment": experiment, "created": time.time(), "storage": storage},
    )
    StatusRecorder(paths).job(JOB_QUEUED, submitted=time.time())
    return paths


def _absolute_data_paths(spec: Any) -> Any:
    """The spec with data paths made absolute, since job.yaml lives in another folder."""
    import dataclasses

    changes = {}
    for name in ("training_data", "validation_data"):
        data = getattr(spec, name)
        if data is None:
            continue
        resolved = spec.resolve_path(data.path)
        if "://" not in resolved and not resolved.startswith(("azureml:", "file:")):
            # A spec without a YAML file (a notebook draft) is relative to the working dir.
            resolved = os.path.abspath(resolved)
        if resolved != data.path:
            changes[name] = dataclasses.replace(data, path=resolved)
    return dataclasses.replace(spec, **changes) if changes else spec


def _prepare_and_plan(spec: Any, workspace: Any, storage: str | None) -> tuple[JobPaths, Any]:
    """Check the job, write its folder and (AutoMode) its plan. The job's clock starts
    before the data checks, so they count against ``timeout_minutes`` like planning."""
    from automl_nb.config import load_job

    started = time.time()
    if not hasattr(spec, "task"):
        spec = load_job(spec)
    _preflight(spec)
    paths = prepare_job_dir(spec, workspace=workspace, storage=storage)
    return paths, write_plan(paths, started=started)


def _preflight(spec: Any) -> None:
    """Stop a job that cannot run before any folder or kernel exists; log the warnings."""
    import logging

    from automl_nb.preflight import check_job

    for warning in check_job(spec):
        logging.getLogger("automl_nb.runner").warning("%s", warning)


def _start_controller(paths: JobPaths) -> subprocess.Popen:
    log = open(paths.controller_log, "ab")  # noqa: SIM115 - handed to the child
    process = subprocess.Popen(
        [sys.executable, "-m", "automl_nb.runner", str(paths.root)],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # Its own session: the controller outlives the notebook kernel that submitted it.
        start_new_session=True,
        cwd=str(paths.root),
    )
    # The controller writes its own status; this file only says it was launched.
    write_json(paths.root / "controller.json", {"pid": process.pid, "launched": time.time()})
    return process


def submit(
    spec: Any,
    *,
    workspace: str | os.PathLike[str] | None = None,
    storage: str | None = None,
) -> Job:
    """Write the job folder, start a detached controller and return at once.

    Args:
        spec: A :class:`automl_nb.config.JobSpec`, a YAML path or YAML text.
        workspace: Workspace folder (default ``$AUTOML_NB_WORKSPACE`` or ``./automl_runs``).
        storage: Optuna storage URL shared with remote workers; default: a journal file in
            the job folder.

    Returns:
        The :class:`Job`; ``job.wait()`` blocks until it ends.

    Example:
        >>> job = submit("examples/jobs/demo-classification.yml")  # doctest: +SKIP
        >>> job.wait()  # doctest: +SKIP
        'completed'
    """
    paths, _ = _prepare_and_plan(spec, workspace, storage)
    _start_controller(paths)
    return Job(paths.root)


def run_job(
    spec: Any,
    *,
    workspace: str | os.PathLike[str] | None = None,
    storage: str | None = None,
    on_event: Any = None,
    on_plan: Any = None,
) -> Job:
    """Run a job in the foreground (the controller in this process); returns when done.

    ``on_plan`` is called with AutoMode's :class:`~automl_nb.sweep.Plan` before training.
    """
    from automl_nb.runner._controller import JobController

    paths, plan = _prepare_and_plan(spec, workspace, storage)
    if plan is not None and on_plan is not None:
        on_plan(plan)
    JobController(paths.root, on_event=on_event).run()
    return Job(paths.root)


def get_job(
    job: str | os.PathLike[str], *, workspace: str | os.PathLike[str] | None = None
) -> Job:
    """Find a job by id (or unique id prefix, or folder path) in the workspace."""
    return Job(find_job_dir(job, Path(workspace) if workspace else None))


def list_jobs(*, workspace: str | os.PathLike[str] | None = None) -> list[Job]:
    """All jobs of the workspace, oldest first."""
    root = Path(workspace) if workspace else default_workspace()
    jobs = [Job(d) for d in iter_job_dirs(root)]
    return sorted(jobs, key=lambda j: j._meta.get("created", 0))
