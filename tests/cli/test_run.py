"""``automl-vision run`` end to end on real data from ``../shared/data``, one job per task.

Tiny image sizes, from scratch, CPU. Each job must write the job folder and a complete model
folder, compute its metrics on the validation split, and predict in the Azure schema. The
multi-class job on the fridge thumbnails must learn (accuracy clearly above chance, 0.25).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from automl_nb.cli import main
from automl_nb.data import write_jsonl
from tests.conftest import shared_dataset

MODEL_FILES = ("model.pt", "settings.json", "labels.json", "job.yaml", "hyperparameters.json")


def _job(tmp: Path, task: str, train: Path, training: dict, *, extra: str = "") -> Path:
    lines = [
        "type: automl",
        f"task: {task}",
        "target_column_name: label",
        "compute: cpu",
        "experiment_name: tests",
        f"training_data:\n  path: {train.name}\n  type: uri_file",
        "validation_data_size: 0.25",
        "limits:\n  max_trials: 1",
        "training_parameters:",
        *(f"  {k}: {json.dumps(v) if isinstance(v, str) else v}" for k, v in training.items()),
        "  random_seed: 0",
        "  early_stopping: false",
        """  advanced_settings: '{"use_pretrained": false}'""",
        extra,
    ]
    path = tmp / f"{task}.yml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(job: Path, workspace: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["run", str(job), "--workspace", str(workspace), "--json", "--no-progress"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0, out
    return json.loads(out[-1])


def _check_job(summary: dict, task: str, primary: str) -> dict:
    assert summary["status"] == "completed"
    assert summary["primary_metric"] == primary
    job_dir = Path(summary["job_dir"])
    assert job_dir.parent.name == "tests" and job_dir.name == summary["job_id"]
    assert (job_dir / "job.yaml").is_file()
    trial = job_dir / "trials" / "0"
    for name in ("params.json", "metrics.jsonl", "log.txt", "checkpoints/last.pt"):
        assert (trial / name).is_file(), name
    best = Path(summary["best_model_dir"])
    assert best == job_dir / "best_model"
    for name in MODEL_FILES:
        assert (best / name).is_file(), name
    assert (best / "plots" / "epoch_curves.png").is_file()
    metrics = json.loads((best / "metrics.json").read_text())
    assert math.isfinite(metrics[primary])
    assert summary["best_score"] == pytest.approx(metrics[primary])
    rows = [json.loads(x) for x in (trial / "metrics.jsonl").read_text().splitlines()]
    assert rows and all(math.isfinite(r["train_loss"]) for r in rows)
    return metrics


def _predict_valid(model_dir: Path, image: str, task: str) -> None:
    from automl_nb.inference import predict
    from automl_nb.inference import validate_prediction

    (prediction,) = predict(str(model_dir), [image])
    validate_prediction(prediction, task)


@pytest.mark.slow
def test_multiclass_fridge_thumbnails_learn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = shared_dataset("fridgeObjects") / "thumbnails_150"
    rows = [
        {"image_url": str(f), "label": d.name}
        for d in sorted(root.iterdir())
        for f in sorted(d.glob("*.jpg"), key=lambda p: int(p.stem))
    ]
    train = tmp_path / "fridge.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    job = _job(
        tmp_path,
        "image_classification",
        train,
        {
            "model_name": "resnet10t",
            "number_of_epochs": 15,
            "training_batch_size": 16,
            "validation_batch_size": 64,
            "optimizer": "adamw",
            "learning_rate": 0.002,
            "warmup_cosine_lr_warmup_epochs": 1,
            "training_crop_size": 64,
            "validation_resize_size": 72,
            "validation_crop_size": 64,
        },
    )
    summary = _run(job, tmp_path / "ws", capsys)
    metrics = _check_job(summary, "image_classification", "accuracy")
    assert metrics["num_samples"] == 34  # the 25% validation split of 134 images
    assert metrics["accuracy"] >= 0.45, metrics["accuracy"]
    assert (Path(summary["best_model_dir"]) / "plots" / "confusion_matrix.png").is_file()
    _predict_valid(Path(summary["best_model_dir"]), rows[0]["image_url"], "image_classification")


@pytest.mark.slow
def test_multilabel_fridge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = shared_dataset("odFridgeObjects")
    csv_lines = (root / "labels_multilabel_derived.csv").read_text().splitlines()[1:41]
    rows = []
    for line in csv_lines:
        name, labels = line.split(",", 1)
        rows.append({"image_url": str(root / "images" / name), "label": labels.split()})
    train = tmp_path / "multilabel.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    job = _job(
        tmp_path,
        "image_classification_multilabel",
        train,
        {
            "model_name": "resnet18",
            "number_of_epochs": 2,
            "training_batch_size": 8,
            "validation_batch_size": 16,
            "training_crop_size": 48,
            "validation_resize_size": 56,
            "validation_crop_size": 48,
            "weighted_loss": 1,
        },
    )
    summary = _run(job, tmp_path / "ws", capsys)
    metrics = _check_job(summary, "image_classification_multilabel", "iou")
    assert metrics["num_samples"] == 10
    _predict_valid(
        Path(summary["best_model_dir"]), rows[0]["image_url"], "image_classification_multilabel"
    )


@pytest.mark.slow
def test_detection_fridge_voc(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from automl_nb.data.converters import read_format

    data, _ = read_format("voc", shared_dataset("odFridgeObjects") / "annotations")
    train = write_jsonl(data.records[:16], tmp_path / "detection.jsonl")
    job = _job(
        tmp_path,
        "image_object_detection",
        train,
        {
            "model_name": "fasterrcnn_resnet18_fpn",
            "number_of_epochs": 1,
            "training_batch_size": 2,
            "validation_batch_size": 4,
            "min_size": 64,
            "max_size": 96,
            "box_score_threshold": 0.0,
            "validation_metric_type": "coco_voc",
        },
    )
    summary = _run(job, tmp_path / "ws", capsys)
    metrics = _check_job(summary, "image_object_detection", "mean_average_precision")
    assert math.isfinite(metrics["map_50_95"])
    settings = json.loads((Path(summary["best_model_dir"]) / "settings.json").read_text())
    assert settings["min_size"] == 64 and settings["box_score_thresh"] == 0.0
    _predict_valid(Path(summary["best_model_dir"]), data.records[0].path, "image_object_detection")


@pytest.mark.slow
def test_instance_segmentation_coco128_seg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automl_nb.data.converters import read_format

    data, _ = read_format(
        "yolo", shared_dataset("coco128_seg_val"), task="image_instance_segmentation"
    )
    # Keep the people only: a random 25% split of 80 COCO classes would put classes in the
    # validation data that training never saw.
    people = [
        dataclasses.replace(r, label=tuple(o for o in r.label if o.label == "person"))
        for r in data.records
    ]
    labelled = [r for r in people if r.label][:14]
    train = write_jsonl(labelled, tmp_path / "segmentation.jsonl")
    job = _job(
        tmp_path,
        "image_instance_segmentation",
        train,
        {
            "model_name": "maskrcnn_resnet18_fpn",
            "number_of_epochs": 1,
            "training_batch_size": 2,
            "validation_batch_size": 4,
            "min_size": 64,
            "max_size": 96,
            "box_score_threshold": 0.0,
        },
    )
    summary = _run(job, tmp_path / "ws", capsys)
    _check_job(summary, "image_instance_segmentation", "mean_average_precision")
    _predict_valid(
        Path(summary["best_model_dir"]), labelled[0].path, "image_instance_segmentation"
    )


def test_run_reports_bad_hyperparameters_with_the_nearest_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automl_nb.testing.datasets import make_classification_jsonl

    train = make_classification_jsonl(tmp_path, n=12, size=16, classes=("a", "b"))
    job = _job(tmp_path, "image_classification", train, {"model_name": "test_resnet"})
    code = main(
        [
            "run",
            str(job),
            "--workspace",
            str(tmp_path / "ws"),
            "--set",
            "training_parameters.learning_rat=0.1",
        ]
    )
    assert code == 2
    assert "learning_rate" in capsys.readouterr().err


def test_run_tiny_job_with_set_overrides(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from automl_nb.testing.datasets import make_classification_jsonl

    train = make_classification_jsonl(tmp_path, n=12, size=16, classes=("a", "b"))
    job = _job(
        tmp_path,
        "image_classification",
        train,
        {
            "model_name": "test_resnet",
            "training_crop_size": 16,
            "validation_resize_size": 16,
            "validation_crop_size": 16,
            "training_batch_size": 4,
        },
    )
    code = main(
        [
            "run",
            str(job),
            "--workspace",
            str(tmp_path / "ws"),
            "--json",
            "--no-progress",
            "--set",
            "training_parameters.number_of_epochs=2",
            "--device",
            "cpu",
        ]
    )
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    summary = json.loads(out[-1])
    assert {"job_id", "status", "primary_metric", "best_score", "best_model_dir"} <= set(summary)
    assert summary["epochs"] == 2
    status = json.loads((Path(summary["job_dir"]) / "status.json").read_text())
    assert status["status"] == "completed" and status["best_score"] == summary["best_score"]
    # The trial's status and best_model/ are recorded the way the job runner records them.
    job_dir = Path(summary["job_dir"])
    trial = json.loads((job_dir / "trials" / "0" / "status.json").read_text())
    assert trial["state"] == "completed" and trial["epochs"] == 2
    assert trial["best_score"] == summary["best_score"] and trial["ended"] >= trial["started"]
    assert status["primary_metric"] == summary["primary_metric"] and status["best_trial"] == 0
    assert (job_dir / "best_model" / "TRIAL").read_text() == "0"
    assert (job_dir / "best_model" / "settings.json").is_file()
    assert not list(job_dir.glob(".best_model.*"))  # staged, then renamed into place
    from automl_nb.runner import get_job

    listed = get_job(job_dir).trials()
    assert [(t.number, t.state) for t in listed] == [(0, "completed")]
