"""Tests of ``automl-vision validate``: summaries, exit codes and located problems."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from automl_nb.cli import main
from automl_nb.data import DATASTORES_ENV
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_detection_jsonl
from automl_nb.testing.datasets import make_job_yaml
from automl_nb.testing.datasets import make_mltable
from automl_nb.testing.datasets import make_multilabel_jsonl
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines
from tests.conftest import REPO
from tests.conftest import shared_dataset

DET = "image_object_detection"
CLS = "image_classification"


@pytest.fixture()
def detection_job(tmp_path: Path) -> Path:
    make_detection_jsonl(tmp_path / "data" / "train", n=12, background_images=2)
    make_mltable(tmp_path / "data" / "train")
    return make_job_yaml(tmp_path, DET, "data/train", data_type="mltable")


def test_valid_detection_job_prints_summary(detection_job: Path, capsys) -> None:
    assert main(["validate", str(detection_job)]) == 0
    out = capsys.readouterr().out
    assert f"{detection_job}: image_object_detection: OK" in out
    assert "training data:   data/train (MLTable) -> 10 images" in out
    assert "2 background images" in out
    assert "validation data: 0.2 of the training data (default seed) -> 2 images" in out
    assert "classes (2, objects per class):" in out
    assert "images: 12 checked, all readable" in out


def test_validation_file_and_multilabel(tmp_path: Path, capsys) -> None:
    make_multilabel_jsonl(tmp_path / "t", n=12, classes=("a", "b"))
    make_multilabel_jsonl(tmp_path / "v", n=4, classes=("a", "b"), seed=3)
    job = make_job_yaml(
        tmp_path,
        "image_classification_multilabel",
        "t/train.jsonl",
        validation_data="v/train.jsonl",
    )
    assert main(["validate", str(job), "--no-images"]) == 0
    out = capsys.readouterr().out
    assert "validation data: v/train.jsonl (uri_file) -> 4 images" in out
    assert "images: not opened (--no-images)" in out


def test_set_override_changes_the_split(detection_job: Path, capsys) -> None:
    assert main(["validate", str(detection_job), "--set", "validation_data_size=0.5"]) == 0
    assert "0.5 of the training data" in capsys.readouterr().out


def test_invalid_lines_are_listed_with_file_and_line(tmp_path: Path, capsys) -> None:
    path = make_classification_jsonl(tmp_path, n=12)
    with path.open("a") as fh:
        fh.write('{"image_url": "images/0000.png", "label": ["a", "b"]}\n{oops\n')
    job = make_job_yaml(tmp_path, CLS, "train.jsonl")
    assert main(["validate", str(job)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:13: label: expected a class name" in err
    assert f"{path}:14: malformed JSON" in err


def test_dropped_lines_are_counted_with_examples(tmp_path: Path, capsys) -> None:
    path = make_classification_jsonl(tmp_path, n=12)
    with path.open("a") as fh:
        fh.write("{oops\n")
    make_mltable(tmp_path, invalid_lines="drop")
    job = make_job_yaml(tmp_path, CLS, ".", data_type="mltable")
    assert main(["validate", str(job)]) == 0
    out = capsys.readouterr().out
    assert "dropped (invalid_lines: drop): 1 line(s)" in out
    assert f"{path}:13: malformed JSON" in out


def test_broken_images_fail_unless_skipped(tmp_path: Path, capsys) -> None:
    make_classification_jsonl(tmp_path, n=12)
    os.remove(tmp_path / "images" / "0002.png")
    job = make_job_yaml(tmp_path, CLS, "train.jsonl")
    assert main(["validate", str(job)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'train.jsonl'}:3: image_url: image file not found" in err
    assert main(["validate", str(job), "--no-images"]) == 0


def test_config_error_is_reported(tmp_path: Path, capsys) -> None:
    make_classification_jsonl(tmp_path, n=12)
    job = make_job_yaml(
        tmp_path, CLS, "train.jsonl", extra="training_parameters:\n  learning_rat: 0.1\n"
    )
    assert main(["validate", str(job)]) == 1
    err = capsys.readouterr().err
    assert "learning_rat" in err and "learning_rate" in err


def test_too_few_images(tmp_path: Path, capsys) -> None:
    make_classification_jsonl(tmp_path, n=5)
    assert main(["validate", str(make_job_yaml(tmp_path, CLS, "train.jsonl"))]) == 1
    assert "training data has 5 image(s); at least 10" in capsys.readouterr().err


def test_datastore_option_and_environment(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv(DATASTORES_ENV, raising=False)
    for i in range(10):
        write_image(tmp_path / "blob" / "img" / f"{i}.png")
    lines = [
        {
            "image_url": f"azureml://datastores/workspaceblobstore/paths/img/{i}.png",
            "label": "ab"[i % 2],
        }
        for i in range(10)
    ]
    write_lines(tmp_path / "train.jsonl", lines)
    job = make_job_yaml(tmp_path, CLS, "train.jsonl")
    assert main(["validate", str(job)]) == 1
    assert "--datastore NAME=FOLDER" in capsys.readouterr().err
    assert (
        main(["validate", str(job), "--datastore", f"workspaceblobstore={tmp_path / 'blob'}"]) == 0
    )
    monkeypatch.setenv(DATASTORES_ENV, f"workspaceblobstore={tmp_path / 'blob'}")
    assert main(["validate", str(job)]) == 0
    assert main(["validate", str(job), "--datastore", "nonsense"]) == 1
    assert (
        "--datastore: datastore mapping entries must read NAME=FOLDER" in capsys.readouterr().err
    )


def test_real_fridge_classification_job(tmp_path: Path, capsys) -> None:
    root = shared_dataset("fridgeObjects") / "thumbnails_150"
    lines = [
        {"image_url": os.path.relpath(p, tmp_path / "data"), "label": p.parent.name}
        for p in sorted(root.glob("*/*.jpg"))
    ]
    write_lines(tmp_path / "data" / "train_annotations.jsonl", lines)
    make_mltable(tmp_path / "data", "train_annotations.jsonl")
    job = make_job_yaml(tmp_path, CLS, "data", data_type="mltable")
    assert main(["validate", str(job)]) == 0
    out = capsys.readouterr().out
    assert "images: 134 checked, all readable" in out
    assert "classes (4, images per class):" in out


def test_console_entry_point(detection_job: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "automl_nb.cli", "validate", str(detection_job)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    (detection_job.parent / "data" / "train" / "MLTable").write_text("paths: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "automl_nb.cli", "validate", str(detection_job)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=60,
    )
    assert result.returncode == 1
    assert "MLTable:1: paths: 'paths' must be a non-empty list" in result.stderr
