"""run_trial on tiny generated data: folder contents, resume, early stopping, pruning, freezing,
checkpoints, incremental training and diverging losses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from automl_nb.config import load_job
from automl_nb.inference._model_dir import read_model_file
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.training import NonFiniteLossError
from automl_nb.training import TrialPruned
from automl_nb.training import load_checkpoint
from automl_nb.training import run_trial

# timm's tiny test network: a real ResNet layout (so layers_to_freeze applies), 0.4 M params.
FAST = {
    "model_name": "test_resnet",
    "training_batch_size": 4,
    "validation_batch_size": 8,
    "training_crop_size": 32,
    "validation_resize_size": 32,
    "validation_crop_size": 32,
    "random_seed": 0,
    "advanced_settings": '{"use_pretrained": false}',
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    make_classification_jsonl(root, n=12, size=32, classes=("red", "green"), name="train.jsonl")
    make_classification_jsonl(
        root / "val", n=4, size=32, classes=("red", "green"), name="valid.jsonl", seed=1
    )
    return root


def _spec(data_dir: Path, **training: Any) -> Any:
    return load_job(
        {
            "task": "image_classification",
            "target_column_name": "label",
            "compute": "cpu",
            "training_data": {"path": str(data_dir / "train.jsonl"), "type": "uri_file"},
            "validation_data": {"path": str(data_dir / "val" / "valid.jsonl"), "type": "uri_file"},
            "training_parameters": {**FAST, **training},
        }
    )


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_trial_folder_and_resume_continues_the_epoch_count(data_dir: Path, tmp_path: Path) -> None:
    trial = tmp_path / "trial"
    first = run_trial(_spec(data_dir, number_of_epochs=2), {"learning_rate": 0.01}, trial)
    assert first.status == "completed" and first.epochs == 2
    for name in ("params.json", "hyperparameters.json", "metrics.jsonl", "log.txt"):
        assert (trial / name).is_file(), name
    assert json.loads((trial / "params.json").read_text()) == {"learning_rate": 0.01}
    assert {p.name for p in (trial / "checkpoints").iterdir()} == {"last.pt", "best.pt"}
    model_dir = trial / "model"
    for name in ("model.pt", "settings.json", "labels.json", "job.yaml", "metrics.json"):
        assert (model_dir / name).is_file(), name
    assert (model_dir / "plots" / "epoch_curves.png").is_file()
    rows = _lines(trial / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2]
    for key in ("train_loss", "learning_rate", "accuracy", "images_per_second", "seconds"):
        assert key in rows[0], key
    assert json.loads((model_dir / "labels.json").read_text()) == ["green", "red"]

    resumed = run_trial(
        _spec(data_dir, number_of_epochs=3), {"learning_rate": 0.01}, trial, resume=True
    )
    rows = _lines(trial / "metrics.jsonl")
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[0]["train_loss"] == pytest.approx(first.history[0]["train_loss"])
    assert resumed.epochs == 3
    assert load_checkpoint(trial / "checkpoints" / "last.pt")["epoch"] == 3
    assert "resumed from" in (trial / "log.txt").read_text()


def test_early_stopping_ends_the_trial(data_dir: Path, tmp_path: Path) -> None:
    # A zero learning rate never improves the metric: stop after delay + patience evaluations.
    spec = _spec(
        data_dir,
        number_of_epochs=10,
        learning_rate=0.0,
        early_stopping=True,
        early_stopping_patience=1,
        early_stopping_delay=1,
        learning_rate_scheduler="none",
    )
    result = run_trial(spec, {}, tmp_path / "t")
    assert result.stopped_early
    assert result.epochs == 2
    assert result.best_epoch == 1


def test_evaluation_and_checkpoint_frequency(data_dir: Path, tmp_path: Path) -> None:
    spec = _spec(data_dir, number_of_epochs=3, evaluation_frequency=2, checkpoint_frequency=1)
    result = run_trial(spec, {}, tmp_path / "t")
    rows = result.history
    assert ["accuracy" in r for r in rows] == [False, True, True]  # epoch 3 is the last one
    names = {p.name for p in (tmp_path / "t" / "checkpoints").iterdir()}
    assert {"epoch_1.pt", "epoch_2.pt", "epoch_3.pt", "last.pt", "best.pt"} <= names
    ckpt = load_checkpoint(tmp_path / "t" / "checkpoints" / "epoch_2.pt")
    assert {"model", "optimizer", "scheduler", "epoch", "history"} <= set(ckpt)


class _Recorder:
    def __init__(self, prune_at: int | None = None) -> None:
        self.prune_at = prune_at
        self.events: list[str] = []
        self.result: Any = None
        self.initial: dict[str, torch.Tensor] = {}
        self.final: dict[str, torch.Tensor] = {}

    def on_train_start(self, state: Any) -> None:
        self.events.append("start")
        self.initial = {k: v.clone() for k, v in state.model.state_dict().items()}

    def on_epoch_end(self, state: Any, metrics: dict) -> None:
        self.events.append(f"epoch{metrics['epoch']}")
        if self.prune_at == metrics["epoch"]:
            raise TrialPruned()

    def on_train_end(self, state: Any, result: Any) -> None:
        self.events.append("end")
        self.result = result
        self.final = {k: v.clone() for k, v in state.model.state_dict().items()}


def test_pruned_by_a_callback(data_dir: Path, tmp_path: Path) -> None:
    recorder = _Recorder(prune_at=1)
    result = run_trial(
        _spec(data_dir, number_of_epochs=3), {}, tmp_path / "t", callbacks=[recorder]
    )
    assert result.status == "pruned"
    # Nothing evaluated is thrown away: the pruned trial keeps its best (only) epoch.
    assert result.model_dir == tmp_path / "t" / "model" and result.best_epoch == 1
    from automl_nb.inference import load_model

    assert load_model(result.model_dir).labels == ["green", "red"]
    assert recorder.events == ["start", "epoch1", "end"]
    assert recorder.result is result


def test_layers_to_freeze_keeps_the_first_layers_fixed(data_dir: Path, tmp_path: Path) -> None:
    recorder = _Recorder()
    spec = _spec(data_dir, number_of_epochs=1, layers_to_freeze=2, learning_rate=0.05)
    run_trial(spec, {}, tmp_path / "t", callbacks=[recorder])
    assert torch.equal(recorder.initial["conv1.0.weight"], recorder.final["conv1.0.weight"])
    frozen_l1 = [k for k in recorder.initial if k.startswith("layer1.") and k.endswith("weight")]
    assert all(torch.equal(recorder.initial[k], recorder.final[k]) for k in frozen_l1)
    assert not torch.equal(recorder.initial["fc.weight"], recorder.final["fc.weight"])


def test_incremental_training_from_a_model_folder_and_a_run_id(
    data_dir: Path, tmp_path: Path
) -> None:
    base = run_trial(_spec(data_dir, number_of_epochs=1), {}, tmp_path / "base")
    recorder = _Recorder()
    spec = _spec(data_dir, number_of_epochs=1, checkpoint_path=str(base.model_dir))
    run_trial(spec, {}, tmp_path / "next", callbacks=[recorder])
    saved = torch.load(base.model_dir / "model.pt", weights_only=False)["state_dict"]
    assert torch.equal(recorder.initial["conv1.0.weight"], saved["conv1.0.weight"])
    assert "loaded" in (tmp_path / "next" / "log.txt").read_text()

    by_run = _spec(data_dir, number_of_epochs=1, checkpoint_run_id=str(tmp_path / "base"))
    recorder = _Recorder()
    run_trial(by_run, {}, tmp_path / "next2", callbacks=[recorder])
    assert torch.equal(recorder.initial["conv1.0.weight"], saved["conv1.0.weight"])


class _Poison:
    def on_train_start(self, state: Any) -> None:
        with torch.no_grad():
            next(state.model.parameters()).fill_(float("nan"))

    def on_exception(self, state: Any, exc: BaseException) -> None:
        self.exc = exc


def test_non_finite_loss_stops_with_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    poison = _Poison()
    with pytest.raises(NonFiniteLossError, match="training loss is nan"):
        run_trial(_spec(data_dir, number_of_epochs=2), {}, tmp_path / "t", callbacks=[poison])
    assert isinstance(poison.exc, NonFiniteLossError)
    assert "trial failed" in (tmp_path / "t" / "log.txt").read_text()


def test_validation_loss_and_training_metrics_are_logged(data_dir: Path, tmp_path: Path) -> None:
    spec = _spec(data_dir, number_of_epochs=1, log_training_metrics="enable")
    run_trial(spec, {}, tmp_path / "t")
    row = _lines(tmp_path / "t" / "metrics.jsonl")[0]
    assert row["validation_loss"] == pytest.approx(row["log_loss"])
    assert 0.0 <= row["train_accuracy"] <= 1.0
    quiet = _spec(data_dir, number_of_epochs=1, log_validation_loss="disable")
    run_trial(quiet, {}, tmp_path / "q")
    row = _lines(tmp_path / "q" / "metrics.jsonl")[0]
    assert "validation_loss" not in row and "train_accuracy" not in row


def test_detection_validation_loss_leaves_the_model_unchanged(tmp_path: Path) -> None:
    from automl_nb.data import read_jsonl
    from automl_nb.data._datasets import DetectionDataset
    from automl_nb.data._datasets import detection_collate
    from automl_nb.data._transforms import detection_transform
    from automl_nb.models import create_model
    from automl_nb.testing.datasets import make_detection_jsonl
    from automl_nb.training.engine import detection_validation_loss

    path = make_detection_jsonl(tmp_path, n=2, size=64)
    data = read_jsonl(path, "image_object_detection")
    ds = DetectionDataset(data, detection_transform(train=False), labels=list(data.labels))
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=detection_collate)
    model = create_model(
        "fasterrcnn_resnet18_fpn",
        task="image_object_detection",
        num_classes=len(data.labels),
        pretrained=False,
        min_size=64,
        max_size=64,
    ).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = detection_validation_loss(model, loader, device="cpu")
    assert loss is not None and loss > 0
    assert not model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


class _Interrupt:
    """Raises KeyboardInterrupt (a cancel or timeout from the runner) in epoch ``at``."""

    def __init__(self, at: int) -> None:
        self.at = at

    def on_train_batch_end(self, state: Any, index: int, total: int, loss: float) -> None:
        if state.epoch + 1 == self.at:
            raise KeyboardInterrupt


def test_an_interrupted_trial_keeps_its_best_evaluated_model(
    data_dir: Path, tmp_path: Path
) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_trial(
            _spec(data_dir, number_of_epochs=4), {}, tmp_path / "t", callbacks=[_Interrupt(2)]
        )
    assert (tmp_path / "t" / "model" / "settings.json").is_file()
    with pytest.raises(KeyboardInterrupt):
        run_trial(
            _spec(data_dir, number_of_epochs=4), {}, tmp_path / "u", callbacks=[_Interrupt(1)]
        )
    assert not (tmp_path / "u" / "model").exists()  # nothing was evaluated


def test_a_time_budget_ends_the_trial_with_its_best_model(data_dir: Path, tmp_path: Path) -> None:
    # Early stopping off: on a fast machine it could end the trial before the budget does.
    spec = _spec(data_dir, number_of_epochs=5000, early_stopping=False)
    result = run_trial(spec, {}, tmp_path / "t", time_budget=0.5)
    assert result.status == "completed" and 1 <= result.epochs < 5000
    assert (
        result.model_dir is not None and "time budget" in (tmp_path / "t" / "log.txt").read_text()
    )
    # The resume checkpoint is written at the trial's last epoch whatever its cost.
    assert load_checkpoint(tmp_path / "t" / "checkpoints" / "last.pt")["epoch"] == result.epochs


def test_a_time_budget_shortens_the_schedule_so_the_trial_ends_at_a_low_rate(
    data_dir: Path, tmp_path: Path
) -> None:
    # 5000 epochs never fit in 20 s: cut there, the plain schedule would still be near its
    # base rate; fitted to the budget it ends in its low-rate tail.
    spec = _spec(data_dir, number_of_epochs=5000, early_stopping=False, learning_rate=0.05)
    result = run_trial(spec, {}, tmp_path / "t", time_budget=20.0)
    assert result.status == "completed" and 3 <= result.epochs < 5000
    rates = [row["learning_rate"] for row in _lines(tmp_path / "t" / "metrics.jsonl")]
    assert rates[-1] < 0.25 * 0.05, rates
    assert (
        "learning-rate schedule now ends with the budget"
        in (tmp_path / "t" / "log.txt").read_text()
    )


def test_a_weight_average_is_what_the_trial_evaluates_keeps_and_resumes(
    data_dir: Path, tmp_path: Path
) -> None:
    # The kept model is the last epoch's average only if the last epoch scores best; in fp32
    # this tiny run improves up to its end (bf16 reaches its best score at epoch 1).
    settings = '{"use_pretrained": false, "model_ema": true, "precision": "fp32"}'
    spec = _spec(data_dir, number_of_epochs=2, advanced_settings=settings, learning_rate=0.05)
    recorder = _Recorder()
    result = run_trial(spec, {}, tmp_path / "t", callbacks=[recorder])
    last = load_checkpoint(tmp_path / "t" / "checkpoints" / "last.pt")
    assert last["ema"]["updates"] == 2 * 3  # 12 images in batches of 4, two epochs
    averaged, trained = last["ema"]["module"], last["model"]
    # What the callbacks see as the model (and what was evaluated) is the average...
    for name, value in recorder.final.items():
        assert torch.equal(value, averaged[name]), name
    # ...which is not the trained weights, but follows them.
    weights = [k for k, v in trained.items() if v.is_floating_point() and "weight" in k]
    assert any(not torch.equal(averaged[k], trained[k]) for k in weights)
    assert any(not torch.equal(averaged[k], recorder.initial[k]) for k in weights)
    published = read_model_file(result.model_dir)["state_dict"]
    best = load_checkpoint(tmp_path / "t" / "checkpoints" / "best.pt")["state_dict"]
    for name, value in best.items():
        assert torch.equal(published[name], value), name

    spec = _spec(data_dir, number_of_epochs=3, advanced_settings=settings, learning_rate=0.05)
    run_trial(spec, {}, tmp_path / "t", resume=True)
    assert load_checkpoint(tmp_path / "t" / "checkpoints" / "last.pt")["ema"]["updates"] == 9
