"""yolov5 end to end: run_trial, the model folder, load_model and predict."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from automl_nb.config import load_job
from automl_nb.inference import load_model
from automl_nb.testing.datasets import make_detection_jsonl
from automl_nb.training import run_trial


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("yolo_trial")
    make_detection_jsonl(root, n=12, size=96, classes=("box", "disc"))
    make_detection_jsonl(root / "val", n=4, size=96, classes=("box", "disc"), name="v.jsonl")
    return root


@pytest.mark.slow
def test_run_trial_trains_yolov5_small_end_to_end(data_dir: Path, tmp_path: Path) -> None:
    spec = load_job(
        {
            "task": "image_object_detection",
            "target_column_name": "label",
            "compute": "cpu",
            "training_data": {"path": str(data_dir / "train.jsonl"), "type": "uri_file"},
            "validation_data": {"path": str(data_dir / "val" / "v.jsonl"), "type": "uri_file"},
            "training_parameters": {
                "model_name": "yolov5",
                "model_size": "small",
                "image_size": 128,
                "number_of_epochs": 2,
                "training_batch_size": 4,
                "validation_batch_size": 4,
                "layers_to_freeze": 2,
                "random_seed": 0,
                "advanced_settings": '{"use_pretrained": false}',
            },
        }
    )
    result = run_trial(spec, {"box_score_threshold": 0.05}, tmp_path / "trial")
    assert result.status == "completed" and result.epochs == 2
    assert result.best_score is not None and math.isfinite(result.best_score)
    row = result.history[-1]
    assert set(row["loss_components"]) == {"loss_box", "loss_obj", "loss_cls"}
    settings = json.loads((result.model_dir / "settings.json").read_text())
    assert settings["img_size"] == 128 and settings["model_size"] == "small"
    assert settings["box_score_thresh"] == 0.05 and "min_size" not in settings

    loaded = load_model(result.model_dir, device="cpu", box_score_thresh=0.0, img_size=96)
    assert loaded.model.img_size == 128  # settings are pushed in at predict time
    image = next((data_dir / "images").glob("*.png"))
    (prediction,) = loaded.predict([str(image)])
    assert loaded.model.img_size == 96 and loaded.model.score_thresh == 0.0
    boxes = prediction["boxes"]
    assert boxes and {b["label"] for b in boxes} <= {"box", "disc"}
    for b in boxes:
        assert 0.0 <= b["box"]["topX"] <= b["box"]["bottomX"] <= 1.0
        assert 0.0 <= b["box"]["topY"] <= b["box"]["bottomY"] <= 1.0
