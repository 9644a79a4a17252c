"""A sweep shared by a controller and a worker on a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter

import pytest

from automl_nb.runner import submit
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_json
from automl_nb.runner._layout import read_jsonl
from automl_nb.testing.processes import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _start_worker(job_id: str, storage: str, workspace) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automl_nb.cli",
            "worker",
            job_id,
            "--storage",
            storage,
            "--workspace",
            str(workspace),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: killed as a machine would be lost
    )


def _worker_trial_with_an_epoch(workspace):
    """A running trial of the worker that has finished an epoch and saved its checkpoint."""
    for metrics in workspace.glob("*/*/trials/*/metrics.jsonl"):
        state = (read_json(metrics.parent / "status.json", {}) or {}).get("state")
        saved = (metrics.parent / "checkpoints" / "last.pt").is_file()
        if read_jsonl(metrics) and saved and state == "running":
            return metrics.parent
    return None


def torch_epoch(path) -> int:
    """The epoch recorded in a checkpoint."""
    from automl_nb.training._checkpoint import load_checkpoint

    return int(load_checkpoint(path)["epoch"])


def _exited(process: subprocess.Popen) -> bool:
    return process.poll() is not None


def test_controller_and_worker_share_a_postgresql_study(postgres_url, write_scale_job, workspaces):
    import optuna

    values = [0.01, 0.02, 0.03, 0.04]
    job_yaml = write_scale_job(
        f"""
        limits: {{max_trials: {len(values)}, max_concurrent_trials: 1}}
        sweep: {{sampling_algorithm: grid}}
        search_space:
          - learning_rate: {{type: choice, values: {values}}}
        """,
        epochs=3,
    )
    here, there = workspaces("controller-machine"), workspaces("worker-machine")
    job = submit(str(job_yaml), workspace=here, storage=postgres_url)
    wait_for(lambda: (job.dir / "trials" / "0" / "runtime.json").exists(), what="trial 0")
    worker = _start_worker(job.id, postgres_url, there)
    # Kill the worker (and its kernel) once its trial has written an epoch: mid-trial.
    folder = wait_for(lambda: _worker_trial_with_an_epoch(there) or _exited(worker), what="epoch")
    assert worker.poll() is None, worker.communicate()[0][-3000:]
    kernel = (read_json(folder / "runtime.json", {}) or {}).get("kernel_pid")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    if kernel and pid_alive(kernel):
        os.kill(kernel, signal.SIGKILL)
    killed = int(folder.name)
    saved_epoch = torch_epoch(folder / "checkpoints" / "last.pt")
    # Started again on the same machine, the worker settles its dead trial and retries it.
    again = _start_worker(job.id, postgres_url, there)
    output, _ = again.communicate(timeout=600)
    assert again.returncode == 0, output[-3000:]
    assert job.wait(timeout=600) == "completed"

    study = optuna.load_study(study_name=job.id, storage=postgres_url)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    # Every grid point trained to completion exactly once; only the killed trial was retried.
    assert Counter(t.user_attrs["hyperparameters"]["learning_rate"] for t in complete) == Counter(
        values
    )
    interrupted = [t for t in trials if t.user_attrs.get("interrupted")]
    assert [t.number for t in interrupted] == [killed]
    retry = [t for t in complete if t.user_attrs.get("retry_of") == killed]
    assert len(retry) == 1
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    # The retry continued from the killed trial's checkpoint: no epoch was trained twice.
    retry_dir = next(there.glob(f"*/*/trials/{retry[0].number}"))
    request = read_json(retry_dir / "request.json")
    assert request["resume"] is True and request["retry_of"] == killed
    log_text = (retry_dir / "log.txt").read_text(encoding="utf-8")
    assert f"at epoch {saved_epoch}" in log_text, log_text[-2000:]
    rows = read_jsonl(retry_dir / "metrics.jsonl")
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    kept = read_jsonl(folder / "metrics.jsonl")[:saved_epoch]
    assert rows[:saved_epoch] == kept  # the saved epochs are kept, not trained again
    # Each trial folder exists on one machine only.
    ran_here = {p.parent.name for p in job.dir.glob("trials/*/status.json")}
    ran_there = {p.parent.name for p in there.glob("*/*/trials/*/status.json")}
    assert ran_here and ran_there and not ran_here & ran_there
    assert len(complete) == len(values)
