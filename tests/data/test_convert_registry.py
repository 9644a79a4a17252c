"""The format registry, task adaptation, the report, MLTable output and export errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from PIL import Image

from automl_nb.data import read_dataset
from automl_nb.data.converters import ConversionReport
from automl_nb.data.converters import convert
from automl_nb.data.converters import export
from automl_nb.data.converters import get_format
from automl_nb.data.converters import guess_task
from automl_nb.data.converters import list_formats
from automl_nb.data.converters import read_format
from automl_nb.errors import ConfigError
from automl_nb.errors import DataError
from automl_nb.tasks import Task


def test_registry_lists_the_cli_names_and_writers():
    assert list_formats() == ["coco", "voc", "yolo", "folder", "csv", "masks"]
    assert list_formats(writable=True) == ["coco", "voc", "yolo"]
    assert get_format("COCO").name == "coco"


def test_unknown_format_suggests_the_closest():
    with pytest.raises(ConfigError) as info:
        get_format("yollo")
    assert info.value.problems[0].suggestion == "yolo"
    assert "coco, voc, yolo, folder, csv, masks" in str(info.value)


def test_unknown_task_is_a_located_error(tmp_path):
    with pytest.raises(DataError, match="task: unknown task"):
        read_format("folder", tmp_path, task="image_segmentation")


@pytest.fixture()
def yolo_dir(tmp_path):
    for i, name in enumerate(["a", "b", "c"]):
        pixels = np.random.default_rng(i).integers(0, 255, (20, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{name}.jpg")
    (tmp_path / "classes.txt").write_text("cat\ndog\n")
    (tmp_path / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n")
    (tmp_path / "b.txt").write_text("1 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.2 0.2\n")
    return tmp_path


def test_detection_source_as_multilabel_and_multiclass(yolo_dir):
    multilabel, _ = read_format("yolo", yolo_dir, task="image_classification_multilabel")
    assert [r.label for r in multilabel] == [("cat", "dog"), ("dog",), ()]
    multiclass, report = read_format("yolo", yolo_dir, task=Task.CLASSIFICATION)
    assert [r.label for r in multiclass] == ["dog"]
    assert report.skipped_total == 2


def test_report_text_and_dict(yolo_dir, tmp_path):
    report = convert("yolo", yolo_dir, tmp_path / "out" / "d.jsonl", mltable=True)
    text = str(report)
    assert "images: 3 (1 background)" in text
    assert "dog" in text and "3 in all" not in text and "4 in all" in text
    as_dict = json.loads(json.dumps(report.to_dict()))
    assert as_dict["per_class"] == {"cat": 1, "dog": 3}
    assert as_dict["task"] == "image_object_detection"
    assert isinstance(report, ConversionReport)
    mltable = yaml.safe_load((tmp_path / "out" / "MLTable").read_text())
    assert mltable["paths"] == [{"file": "./d.jsonl"}]
    data = read_dataset(tmp_path / "out", Task.OBJECT_DETECTION)
    assert len(data) == 3
    assert guess_task(tmp_path / "out") is Task.OBJECT_DETECTION


def test_report_lists_skips_with_examples():
    report = ConversionReport("yolo", "src", Task.OBJECT_DETECTION)
    for i in range(7):
        report.skip("label file without image", f"x{i}.txt")
    report.skip("nothing", count=0)
    assert report.skipped == {"label file without image": 7}
    assert len(report.examples["label file without image"]) == 5
    assert "7 x label file without image (e.g. x0.txt, x1.txt, x2.txt)" in str(report)


def test_convert_with_nothing_left_is_an_error(tmp_path):
    (tmp_path / "a.csv").write_text("filename,labels\nmissing.jpg,cat\n")
    with pytest.raises(DataError, match="nothing to convert"):
        convert("csv", tmp_path / "a.csv", tmp_path / "x.jsonl")


def test_guess_task_from_each_label_shape(tmp_path):
    lines = {
        "c.jsonl": {"image_url": "a.jpg", "label": "cat"},
        "m.jsonl": {"image_url": "a.jpg", "label": ["cat"]},
        "d.jsonl": {"image_url": "a.jpg", "label": [{"label": "cat", "topX": 0}]},
        "s.jsonl": {"image_url": "a.jpg", "label": [{"label": "cat", "polygon": [[0, 0]]}]},
    }
    for name, line in lines.items():
        (tmp_path / name).write_text("\n" + json.dumps(line) + "\n")
    assert [guess_task(tmp_path / n) for n in lines] == [
        Task.CLASSIFICATION,
        Task.CLASSIFICATION_MULTILABEL,
        Task.OBJECT_DETECTION,
        Task.INSTANCE_SEGMENTATION,
    ]
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(DataError, match="bad.jsonl:1"):
        guess_task(tmp_path / "bad.jsonl")


def test_export_refuses_read_only_formats(yolo_dir, tmp_path):
    data, _ = read_format("yolo", yolo_dir)
    with pytest.raises(DataError, match="cannot be written"):
        export(data, "folder", tmp_path / "x")
