"""Tests of load_job_data: job paths, the split, the 10-image minimum and label checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from automl_nb.config import load_job
from automl_nb.data import load_job_data
from automl_nb.data import read_dataset
from automl_nb.errors import DataError
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_detection_jsonl
from automl_nb.testing.datasets import make_job_yaml
from automl_nb.testing.datasets import make_mltable
from automl_nb.testing.datasets import write_lines
from tests.conftest import shared_dataset

CLS = "image_classification"
DET = "image_object_detection"


def test_mltable_train_and_validation_relative_to_the_yaml(tmp_path: Path, monkeypatch) -> None:
    make_detection_jsonl(tmp_path / "data" / "train", n=12, classes=("a", "b"))
    make_detection_jsonl(tmp_path / "data" / "valid", n=4, classes=("a",), seed=5)
    make_mltable(tmp_path / "data" / "train")
    make_mltable(tmp_path / "data" / "valid")
    job = make_job_yaml(
        tmp_path, DET, "data/train", data_type="mltable", validation_data="data/valid"
    )
    monkeypatch.chdir("/")
    train, valid = load_job_data(load_job(job))
    assert (len(train), len(valid)) == (12, 4)
    assert train.labels == valid.labels == ["a", "b"]
    assert train.source == str(tmp_path / "data" / "train")


def test_split_uses_validation_data_size_and_random_seed(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path, n=20, classes=("a", "b"))
    job = make_job_yaml(
        tmp_path,
        CLS,
        "train.jsonl",
        extra="validation_data_size: 0.3\ntraining_parameters:\n  random_seed: 7\n",
    )
    spec = load_job(job)
    train, valid = load_job_data(spec)
    assert (len(train), len(valid)) == (14, 6)
    assert valid.label_counts() == {"a": 3, "b": 3}
    again = load_job_data(spec)[1]
    assert [r.source for r in again] == [r.source for r in valid]
    other = make_job_yaml(
        tmp_path,
        CLS,
        "train.jsonl",
        extra="validation_data_size: 0.3\ntraining_parameters:\n  random_seed: 8\n",
        name="other.yml",
    )
    assert [r.source for r in load_job_data(load_job(other))[1]] != [r.source for r in valid]


def test_default_split_is_twenty_percent(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path, n=10)
    train, valid = load_job_data(load_job(make_job_yaml(tmp_path, CLS, "train.jsonl")))
    assert (len(train), len(valid)) == (8, 2)


def test_target_column_name_is_used(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=10)
    path.write_text(path.read_text().replace('"label"', '"category"'))
    job = make_job_yaml(tmp_path, CLS, "train.jsonl")
    job.write_text(
        job.read_text().replace("target_column_name: label", "target_column_name: category")
    )
    train, _ = load_job_data(load_job(job))
    assert train.labels == ["cat", "dog"]


def test_fewer_than_ten_training_images(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path, n=9)
    with pytest.raises(DataError) as info:
        load_job_data(load_job(make_job_yaml(tmp_path, CLS, "train.jsonl")))
    (problem,) = info.value.problems
    assert problem.message.startswith("training data has 9 image(s); at least 10")
    assert problem.file == str(tmp_path / "train.jsonl")


def test_real_pennfudan_sample_is_below_the_minimum(tmp_path: Path) -> None:
    root = shared_dataset("PennFudanPed_sample") / "PNGImages"
    box = {"label": "person", "topX": 0.1, "topY": 0.1, "bottomX": 0.5, "bottomY": 0.9}
    lines = [{"image_url": str(p), "label": [box]} for p in sorted(root.glob("*.png"))]
    write_lines(tmp_path / "train.jsonl", lines)
    with pytest.raises(DataError, match=f"training data has {len(lines)} image"):
        load_job_data(load_job(make_job_yaml(tmp_path, DET, "train.jsonl")))


def test_label_only_in_validation_names_first_record(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path / "t", n=10, classes=("a", "b"))
    valid = make_classification_jsonl(tmp_path / "v", n=6, classes=("a", "b", "zebra"))
    job = make_job_yaml(tmp_path, CLS, "t/train.jsonl", validation_data="v/train.jsonl")
    with pytest.raises(DataError) as info:
        load_job_data(load_job(job))
    (problem,) = info.value.problems
    assert "'zebra' is in the validation data but not in the training data" in problem.message
    assert (problem.file, problem.line) == (str(valid), 3)


def test_detection_validation_may_use_a_subset_of_classes(tmp_path: Path) -> None:
    make_detection_jsonl(tmp_path / "t", n=10, classes=("a", "b", "c"))
    make_detection_jsonl(tmp_path / "v", n=3, classes=("b",), background_images=1)
    job = make_job_yaml(tmp_path, DET, "t/train.jsonl", validation_data="v/train.jsonl")
    train, valid = load_job_data(load_job(job))
    assert valid.labels == train.labels == ["a", "b", "c"]


def test_errors_of_both_inputs_are_reported_together(tmp_path: Path) -> None:
    write_lines(tmp_path / "t.jsonl", ["{bad"])
    write_lines(tmp_path / "v.jsonl", [{"image_url": "x.png", "label": 5.5}])
    job = make_job_yaml(tmp_path, CLS, "t.jsonl", validation_data="v.jsonl")
    with pytest.raises(DataError) as info:
        load_job_data(load_job(job))
    files = {p.file for p in info.value.problems if p.line}
    assert files == {str(tmp_path / "t.jsonl"), str(tmp_path / "v.jsonl")}


def test_missing_data_path_and_data_assets(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data path not found"):
        load_job_data(load_job(make_job_yaml(tmp_path, CLS, "nope.jsonl")))
    with pytest.raises(DataError, match="data assets cannot be read locally"):
        load_job_data(
            load_job(make_job_yaml(tmp_path, CLS, "azureml:fridge-train:1", data_type="mltable"))
        )


def test_check_images_errors_and_drop(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=12)
    os.remove(tmp_path / "images" / "0003.png")
    (tmp_path / "images" / "0005.png").write_text("not a png")
    job = make_job_yaml(tmp_path, CLS, ".", data_type="mltable")
    make_mltable(tmp_path)
    spec = load_job(job)
    assert len(load_job_data(spec)[0]) + len(load_job_data(spec)[1]) == 12
    with pytest.raises(DataError) as info:
        load_job_data(spec, check_images=True)
    assert sorted((p.file, p.line) for p in info.value.problems) == [
        (str(path), 4),
        (str(path), 6),
    ]
    make_mltable(tmp_path, invalid_lines="drop")
    train, valid = load_job_data(spec, check_images=True)
    assert len(train) + len(valid) == 10
    assert sorted(p.line for p in train.dropped + valid.dropped) == [4, 6]


def test_check_images_drop_below_minimum(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path, n=10)
    os.remove(tmp_path / "images" / "0000.png")
    make_mltable(tmp_path, invalid_lines="drop")
    spec = load_job(make_job_yaml(tmp_path, CLS, ".", data_type="mltable"))
    with pytest.raises(DataError, match="usable image"):
        load_job_data(spec, check_images=True)


def test_read_dataset_picks_reader(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=3)
    assert len(read_dataset(path, CLS)) == 3
    assert len(read_dataset(f"file://{path}", CLS)) == 3
    with pytest.raises(DataError, match="no MLTable file"):
        read_dataset(tmp_path, CLS)


def test_importing_the_readers_does_not_import_torch() -> None:
    code = "import sys, automl_nb.data; from automl_nb.data import read_jsonl; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
