"""``automl-vision models``: the curated list with defaults, as text and JSON."""

from __future__ import annotations

import json

from automl_nb.cli import main


def test_models_json_lists_task_models_with_defaults(capsys) -> None:
    assert main(["models", "--task", "image_object_detection", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = [r["model_name"] for r in rows]
    assert names[0] == "fasterrcnn_resnet18_fpn" and "retinanet_resnet50_fpn" in names
    assert all(r["task"] == "image_object_detection" for r in rows)
    default = next(r for r in rows if r["default"])
    assert default["model_name"] == "yolov5" and default["available"] is True
    assert default["defaults"]["box_score_threshold"] == 0.1
    assert default["defaults"]["model_size"] == "medium"
    rcnn = next(r for r in rows if r["model_name"] == "fasterrcnn_resnet50_fpn")
    assert rcnn["defaults"]["box_score_threshold"] == 0.3


def test_models_table_and_pattern(capsys) -> None:
    assert main(["models", "--task", "image_classification", "--pattern", "vit*16r224"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["model_name", "task", "batch"]
    rows = {line.split()[0]: line.split() for line in out[1:]}
    assert set(rows) == {"vits16r224", "vitb16r224", "vitl16r224"}
    assert rows["vitb16r224"][2:4] == ["48", "0.0125"]
    assert "default" in " ".join(rows["vitb16r224"])
    assert main(["models", "--pattern", "no_such_model*"]) == 1
