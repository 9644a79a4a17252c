"""``automl-vision check``: the doctor on JSONL files and MLTable folders, text or JSON."""

from __future__ import annotations

import json

from automl_nb.cli import main
from automl_nb.data.converters import convert
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_mltable
from tests.conftest import shared_dataset


def test_check_real_detection_jsonl_prints_counts(tmp_path, capsys):
    convert("voc", shared_dataset("odFridgeObjects"), tmp_path / "od.jsonl")
    assert main(["check", str(tmp_path / "od.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "images: 128" in out and "336 in all" in out
    assert "findings: none" in out


def test_check_mltable_folder_as_json(tmp_path, capsys):
    jsonl = make_classification_jsonl(tmp_path / "train", n=12)
    make_mltable(jsonl.parent)
    assert main(["check", str(jsonl.parent), "--json", "--task", "image_classification"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 12 and report["task"] == "image_classification"
    assert report["ok"] is True


def test_check_finds_too_few_images_and_exits_1(tmp_path, capsys):
    convert("masks", shared_dataset("PennFudanPed_sample"), tmp_path / "ped.jsonl")
    assert main(["check", str(tmp_path / "ped.jsonl")]) == 1
    assert "[error] only 8 images" in capsys.readouterr().out


def test_check_small_input_size_recommends_tiling(tmp_path, capsys):
    convert("yolo", shared_dataset("coco128_seg_val"), tmp_path / "seg.jsonl")
    assert (
        main(["check", str(tmp_path / "seg.jsonl"), "--input-size", "200", "--no-files", "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    small = next(f for f in report["findings"] if f["code"] == "small_objects")
    assert small["yaml"].startswith("training_parameters:\n  tile_grid_size: '")
    assert report["image_modes"] == {}  # --no-files: images not opened


def test_check_train_validation_duplicates(tmp_path, capsys):
    root = shared_dataset("fridgeObjects")
    convert("folder", root / "thumbnails_150", tmp_path / "train.jsonl")
    convert("folder", root / "fullres_subset", tmp_path / "val.jsonl")
    args = ["check", str(tmp_path / "train.jsonl"), "--validation", str(tmp_path / "val.jsonl")]
    assert main(args) == 0
    assert "18 validation images duplicate training images" in capsys.readouterr().out


def test_check_missing_path_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.jsonl")]) == 2
    assert "error:" in capsys.readouterr().err
