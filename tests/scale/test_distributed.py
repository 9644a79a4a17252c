"""One trial on several processes: torchrun ranks on gloo (CPU), started from the trial."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from automl_nb.config import load_job
from automl_nb.runner._layout import read_jsonl
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.processes import wait_for
from automl_nb.training import run_trial

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def colours(tmp_path_factory) -> Path:
    return make_classification_jsonl(
        tmp_path_factory.mktemp("colours"), n=40, size=32, classes=("red", "green")
    )


def job_text(jsonl: Path, *, processes: int, batch: int, epochs: int = 4) -> str:
    """A tiny job; ``batch`` is per process (the global batch is ``processes * batch``)."""
    # fp32: the comparisons below are of one process against two, and bf16's rounding of
    # a half batch differs from that of the whole one.
    advanced = json.dumps(
        {"use_pretrained": False, "processes_per_trial": processes, "precision": "fp32"}
    )
    return f"""\
type: automl
task: image_classification
target_column_name: label
training_data: {{path: {jsonl}, type: uri_file}}
validation_data_size: 0.25
training_parameters:
  model_name: resnet18
  number_of_epochs: {epochs}
  training_batch_size: {batch}
  validation_batch_size: 10
  training_crop_size: 32
  validation_crop_size: 32
  validation_resize_size: 36
  learning_rate: 0.01
  early_stopping: false
  random_seed: 7
  advanced_settings: '{advanced}'
"""


def test_two_gloo_processes_match_one_process(tmp_path, colours):
    one = run_trial(load_job(job_text(colours, processes=1, batch=8)), {}, tmp_path / "one")
    two = run_trial(load_job(job_text(colours, processes=2, batch=4)), {}, tmp_path / "two")
    assert one.status == two.status == "completed"
    assert one.epochs == two.epochs == 4
    # Same global batch, data, seed and learning-rate schedule: the same validation results and
    # a matching start of the learning curve. (The ranks shuffle through DistributedSampler
    # and normalise BatchNorm over their own half batch, so later losses drift apart a little.)
    assert [r["learning_rate"] for r in two.history] == [r["learning_rate"] for r in one.history]
    for a, b in zip(one.history, two.history):
        assert b["accuracy"] == pytest.approx(a["accuracy"], abs=0.2)
    first = (one.history[0]["train_loss"], two.history[0]["train_loss"])
    assert first[1] == pytest.approx(first[0], rel=0.2), first
    assert two.history[-1]["train_loss"] < two.history[0]["train_loss"]
    assert two.best_score == pytest.approx(one.best_score, abs=0.1)
    assert two.best_score >= 0.8
    # Rank 0 alone wrote the trial folder: one row per epoch, reduced over the 2 processes.
    rows = read_jsonl(tmp_path / "two" / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert all(r["processes"] == 2 for r in rows)
    assert (tmp_path / "two" / ".ranks" / "rank-1").is_dir()  # rank 1's scratch folder
    assert not processes_mentioning(str(tmp_path / "two"))
    # Its checkpoint and model folder load in a single process, with no training code.
    from automl_nb.inference import load_model
    from automl_nb.training._checkpoint import load_checkpoint

    last = load_checkpoint(tmp_path / "two" / "checkpoints" / "last.pt")
    assert last["epoch"] == 4 and not any(k.startswith("module.") for k in last["model"])
    model = load_model(two.model_dir)
    images = [
        str(colours.parent / "images" / "0000.png"),
        str(colours.parent / "images" / "0001.png"),
    ]
    predictions = model.predict(images)
    assert [p["labels"][max(range(2), key=lambda i: p["probs"][i])] for p in predictions] == [
        "red",
        "green",
    ]


KILL_ONE_RANK = """
import sys
from automl_nb.config import load_job
from automl_nb.training import run_trial
try:
    run_trial(load_job(sys.argv[1]), {}, sys.argv[2])
except Exception as exc:
    print("TRIAL-ERROR", type(exc).__name__, exc, flush=True)
    sys.exit(3)
