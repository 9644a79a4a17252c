"""A trial's sign of life from the first batch (``progress.json``) and the runner's stop
request (a ``stop`` file) honoured before the first epoch and between batches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from automl_nb.training import run_trial
from tests.training.test_trial import _spec
from tests.training.test_trial import data_dir  # noqa: F401 - the module's tiny data fixture


class _ReadProgressAtFirstBatch:
    def __init__(self) -> None:
        self.seen: dict[str, Any] | None = None

    def on_train_batch_end(self, state: Any, batch: int, total: int, loss: float) -> None:
        if self.seen is None:
            self.seen = json.loads((state.trial_dir / "progress.json").read_text())


def test_progress_is_written_from_the_first_batch(data_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    probe = _ReadProgressAtFirstBatch()
    run_trial(_spec(data_dir, number_of_epochs=2), {}, tmp_path / "t", callbacks=[probe])
    first = probe.seen
    assert first is not None
    assert first["epoch"] == 1 and first["epochs"] == 2
    assert first["batch"] == 1 and first["batches"] == 3  # 12 images, batches of 4
    assert first["images_per_second"] > 0
    assert first["epoch_eta_seconds"] >= 0 and first["eta_seconds"] >= first["epoch_eta_seconds"]
    final = json.loads((tmp_path / "t" / "progress.json").read_text())
    assert final["epoch"] == 2 and final["batch"] == final["batches"] == 3


def test_a_stop_request_before_training_stops_it_before_the_first_epoch(
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    trial = tmp_path / "t"
    trial.mkdir()
    (trial / "stop").write_text("canceled")
    with pytest.raises(KeyboardInterrupt):
        run_trial(_spec(data_dir, number_of_epochs=3), {}, trial)
    assert (trial / "metrics.jsonl").read_text() == ""
    assert not (trial / "model").exists()


class _StopAtFirstBatch:
    def on_train_batch_end(self, state: Any, batch: int, total: int, loss: float) -> None:
        (state.trial_dir / "stop").write_text("canceled")


def test_a_stop_request_mid_epoch_ends_the_trial_within_that_epoch(
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    trial = tmp_path / "t"
    with pytest.raises(KeyboardInterrupt):
        run_trial(_spec(data_dir, number_of_epochs=4), {}, trial, callbacks=[_StopAtFirstBatch()])
    rows = [json.loads(line) for line in (trial / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] in ([], [1])
