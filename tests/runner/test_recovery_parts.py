"""The pieces resume relies on, on real files and a real Optuna study (no kernels)."""

from __future__ import annotations

import socket
import subprocess
import sys

import optuna
import torch

from automl_nb.runner._layout import JobPaths
from automl_nb.runner._layout import read_json
from automl_nb.runner._layout import write_json
from automl_nb.runner._publisher import BestModelPublisher
from automl_nb.runner._recovery import carry_checkpoints
from automl_nb.runner._recovery import recover_interrupted
from automl_nb.runner._recovery import remove_stale_temp_files
from automl_nb.runner._status import StatusRecorder
from automl_nb.sweep._search_space import FIXED_HYPERPARAMETERS_ATTR
from automl_nb.training._checkpoint import save_checkpoint

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _model_folder(paths: JobPaths, number: int) -> None:
    model = paths.trial_dir(number) / "model"
    model.mkdir(parents=True)
    (model / "settings.json").write_text("{}", encoding="utf-8")
    (model / "model.pt").write_text(f"weights of {number}", encoding="utf-8")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_publisher_swaps_complete_copies_and_knows_what_it_holds(tmp_path):
    paths = JobPaths(tmp_path / "job")
    publisher = BestModelPublisher(paths)
    assert publisher.published_trial() is None
    _model_folder(paths, 0)
    _model_folder(paths, 3)
    publisher.publish(0)
    assert publisher.published_trial() == 0
    publisher.publish(3)
    assert publisher.published_trial() == 3
    assert (paths.best_model / "model.pt").read_text() == "weights of 3"
    assert sorted(p.name for p in paths.root.iterdir()) == ["best_model", "trials"]
    # ensure() copies only when best_model/ holds another trial.
    (paths.best_model / "marker").write_text("kept", encoding="utf-8")
    publisher.ensure(3)
    assert (paths.best_model / "marker").exists()
    publisher.ensure(0)
    assert publisher.published_trial() == 0 and not (paths.best_model / "marker").exists()
    # A staging copy left by a killed publisher is removed; a trial without a model is skipped.
    (paths.root / ".best_model.abc.tmp").mkdir()
    assert [p.name for p in publisher.remove_stale_staging()] == [".best_model.abc.tmp"]
    assert publisher.publish(7) is None and publisher.published_trial() == 0


def test_status_recorder_merges_and_stamps_final_states(tmp_path):
    paths = JobPaths(tmp_path / "job")
    status = StatusRecorder(paths, primary_metric="accuracy")
    status.job("running", pid=1)
    status.job(best_trial=2)
    assert read_json(paths.status_json) == {
        "status": "running",
        "pid": 1,
        "best_trial": 2,
        "primary_metric": "accuracy",
    }
    status.note("one")
    status.note("two")
    assert status.job_record()["notes"] == ["one", "two"]
    status.trial(4, "running", started=5.0)
    assert "ended" not in status.trial_record(4)
    record = status.trial(4, "failed", error="boom")
    assert record["started"] == 5.0 and record["ended"] > 5.0 and record["error"] == "boom"


def test_stale_temp_files_go_and_checkpoints_are_carried_as_links(tmp_path):
    paths = JobPaths(tmp_path / "job")
    old, new = paths.trial_dir(1), paths.trial_dir(2)
    save_checkpoint(old / "checkpoints" / "last.pt", {"epoch": 3, "w": torch.ones(2)})
    save_checkpoint(old / "checkpoints" / "best.pt", {"state_dict": {"w": torch.ones(2)}})
    (old / "checkpoints" / "last.pt.tmp").write_bytes(b"half a checkpoint")
    (old / ".status.json.x1y2.tmp").write_text("{", encoding="utf-8")
    write_json(old / "status.json", {"state": "running"})
    removed = sorted(p.name for p in remove_stale_temp_files(paths))
    assert removed == [".status.json.x1y2.tmp", "last.pt.tmp"]
    assert (old / "status.json").exists()
    assert carry_checkpoints(old, new)
    assert sorted(p.name for p in (new / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    assert (new / "checkpoints" / "last.pt").stat().st_ino == (
        old / "checkpoints" / "last.pt"
    ).stat().st_ino
    assert not carry_checkpoints(paths.trial_dir(9), paths.trial_dir(10))


def test_recovery_keeps_a_finished_trial_and_requeues_an_interrupted_one(tmp_path):
    paths = JobPaths(tmp_path / "job")
    status = StatusRecorder(paths)
    study = optuna.create_study(direction="maximize")
    dead = f"{socket.gethostname()}:{_dead_pid()}"
    finished, interrupted, elsewhere = study.ask(), study.ask(), study.ask()
    for trial, lr in ((finished, 0.1), (interrupted, 0.2), (elsewhere, 0.3)):
        trial.suggest_float("learning_rate", 0.0, 1.0)
        trial.set_user_attr("hyperparameters", {"learning_rate": lr})
        trial.set_user_attr("worker", dead)
    elsewhere.set_user_attr("worker", "another-host:1")  # not this machine's to judge
    status.trial(finished.number, "completed", best_score=0.75)
    status.trial(interrupted.number, "running")
    save_checkpoint(paths.trial_dir(interrupted.number) / "checkpoints" / "last.pt", {"epoch": 2})

    notes = recover_interrupted(study, paths, status)

    by_number = {t.number: t for t in study.get_trials()}
    kept = by_number[finished.number]
    assert kept.state == optuna.trial.TrialState.COMPLETE and kept.value == 0.75
    assert not kept.user_attrs.get("interrupted")  # it counts in the budget
    stopped = by_number[interrupted.number]
    assert stopped.state == optuna.trial.TrialState.FAIL and stopped.user_attrs["interrupted"]
    record = status.trial_record(interrupted.number)
    assert record["state"] == "interrupted" and record["ended"]
    assert "continues after epoch 2" in record["error"]
    assert by_number[elsewhere.number].state == optuna.trial.TrialState.RUNNING
    (retry,) = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.WAITING]
    assert retry.user_attrs["retry_of"] == interrupted.number
    assert retry.user_attrs[FIXED_HYPERPARAMETERS_ATTR] == {"learning_rate": 0.2}
    assert notes == [
        f"trial {finished.number} finished while the controller was down: kept",
        f"trial {interrupted.number} was interrupted: queued again; the retry continues "
        "after epoch 2",
    ]