"""


def test_a_dead_rank_fails_the_trial_and_leaves_no_process(tmp_path, colours):
    job = tmp_path / "job.yml"
    job.write_text(job_text(colours, processes=2, batch=4, epochs=50))
    folder = tmp_path / "trial"
    trial = subprocess.Popen(
        [sys.executable, "-c", KILL_ONE_RANK, str(job), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    pid_file = folder / ".ranks" / "pid-1"
    wait_for(lambda: read_jsonl(folder / "metrics.jsonl") and pid_file.exists(), what="epoch")
    assert len(processes_mentioning(str(folder))) >= 3  # torchrun and its 2 ranks
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    output, _ = trial.communicate(timeout=120)
    assert trial.returncode == 3, output[-3000:]
    assert "TRIAL-ERROR DistributedTrialError" in output
    assert "died" in output or "failed" in output
    wait_for(lambda: not processes_mentioning(str(folder)), timeout=30, what="no process left")


def test_canceling_a_two_process_trial_in_its_kernel_stops_every_rank(tmp_path, colours):
    from automl_nb.cli import main as cli
    from automl_nb.runner import submit
    from automl_nb.runner._layout import pid_alive
    from automl_nb.runner._layout import read_json

    job_yaml = tmp_path / "job.yml"
    job_yaml.write_text(job_text(colours, processes=2, batch=4, epochs=50))
    workspace = tmp_path / "ws"
    job = submit(str(job_yaml), workspace=workspace)
    folder = job.dir / "trials" / "0"
    try:
        wait_for(lambda: read_jsonl(folder / "metrics.jsonl"), timeout=300, what="an epoch")
        assert len(processes_mentioning(str(folder))) >= 3  # torchrun and its 2 ranks
        assert cli(["cancel", job.id, "--workspace", str(workspace), "--wait"]) == 0
        assert job.status == "canceled"
        trial = job.trials()[0]
        assert trial.state == "canceled"
        # Rank 0 kept the best evaluated epoch: nothing evaluated is lost.
        assert trial.best_score is not None and (folder / "model" / "model.pt").is_file()
        wait_for(lambda: not processes_mentioning(str(folder)), timeout=30, what="no rank left")
        kernel = (read_json(folder / "runtime.json", {}) or {}).get("kernel_pid")
        wait_for(lambda: not pid_alive(kernel), timeout=30, what="the kernel's exit")
    finally:
        for pid in processes_mentioning(str(job.dir)):
            os.kill(pid, signal.SIGKILL)
        controller = job.status_record().get("pid")
        if controller and controller != os.getpid() and pid_alive(controller):
            os.kill(controller, signal.SIGKILL)


# ------------------------------------------------------------------------ several machines
def node_env() -> dict[str, str]:
    """Two "machines" on localhost: both nodes reach each other at 127.0.0.1."""
    return dict(os.environ, AUTOML_NB_NODE_ADDRESS="127.0.0.1", OMP_NUM_THREADS="1")


def two_node_job(path: Path, jsonl: Path, *, epochs: int) -> Path:
    path.write_text(
        job_text(jsonl, processes=1, batch=4, epochs=epochs)
        + "properties: {node_count_per_trial: 2}\n"
    )
    return path


def cli_process(*arguments: str, log: Path) -> subprocess.Popen:
    """``automl-vision ARGUMENTS`` as a process of its own (its output in ``log``)."""
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "automl_nb.cli", *arguments],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=node_env(),
        )


def start_node_worker(workspace: Path, log: Path) -> tuple[Path, subprocess.Popen]:
    """Once the controller made the job folder: ``worker JOB --node-rank 1`` on "node 1"."""
    job_json = wait_for(lambda: next(workspace.glob("*/*/job.json"), None), what="the job")
    job = job_json.parent
    worker = cli_process(
        "worker", job.name, "--node-rank", "1", "--workspace", str(workspace), log=log
    )
    return job, worker


def kill_all(*processes: subprocess.Popen, folder: Path) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
    for pid in processes_mentioning(str(folder)):
        os.kill(pid, signal.SIGKILL)


def run_on_two_nodes(
    tmp_path: Path, colours: Path, *, epochs: int
) -> tuple[subprocess.Popen, Path, subprocess.Popen]:
    """``run`` of a two-node job (node 0) and ``worker --node-rank 1`` (node 1), started; the
    controller, the job folder and the worker."""
    workspace = tmp_path / "ws"
    job_yaml = two_node_job(tmp_path / "job.yml", colours, epochs=epochs)
    controller = cli_process(
        "run",
        str(job_yaml),
        "--workspace",
        str(workspace),
        "--no-progress",
        log=tmp_path / "controller.log",
    )
    job, worker = start_node_worker(workspace, tmp_path / "worker.log")
    return controller, job, worker


def test_a_trial_on_two_nodes_matches_two_processes_on_one(tmp_path, colours):
    controller, job, worker = run_on_two_nodes(tmp_path, colours, epochs=2)
    try:
        assert controller.wait(timeout=500) == 0, (tmp_path / "controller.log").read_text()
        # The node worker ends with the job.
        assert worker.wait(timeout=60) == 0, (tmp_path / "worker.log").read_text()
        assert "node 1 finished (job completed)" in (tmp_path / "worker.log").read_text()
    finally:
        kill_all(controller, worker, folder=job)
    trial = job / "trials" / "0"
    rows = read_jsonl(trial / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(r["processes"] == 2 for r in rows)  # one on each node
    assert (trial / "ranks-node-1.log").is_file() and (trial / "model" / "model.pt").is_file()
    assert not (trial / ".ranks" / "rendezvous.json").exists()
    assert not processes_mentioning(str(job))
    # The same data and seed on two processes of one machine (the same global batch).
    one_machine = run_trial(
        load_job(job_text(colours, processes=2, batch=4, epochs=2)), {}, tmp_path / "one"
    )
    assert [r["learning_rate"] for r in rows] == [r["learning_rate"] for r in one_machine.history]
    for a, b in zip(one_machine.history, rows):
        assert b["accuracy"] == pytest.approx(a["accuracy"], abs=0.2)
    first = (one_machine.history[0]["train_loss"], rows[0]["train_loss"])
    assert first[1] == pytest.approx(first[0], rel=0.2), first
    # Ranks numbered as on one machine (rank 0 on node 0): the same shards, the same steps.
    assert [r["train_loss"] for r in rows] == pytest.approx(
        [r["train_loss"] for r in one_machine.history], rel=1e-4
    )
    status = json.loads((job / "status.json").read_text())
    assert status["best_score"] == pytest.approx(one_machine.best_score, abs=0.1)


def test_a_killed_node_worker_fails_the_trial_and_leaves_no_process(tmp_path, colours):
    controller, job, worker = run_on_two_nodes(tmp_path, colours, epochs=50)
    trial = job / "trials" / "0"
    try:
        wait_for(lambda: read_jsonl(trial / "metrics.jsonl"), timeout=300, what="an epoch")
        assert (trial / ".ranks" / "pid-1").is_file()  # node 1's rank
        worker.kill()
        assert controller.wait(timeout=120) == 1, (tmp_path / "controller.log").read_text()
        status = json.loads((job / "status.json").read_text())
        assert status["status"] == "failed"
        assert "DistributedTrialError" in status["error"], status["error"]
        assert "ranks-node-1.log" in status["error"]  # where to look
        wait_for(lambda: not processes_mentioning(str(job)), timeout=60, what="no process left")
    finally:
        kill_all(controller, worker, folder=job)


def test_canceling_a_two_node_trial_stops_both_nodes_and_the_node_worker_exits(tmp_path, colours):
    from automl_nb.cli import main as cli
    from automl_nb.testing.processes import kill_job_processes

    workspace = tmp_path / "ws"
    job_yaml = two_node_job(tmp_path / "job.yml", colours, epochs=50)
    submit = cli_process(
        "submit", str(job_yaml), "--workspace", str(workspace), log=tmp_path / "submit.log"
    )
    job, worker = start_node_worker(workspace, tmp_path / "worker.log")
    trial = job / "trials" / "0"
    try:
        assert submit.wait(timeout=120) == 0, (tmp_path / "submit.log").read_text()
        wait_for(lambda: read_jsonl(trial / "metrics.jsonl"), timeout=300, what="an epoch")
        assert (trial / ".ranks" / "pid-1").is_file()  # node 1's rank is training
        assert cli(["cancel", job.name, "--workspace", str(workspace), "--wait"]) == 0
        status = json.loads((job / "status.json").read_text())
        assert status["status"] == "canceled"
        record = json.loads((trial / "status.json").read_text())
        assert record["state"] == "canceled" and record["best_score"] is not None
        # Node 1 stopped at the same batch and its worker left with the job.
        assert worker.wait(timeout=90) == 0, (tmp_path / "worker.log").read_text()
        assert "node 1 finished (job canceled)" in (tmp_path / "worker.log").read_text()
        wait_for(lambda: not processes_mentioning(str(job)), timeout=60, what="no process left")
    finally:
        kill_all(submit, worker, folder=job)
        kill_job_processes(workspace)
