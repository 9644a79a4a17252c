"""``automl-vision convert``: real datasets to JSONL that ``validate`` accepts, and exports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from automl_nb.cli import main
from automl_nb.data import read_dataset
from automl_nb.testing.datasets import make_job_yaml
from automl_nb.testing.datasets import write_image
from tests.conftest import REPO
from tests.conftest import shared_dataset


@pytest.mark.parametrize(
    ("fmt", "name", "task", "images", "objects"),
    [
        ("voc", "odFridgeObjects", "image_object_detection", 128, 336),
        ("folder", "fridgeObjects/thumbnails_150", "image_classification", 134, 134),
        (
            "csv",
            "odFridgeObjects/labels_multilabel_derived.csv",
            "image_classification_multilabel",
            128,
            336,
        ),
        ("yolo", "coco128_seg_val", "image_instance_segmentation", 128, 712),
    ],
)
def test_convert_real_data_then_validate_the_job(
    tmp_path, capsys, fmt, name, task, images, objects
):
    src = shared_dataset(name)
    out = tmp_path / "data" / "train.jsonl"
    assert main(["convert", fmt, str(src), "-o", str(out), "--mltable"]) == 0
    printed = capsys.readouterr().out
    assert f"images: {images}" in printed and f"{objects} in all" in printed
    data = read_dataset(out.parent, task)
    assert len(data) == images and sum(data.label_counts().values()) == objects
    job = make_job_yaml(tmp_path, task, "data", data_type="mltable")
    assert main(["validate", str(job)]) == 0, capsys.readouterr()


def test_convert_masks_with_label_and_json_output(tmp_path, capsys):
    src = shared_dataset("PennFudanPed_sample")
    out = tmp_path / "ped.jsonl"
    assert main(["convert", "masks", str(src), "-o", str(out), "--label", "person", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["images"], report["objects"], report["per_class"]) == (8, 25, {"person": 25})


def test_convert_yolo_with_names_images_and_task(tmp_path, capsys):
    write_image(tmp_path / "pics" / "x.jpg", size=(40, 30))
    (tmp_path / "lbl").mkdir()
    (tmp_path / "lbl" / "x.txt").write_text("1 0.1 0.1 0.5 0.1 0.5 0.5\n")
    (tmp_path / "names.txt").write_text("a\nb\n")
    args = ["convert", "yolo", str(tmp_path / "lbl"), "-o", str(tmp_path / "o.jsonl")]
    args += ["--images", str(tmp_path / "pics"), "--names", str(tmp_path / "names.txt")]
    # SRC is the label folder, the images are elsewhere: labels are found by the image's stem
    assert main([*args, "--task", "image_object_detection"]) == 0
    assert "image_object_detection" in capsys.readouterr().out
    (line,) = (tmp_path / "o.jsonl").read_text().splitlines()
    (obj,) = json.loads(line)["label"]
    assert obj["label"] == "b" and "polygon" not in obj
    assert (obj["topX"], obj["bottomY"]) == (0.1, 0.5)


def test_export_jsonl_back_to_coco(tmp_path, capsys):
    src = shared_dataset("odFridgeObjects")
    main(["convert", "voc", str(src), "-o", str(tmp_path / "od.jsonl")])
    capsys.readouterr()
    assert (
        main(["convert", "coco", str(tmp_path / "od.jsonl"), "-o", str(tmp_path / "od.json")]) == 0
    )
    doc = json.loads((tmp_path / "od.json").read_text())
    assert (len(doc["images"]), len(doc["annotations"])) == (128, 336)
    assert [c["name"] for c in doc["categories"]] == [
        "can",
        "carton",
        "milk_bottle",
        "water_bottle",
    ]


def test_unknown_format_and_bad_source_exit_2(tmp_path, capsys):
    assert main(["convert", "vocc", str(tmp_path), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "did you mean 'voc'?" in capsys.readouterr().err
    assert main(["convert", "voc", str(tmp_path / "nope"), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_console_entry_point_runs_convert(tmp_path):
    write_image(tmp_path / "src" / "cat" / "1.jpg", size=20)
    out = tmp_path / "c.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "automl_nb.cli",
            "convert",
            "folder",
            str(tmp_path / "src"),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text())["label"] == "cat"
