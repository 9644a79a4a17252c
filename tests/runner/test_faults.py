"""Faults with real processes: kill -9 a trial kernel, kill -9 the controller at several
moments (while a trial writes a checkpoint, while a hung controller misses a trial's end, right
after a trial finished), then resume.

After a resume: no finished trial is lost or trained again, an interrupted trial continues
from its ``last.pt``, ``best_model/`` holds the best trial, and no ``status.json`` says
``running``.
"""

from __future__ import annotations

import os
import signal

import pytest

from automl_nb.cli import main as cli
from automl_nb.runner import get_job
from automl_nb.runner import submit
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_json
from automl_nb.runner._layout import read_jsonl
from automl_nb.testing.processes import wait_for
from automl_nb.training._checkpoint import load_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

GRID_OF_TWO = """
limits: {max_trials: 2, max_concurrent_trials: 1}
sweep: {sampling_algorithm: grid}
search_space:
  - learning_rate: {type: choice, values: [0.01, 0.03]}
"""


def kill(pid: int) -> None:
    """SIGKILL ``pid`` and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not pid_alive(pid), timeout=30, poll=0.02, what=f"pid {pid} to die")


def trial_status(job, number: int) -> dict:
    return read_json(job.dir / "trials" / str(number) / "status.json", {}) or {}


def resume_and_wait(job, workspace) -> None:
    wait_for(lambda: job.status == "stopped", timeout=30, what="the job to show stopped")
    assert cli(["resume", job.id, "--workspace", str(workspace)]) == 0
    assert get_job(job.id, workspace=workspace).wait(timeout=450) == "completed"


def assert_consistent(job) -> None:
    """What every job must look like after it ended, however it was stopped on the way."""
    states = {f.name: read_json(f / "status.json", {}) for f in (job.dir / "trials").iterdir()}
    assert all(s.get("state") not in (None, "running") for s in states.values()), states
    assert all(s.get("ended") for s in states.values()), states
    assert job.status_record()["status"] == "completed"
    best = job.best_trial()
    assert best is not None and best.state == "completed"
    assert job.best_model_dir is not None
    assert (job.best_model_dir / "TRIAL").read_text() == str(best.number)
    assert job.status_record()["best_trial"] == best.number
    assert not list(job.dir.rglob("*.tmp")), "stale temporary files are left"
    assert not list(job.dir.glob(".best_model.*"))
    # Each learning rate of the grid completed exactly once: nothing lost, nothing rerun.
    completed = [t for t in job.trials() if t.state == "completed"]
    assert sorted(t.hyperparameters["learning_rate"] for t in completed) == [0.01, 0.03]


def test_kill_9_trial_kernel_records_its_log_and_signal(write_job, workspace):
    job = submit(str(write_job(GRID_OF_TWO, epochs=3)), workspace=workspace)
    first = job.dir / "trials" / "0"
    wait_for(lambda: read_jsonl(first / "metrics.jsonl"), what="trial 0's first epoch")
    kill(read_json(first / "runtime.json")["kernel_pid"])
    assert job.wait(timeout=400) == "completed"
    trials = {t.number: t for t in job.trials()}
    assert trials[0].state == "failed"
    assert trials[1].state == "completed"  # the job went on
    status = trial_status(job, 0)
    assert status["exit"] == -signal.SIGKILL
    assert "killed by signal 9 (SIGKILL)" in status["error"]
    assert "killed by signal 9" in trials[0].error
    # The end of the trial's own log.txt, not the kernel's start-up noise.
    log_text = (first / "log.txt").read_text()
    assert status["log_tail"].splitlines()[-1] == log_text.splitlines()[-1]
    assert "epoch 1/3" in status["log_tail"]
    assert "kernel_log_tail" in status
    assert (job.best_model_dir / "TRIAL").read_text() == "1"


def test_controller_killed_during_a_checkpoint_write_resumes_from_last_pt(write_job, workspace):
    job = submit(str(write_job(GRID_OF_TWO, epochs=8)), workspace=workspace)
    first = job.dir / "trials" / "0"
    tmp = first / "checkpoints" / "last.pt.tmp"
    # Past the first epoch, catch trial 0 while it writes last.pt: kill controller and kernel
    # (a machine that goes down) with a half-written checkpoint on disk.
    wait_for(lambda: (first / "checkpoints" / "last.pt").exists(), what="trial 0's last.pt")
    wait_for(tmp.exists, poll=0.002, what="a checkpoint write in progress")
    controller = job.status_record()["pid"]
    kernel = read_json(first / "runtime.json")["kernel_pid"]
    os.kill(controller, signal.SIGKILL)  # first, so it cannot record the kernel's death
    os.kill(kernel, signal.SIGKILL)
    wait_for(lambda: not pid_alive(kernel) and not pid_alive(controller), what="both to die")
    assert tmp.exists()
    saved_epoch = load_checkpoint(first / "checkpoints" / "last.pt")["epoch"]  # still loadable
    assert 1 <= saved_epoch < 8
    assert {t.number: t.state for t in job.trials()}[0] == "interrupted"  # before resume

    resume_and_wait(job, workspace)
    assert_consistent(job)
    status = trial_status(job, 0)
    assert status["state"] == "interrupted"
    retry = status["retried_as"]
    retry_dir = job.dir / "trials" / str(retry)
    request = read_json(retry_dir / "request.json")
    assert request["resume"] is True and request["retry_of"] == 0
    assert request["hyperparameters"]["learning_rate"] == 0.01
    # The retry continued after the saved epoch with the saved history, not from epoch 1.
    assert (
        f"resumed from {retry_dir / 'checkpoints' / 'last.pt'} at epoch {saved_epoch}"
        in (retry_dir / "log.txt").read_text()
    )
    rows = read_jsonl(retry_dir / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == list(range(1, 9))
    assert rows[:saved_epoch] == read_jsonl(first / "metrics.jsonl")[:saved_epoch]
    notes = " ".join(job.status_record().get("notes", []))
    assert "trial 0 was interrupted" in notes


def test_trial_finished_while_the_controller_hung_is_kept_and_published(write_job, workspace):
    job = submit(str(write_job(GRID_OF_TWO, epochs=3)), workspace=workspace)
    first = job.dir / "trials" / "0"
    wait_for(lambda: read_jsonl(first / "metrics.jsonl"), what="trial 0's first epoch")
    controller = job.status_record()["pid"]
    # The controller hangs (its kernels live on while it exists) and the trial ends unwatched;
    # then the controller is killed, before it could record anything.
    os.kill(controller, signal.SIGSTOP)
    try:
        wait_for(lambda: trial_status(job, 0).get("state") == "completed", what="trial 0 to end")
    finally:
        kill(controller)
    finished_metrics = (first / "metrics.jsonl").read_text()
    assert job.best_model_dir is None

    resume_and_wait(job, workspace)
    assert_consistent(job)
    trials = {t.number: t for t in job.trials()}
    assert trials[0].state == "completed"
    assert (first / "metrics.jsonl").read_text() == finished_metrics  # not trained again
    assert len(trials) == 2
    notes = " ".join(job.status_record().get("notes", []))
    assert "trial 0 finished while the controller was down" in notes


def test_controller_killed_right_after_a_trial_finished(write_job, workspace):
    job = submit(str(write_job(GRID_OF_TWO, epochs=2)), workspace=workspace)
    controller = wait_for(lambda: job.status_record().get("pid"), what="the controller")
    wait_for(
        lambda: trial_status(job, 0).get("state") == "completed",
        poll=0.005,
        what="trial 0 to finish",
    )
    kill(controller)
    finished_metrics = (job.dir / "trials" / "0" / "metrics.jsonl").read_text()
    # Whether or not the controller had scored trial 0 or started trial 1, the resume sorts
    # it out (trial 1's kernel, if any, is left running for the resume to kill).

    resume_and_wait(job, workspace)
    assert_consistent(job)
    assert (job.dir / "trials" / "0" / "metrics.jsonl").read_text() == finished_metrics
    assert sum(t.hyperparameters["learning_rate"] == 0.01 for t in job.trials()) == 1
