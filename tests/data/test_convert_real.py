"""Converters on the real datasets in ../shared/data: exact counts, read-back, round trips."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from automl_nb.data import read_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import export
from automl_nb.data.converters import read_format
from automl_nb.tasks import Task
from tests.conftest import shared_dataset

FRIDGE_BOXES = {"can": 83, "carton": 86, "milk_bottle": 85, "water_bottle": 82}


def _read_back(path: Path, task: Task):
    data = read_jsonl(path, task)
    return data, sum(data.label_counts().values())


def test_voc_odfridge_gives_128_images_and_336_boxes(tmp_path):
    src = shared_dataset("odFridgeObjects")
    report = convert("voc", src, tmp_path / "od.jsonl")
    assert (report.images, report.objects, report.background_images) == (128, 336, 0)
    assert report.per_class == FRIDGE_BOXES
    assert report.task is Task.OBJECT_DETECTION
    assert not report.skipped
    data, boxes = _read_back(tmp_path / "od.jsonl", Task.OBJECT_DETECTION)
    assert (len(data), boxes) == (128, 336)
    assert dict(data.label_counts()) == FRIDGE_BOXES
    # 1.xml: carton (100, 173) - (233, 521) in a 499 x 666 image, normalised as Azure does
    first = json.loads((tmp_path / "od.jsonl").read_text().splitlines()[0])
    assert first["image_details"] == {"format": "jpg", "width": "499px", "height": "666px"}
    assert first["label"][0]["label"] == "carton"
    assert first["label"][0]["topX"] == pytest.approx(100 / 499)
    assert first["label"][0]["bottomY"] == pytest.approx(521 / 666)


def test_folder_fridge_thumbnails_give_134_multiclass_images(tmp_path):
    src = shared_dataset("fridgeObjects") / "thumbnails_150"
    report = convert("folder", src, tmp_path / "cls.jsonl")
    assert report.images == 134
    assert report.per_class == {"can": 32, "carton": 32, "milk_bottle": 37, "water_bottle": 33}
    data, _ = _read_back(tmp_path / "cls.jsonl", Task.CLASSIFICATION)
    assert len(data) == 134 and data.labels == ["can", "carton", "milk_bottle", "water_bottle"]


def test_csv_multilabel_gives_label_cardinality_20_40_36_32(tmp_path):
    src = shared_dataset("odFridgeObjects") / "labels_multilabel_derived.csv"
    report = convert("csv", src, tmp_path / "ml.jsonl")
    assert report.images == 128 and report.task is Task.CLASSIFICATION_MULTILABEL
    data, pairs = _read_back(tmp_path / "ml.jsonl", Task.CLASSIFICATION_MULTILABEL)
    assert len(data) == 128 and pairs == 336
    assert Counter(len(r.label) for r in data) == {1: 20, 2: 40, 3: 36, 4: 32}


def test_voc_boxes_as_multilabel_match_the_derived_csv(tmp_path):
    src = shared_dataset("odFridgeObjects")
    from_voc, _ = read_format("voc", src, task="image_classification_multilabel")
    from_csv, _ = read_format("csv", src / "labels_multilabel_derived.csv")
    by_path = {r.path: set(r.label) for r in from_csv}
    assert {r.path: set(r.label) for r in from_voc} == by_path


def test_yolo_seg_coco128_keeps_gapped_ids_background_and_grayscale(tmp_path):
    src = shared_dataset("coco128_seg_val")
    report = convert("yolo", src, tmp_path / "seg.jsonl")
    assert (report.images, report.background_images, report.objects) == (128, 28, 712)
    assert report.task is Task.INSTANCE_SEGMENTATION
    assert not report.skipped
    # ids are COCO category ids with gaps: 1 person, 44 bottle, 90 toothbrush
    assert report.per_class["person"] == 287
    assert "bottle" in report.per_class and "0" not in report.per_class
    data, objects = _read_back(tmp_path / "seg.jsonl", Task.INSTANCE_SEGMENTATION)
    assert (len(data), objects, sum(1 for r in data if not r.label)) == (128, 712, 28)
    gray = [r for r in data if r.path.endswith("000000007888.jpg")]
    assert gray and (gray[0].width, gray[0].height) == (638, 640)


def test_yolo_seg_as_detection_gives_boxes_only(tmp_path):
    src = shared_dataset("coco128_seg_val")
    report = convert("yolo", src, tmp_path / "det.jsonl", task="image_object_detection")
    assert report.objects == 712 and report.notes["polygons reduced to boxes"] == 712
    data = read_jsonl(tmp_path / "det.jsonl", Task.OBJECT_DETECTION)
    assert all(not obj.polygon for r in data for obj in r.label)


def test_masks_pennfudan_give_8_images_and_25_polygons(tmp_path):
    src = shared_dataset("PennFudanPed_sample")
    report = convert("masks", src, tmp_path / "ped.jsonl")
    assert (report.images, report.objects) == (8, 25)
    assert report.per_class == {"PASpersonStanding": 1, "PASpersonWalking": 24}
    data, objects = _read_back(tmp_path / "ped.jsonl", Task.INSTANCE_SEGMENTATION)
    assert (len(data), objects) == (8, 25)
    assert all(len(obj.polygon[0]) >= 6 for r in data for obj in r.label)


def test_masks_boxes_agree_with_the_pascal_annotation_boxes():
    from automl_nb.data.converters import read_pascal_text

    src = shared_dataset("PennFudanPed_sample")
    data, _ = read_format("masks", src, label="person")
    assert data.labels == ["person"]
    for record in data:
        stem = Path(record.path).stem
        annotated = [box for _, box in read_pascal_text(src / "Annotation" / f"{stem}.txt")]
        assert len(annotated) == len(record.label)
        for obj, (x0, y0, x1, y1) in zip(record.label, annotated):
            # PASCAL text boxes are 1-based and inclusive; allow a few pixels of mask slack
            assert obj.top_x * record.width == pytest.approx(x0 - 1, abs=4)
            assert obj.top_y * record.height == pytest.approx(y0 - 1, abs=4)
            assert obj.bottom_x * record.width == pytest.approx(x1, abs=4)
            assert obj.bottom_y * record.height == pytest.approx(y1, abs=4)


def _boxes(data):
    return {
        Path(r.path).name: sorted(
            (
                o.label,
                o.top_x * r.width,
                o.top_y * r.height,
                o.bottom_x * r.width,
                o.bottom_y * r.height,
            )
            for o in r.label
        )
        for r in data
    }


def _assert_same_boxes(a, b, tolerance=1.0):
    boxes_a, boxes_b = _boxes(a), _boxes(b)
    assert boxes_a.keys() == boxes_b.keys()
    for name, objects in boxes_a.items():
        assert len(objects) == len(boxes_b[name]), name
        for oa, ob in zip(objects, boxes_b[name]):
            assert oa[0] == ob[0]
            assert oa[1:] == pytest.approx(ob[1:], abs=tolerance)


@pytest.mark.parametrize("fmt", ["coco", "voc", "yolo"])
def test_jsonl_round_trip_through_each_format_keeps_boxes(tmp_path, fmt):
    src = shared_dataset("odFridgeObjects")
    convert("voc", src, tmp_path / "od.jsonl")
    original = read_jsonl(tmp_path / "od.jsonl", Task.OBJECT_DETECTION)
    out = tmp_path / ("coco.json" if fmt == "coco" else fmt)
    written = export(tmp_path / "od.jsonl", fmt, out)
    report = convert(fmt, written, tmp_path / "back.jsonl")
    assert (report.images, report.objects) == (128, 336)
    back = read_jsonl(tmp_path / "back.jsonl", Task.OBJECT_DETECTION)
    assert back.labels == original.labels
    _assert_same_boxes(original, back)


def test_yolo_seg_round_trip_through_coco_keeps_polygons(tmp_path):
    data, _ = read_format("yolo", shared_dataset("coco128_seg_val"))
    written = export(data, "coco", tmp_path / "seg.json")
    back, report = read_format("coco", written)
    assert (report.images, report.objects, report.background_images) == (128, 712, 28)
    assert back.task is Task.INSTANCE_SEGMENTATION
    _assert_same_boxes(data, back)
    first = next(r for r in data if r.label)
    again = next(r for r in back if r.path == first.path)
    assert again.label[0].polygon[0] == pytest.approx(first.label[0].polygon[0], abs=1e-4)
