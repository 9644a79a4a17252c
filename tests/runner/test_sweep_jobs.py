"""Real sweeps on the fridge thumbnails: trials in background kernels, on 2 CPU cores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from automl_nb.cli import main as cli
from automl_nb.runner import get_job
from automl_nb.runner import run_job
from automl_nb.runner import submit
from automl_nb.runner._layout import pid_alive
from automl_nb.runner._layout import read_json
from automl_nb.testing.processes import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _overlap(a, b) -> float:
    return min(a.ended, b.ended) - max(a.started, b.started)


def test_four_trials_two_at_a_time(write_job, workspace):
    job_yaml = write_job(
        """
        limits: {max_trials: 4, max_concurrent_trials: 2}
        sweep: {sampling_algorithm: random}
        search_space:
          - learning_rate: {type: uniform, min_value: 0.005, max_value: 0.05}
        """,
        data="fridge",
    )
    job = submit(str(job_yaml), workspace=workspace)
    assert job.status in ("queued", "running")  # returned at once
    assert job.wait(timeout=500) == "completed"
    trials = job.trials()
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert all(t.state == "completed" for t in trials)
    for t in trials:
        assert [row["epoch"] for row in t.metrics] == [1, 2]
        assert all(0.0 <= row["accuracy"] <= 1.0 for row in t.metrics)
        assert 0.005 <= t.hyperparameters["learning_rate"] <= 0.05
    # Two slots: some pair of trials ran at the same time.
    assert max(_overlap(a, b) for a in trials for b in trials if a.number < b.number) > 0
    best = job.best_trial()
    assert best.best_score == max(t.best_score for t in trials)
    assert (job.best_model_dir / "settings.json").is_file()
    assert (job.best_model_dir / "TRIAL").read_text() == str(best.number)


@pytest.mark.parametrize(
    "policy",
    [
        "{type: bandit, slack_factor: 0.1, evaluation_interval: 1, delay_evaluation: 2}",
        "{type: median_stopping, evaluation_interval: 1, delay_evaluation: 2}",
        "{type: truncation_selection, truncation_percentage: 50, evaluation_interval: 1,"
        " delay_evaluation: 2}",
    ],
    ids=["bandit", "median_stopping", "truncation_selection"],
)
def test_early_termination_prunes_the_bad_sub_space(write_job, workspace, policy):
    # Grid order: the good learning rate first, then two that cannot learn.
    job_yaml = write_job(
        f"""
        limits: {{max_trials: 3, max_concurrent_trials: 1}}
        sweep:
          sampling_algorithm: grid
          early_termination: {policy}
        search_space:
          - learning_rate: {{type: choice, values: [0.02]}}
          - optimizer: {{type: choice, values: [sgd]}}
            learning_rate: {{type: choice, values: [0.0000000001, 0.0000000002]}}
        """,
        epochs=20,  # long enough that a cut at epoch 3 lands before the end
    )
    job = run_job(str(job_yaml), workspace=workspace)
    states = {t.hyperparameters["learning_rate"]: t.state for t in job.trials()}
    assert states[0.02] == "completed"
    assert states[1e-10] == "pruned"
    assert states[2e-10] == "pruned"
    pruned = [t for t in job.trials() if t.state == "pruned"]
    assert all(len(t.metrics) < 20 for t in pruned)


def test_grid_visits_each_point_once(write_job, workspace):
    job_yaml = write_job(
        """
        limits: {max_trials: 10, max_concurrent_trials: 2}
        sweep: {sampling_algorithm: grid}
        search_space:
          - learning_rate: {type: choice, values: [0.01, 0.02]}
            optimizer: {type: choice, values: [sgd, adam]}
        """,
        epochs=1,
    )
    job = run_job(str(job_yaml), workspace=workspace)
    points = [
        (t.hyperparameters["learning_rate"], t.hyperparameters["optimizer"]) for t in job.trials()
    ]
    assert sorted(points) == [(0.01, "adam"), (0.01, "sgd"), (0.02, "adam"), (0.02, "sgd")]


def test_automode_runs_with_no_search_space(write_job, workspace):
    job_yaml = write_job("limits: {max_trials: 2, max_concurrent_trials: 1}\n", epochs=1)
    job = run_job(str(job_yaml), workspace=workspace)
    trials = job.trials()
    assert len(trials) == 2
    assert all(t.state == "completed" for t in trials), [t.error for t in trials]
    from automl_nb.sweep import automode_first_params

    assert (
        trials[0].hyperparameters["model_name"]
        == automode_first_params("image_classification")["model_name"]
    )


def test_killed_trial_kernel_fails_only_that_trial(write_job, workspace):
    job_yaml = write_job("limits: {max_trials: 2, max_concurrent_trials: 1}\n", epochs=3)
    job = submit(str(job_yaml), workspace=workspace)
    runtime = job.dir / "trials" / "0" / "runtime.json"
    wait_for(lambda: (job.dir / "trials" / "0" / "metrics.jsonl").exists(), what="first epoch")
    os.kill(read_json(runtime)["kernel_pid"], signal.SIGKILL)
    assert job.wait(timeout=400) == "completed"
    trials = {t.number: t for t in job.trials()}
    assert trials[0].state == "failed"
    assert "kernel died" in trials[0].error
    assert trials[1].state == "completed"
    status = read_json(job.dir / "trials" / "0" / "status.json")
    assert "log_tail" in status


def test_killed_controller_then_resume_loses_and_reruns_nothing(write_job, workspace):
    job_yaml = write_job(
        """
        limits: {max_trials: 3, max_concurrent_trials: 1}
        sweep: {sampling_algorithm: grid}
        search_space:
          - learning_rate: {type: choice, values: [0.01, 0.02, 0.03]}
        """,
        epochs=2,
    )
    job = submit(str(job_yaml), workspace=workspace)
    wait_for(
        lambda: any(t.state == "completed" for t in job.trials()), timeout=300, what="trial 0"
    )
    wait_for(lambda: (job.dir / "trials" / "1" / "runtime.json").exists(), what="trial 1 start")
    first_metrics = (job.dir / "trials" / "0" / "metrics.jsonl").read_text()
    os.kill(job.status_record()["pid"], signal.SIGKILL)
    wait_for(lambda: job.status == "stopped", what="stopped status")

    assert cli(["resume", job.id, "--workspace", str(workspace)]) == 0
    assert get_job(job.id, workspace=workspace).wait(timeout=400) == "completed"
    trials = job.trials()
    completed = [t for t in trials if t.state == "completed"]
    assert sorted(t.hyperparameters["learning_rate"] for t in completed) == [0.01, 0.02, 0.03]
    # Trial 0 finished before the kill: kept, not trained again.
    assert (job.dir / "trials" / "0" / "metrics.jsonl").read_text() == first_metrics
    assert sum(t.hyperparameters["learning_rate"] == 0.01 for t in trials) == 1


def test_status_shows_live_epochs_and_cancel_leaves_no_process(write_job, workspace, capsys):
    job_yaml = write_job("limits: {max_trials: 2, max_concurrent_trials: 1}\n", epochs=30)
    job = submit(str(job_yaml), workspace=workspace)
    metrics = job.dir / "trials" / "0" / "metrics.jsonl"
    wait_for(lambda: metrics.exists() and metrics.read_text().strip(), what="first epoch")
    capsys.readouterr()
    assert cli(["status", job.id, "--workspace", str(workspace), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "running"
    assert summary["running"][0]["epoch"] >= 1
    assert "accuracy" in summary["running"][0]["last"]
    assert summary["running"][0]["progress_text"].startswith("epoch ")
    assert cli(["status", job.id, "--workspace", str(workspace)]) == 0
    assert "trial 0: epoch " in capsys.readouterr().out

    controller = job.status_record()["pid"]
    kernel = read_json(job.dir / "trials" / "0" / "runtime.json")["kernel_pid"]
    assert cli(["cancel", job.id, "--workspace", str(workspace), "--wait"]) == 0
    assert job.status == "canceled"
    wait_for(lambda: not pid_alive(controller) and not pid_alive(kernel), timeout=60, what="exit")
    assert job.trials()[0].state == "canceled"
    # The kernel started ahead for trial 1 is gone too.
    assert not list(job.dir.glob(".kernels/*"))
    # Nothing evaluated is thrown away: the canceled trial's best epoch is the job's model.
    best = job.best_trial()
    assert best is not None and best.number == 0 and best.state == "canceled"
    assert job.best_model_dir is not None and (job.best_model_dir / "model.pt").is_file()


def test_a_worker_on_shared_storage_joins_the_sweep(write_job, workspace, tmp_path):
    storage = f"sqlite:///{tmp_path / 'sweep.db'}"
    job_yaml = write_job(
        """
        limits: {max_trials: 3, max_concurrent_trials: 1}
        sweep: {sampling_algorithm: grid}
        search_space:
          - learning_rate: {type: choice, values: [0.01, 0.02, 0.03]}
        """,
        epochs=3,
    )
    job = submit(str(job_yaml), workspace=workspace, storage=storage)
    wait_for(lambda: (job.dir / "trials" / "0" / "runtime.json").exists(), what="trial 0")
    other = tmp_path / "other-machine"
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "automl_nb.cli",
            "worker",
            job.id,
            "--storage",
            storage,
            "--workspace",
            str(other),
        ],
        capture_output=True,
        text=True,
        timeout=500,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert job.wait(timeout=300) == "completed"
    trials = job.trials()
    assert sorted(t.hyperparameters["learning_rate"] for t in trials) == [0.01, 0.02, 0.03]
    assert all(t.state == "completed" for t in trials)
    here = {p.parent.name for p in job.dir.glob("trials/*/status.json")}
    there = {p.parent.name for p in other.glob("*/*/trials/*/status.json")}
    assert here and there and not here & there
    assert here | there == {"0", "1", "2"}
