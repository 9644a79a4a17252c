"""The dataset doctor on real data and on hand-made datasets with known problems."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from automl_nb.data import ImageRecord
from automl_nb.data import LabeledImages
from automl_nb.data import ObjectAnnotation
from automl_nb.data import write_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import read_format
from automl_nb.data.doctor import DoctorReport
from automl_nb.data.doctor import diagnose
from automl_nb.data.doctor import resize_scale
from automl_nb.data.doctor import tile_scale
from automl_nb.tasks import Task
from tests.conftest import shared_dataset


def _codes(report: DoctorReport) -> dict[str, str]:
    return {f.code: f.severity for f in report.findings}


def _det(n_images, box_px, *, width=2000, height=1500, label="car", per_image=1):
    records = []
    for i in range(n_images):
        w, h = box_px / width, box_px / height
        objects = tuple(
            ObjectAnnotation(label, 0.1 + 0.01 * k, 0.1, 0.1 + 0.01 * k + w, 0.1 + h)
            for k in range(per_image)
        )
        records.append(ImageRecord(f"{i}.jpg", f"/nowhere/{i}.jpg", objects, width, height, "jpg"))
    return LabeledImages(Task.OBJECT_DETECTION, records)


def _cls(counts: dict[str, int], task=Task.CLASSIFICATION):
    records = []
    for name, n in counts.items():
        for i in range(n):
            label = name if task is Task.CLASSIFICATION else (name,)
            records.append(
                ImageRecord(f"{name}{i}.jpg", f"/nowhere/{name}{i}.jpg", label, 300, 300)
            )
    return LabeledImages(task, records)


def test_real_odfridge_report(tmp_path):
    convert("voc", shared_dataset("odFridgeObjects"), tmp_path / "od.jsonl")
    report = diagnose(tmp_path / "od.jsonl")  # task guessed from the labels
    assert report.task is Task.OBJECT_DETECTION
    assert report.images == 128
    assert report.class_counts == {"can": 83, "carton": 86, "milk_bottle": 85, "water_bottle": 82}
    assert report.labels_per_image == {1: 20, 2: 40, 3: 36, 4: 32}
    assert report.image_modes == {"RGB": 128}
    assert report.ok and not report.broken and not report.exact_duplicates
    # 499 x 666 resized to a 600 px short side: every fridge object is large
    assert sum(report.object_sizes.values()) == 336
    assert report.object_sizes["<8"] == report.object_sizes["16-32"] == 0
    assert report.seconds < 10
    assert json.loads(json.dumps(report.to_dict()))["images"] == 128
    html = report._repr_html_()
    assert "<table>" in html and "milk_bottle" in html
    assert "objects per image (count: images): 1: 20, 2: 40, 3: 36, 4: 32" in str(report)


def test_real_thumbnails_duplicate_the_full_resolution_subset():
    train, _ = read_format("folder", shared_dataset("fridgeObjects") / "thumbnails_150")
    val, _ = read_format("folder", shared_dataset("fridgeObjects") / "fullres_subset")
    report = diagnose(train, validation=val)
    assert len(report.cross_split_duplicates) == 18
    assert {
        Path(a).relative_to(Path(a).parents[1]) for a, _, _ in report.cross_split_duplicates
    } == {Path(b).relative_to(Path(b).parents[1]) for _, b, _ in report.cross_split_duplicates}
    assert _codes(report)["train_validation_duplicates"] == "warning"
    assert not report.near_duplicates  # distinct fridge shots are not flagged


def test_real_coco128_grayscale_and_background():
    data, _ = read_format("yolo", shared_dataset("coco128_seg_val"))
    report = diagnose(data)
    assert report.image_modes == {"RGB": 127, "L": 1}
    assert report.background_images == 28
    assert {"image_modes", "background_images", "few_examples", "class_imbalance"} <= set(
        _codes(report)
    )


def test_small_objects_recommend_the_smallest_grid_that_helps():
    report = diagnose(_det(12, 50), check_files=False)  # 50 px -> 20 px at min_size 600
    assert report.object_sizes["16-32"] == 12
    finding = next(f for f in report.findings if f.code == "small_objects")
    assert finding.yaml == "training_parameters:\n  tile_grid_size: '3x2'"
    assert report.recommended_yaml == finding.yaml
    tiny = diagnose(_det(12, 20), check_files=False)
    assert "'5x3'" in next(f for f in tiny.findings if f.code == "small_objects").yaml
    assert "small_objects" not in _codes(diagnose(_det(12, 200), check_files=False))


def test_input_size_changes_the_object_sizes():
    report = diagnose(_det(12, 50), check_files=False, input_size=1500)  # no downscale
    assert report.object_sizes["32-64"] == 12 and "small_objects" not in _codes(report)


def test_resize_and_tile_scales():
    assert resize_scale(2000, 1500, 600, 1333) == pytest.approx(0.4)
    assert resize_scale(4000, 500, 600, 1333) == pytest.approx(1333 / 4000)
    assert tile_scale(2000, 1500, (3, 2), 600, 1333) == pytest.approx(0.75 / 0.4)


def test_many_objects_per_image_raise_the_detection_limit():
    report = diagnose(_det(12, 100, per_image=150), check_files=False)
    finding = next(f for f in report.findings if f.code == "many_objects")
    assert finding.yaml == "training_parameters:\n  box_detections_per_image: 181"


@pytest.mark.parametrize(("counts", "weight"), [({"a": 30, "b": 5}, 2), ({"a": 20, "b": 8}, 1)])
def test_imbalance_recommends_weighted_loss(counts, weight):
    report = diagnose(_cls(counts), check_files=False)
    finding = next(f for f in report.findings if f.code == "class_imbalance")
    assert finding.yaml == f"training_parameters:\n  weighted_loss: {weight}"
    assert report.class_counts == counts


def test_balanced_classes_need_no_weights():
    assert "class_imbalance" not in _codes(diagnose(_cls({"a": 20, "b": 18}), check_files=False))


def test_too_few_images_and_rare_classes():
    report = diagnose(_cls({"a": 6, "b": 2}), check_files=False)
    assert _codes(report)["too_few_images"] == "error"
    assert _codes(report)["few_examples"] == "warning"
    assert not report.ok


def test_multilabel_cardinality_and_label_on_every_image():
    records = [
        ImageRecord(f"{i}.jpg", f"/x/{i}.jpg", ("fridge", "can") if i % 2 else ("fridge",))
        for i in range(12)
    ]
    report = diagnose(LabeledImages(Task.CLASSIFICATION_MULTILABEL, records), check_files=False)
    assert report.labels_per_image == {1: 6, 2: 6}
    assert report.images_per_class == {"can": 6, "fridge": 12}
    assert _codes(report)["label_on_every_image"] == "warning"


def test_labels_only_in_validation():
    report = diagnose(_cls({"a": 10, "b": 10}), validation=_cls({"c": 2}), check_files=False)
    assert _codes(report)["labels_only_in_validation"] == "error"


def _photo(path: Path, seed: int, mode="RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    image.convert(mode).save(path)
    return path


def test_broken_missing_duplicate_and_palette_files(tmp_path):
    paths = [_photo(tmp_path / f"{i}.jpg", i) for i in range(10)]
    shutil.copy(paths[0], tmp_path / "copy.jpg")  # exact duplicate, other label
    Image.open(paths[1]).resize((128, 96)).save(tmp_path / "bigger.png")  # near duplicate
    _photo(tmp_path / "pal.png", 50, mode="P")
    good = (tmp_path / "2.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(good[: len(good) // 2])  # truncated JPEG
    labels = {p.name: "a" if i % 2 else "b" for i, p in enumerate(paths)}
    labels.update(
        {"copy.jpg": "a", "bigger.png": "b", "pal.png": "a", "cut.jpg": "a", "gone.jpg": "b"}
    )
    records = [ImageRecord(n, str(tmp_path / n), lab, 64, 48) for n, lab in labels.items()]
    records[3] = ImageRecord("3.jpg", str(tmp_path / "3.jpg"), labels["3.jpg"], 100, 100)
    write_jsonl(records, tmp_path / "data.jsonl")
    report = diagnose(tmp_path / "data.jsonl", task="image_classification")
    codes = _codes(report)
    assert sorted(Path(p).name for p, _ in report.broken) == ["cut.jpg", "gone.jpg"]
    assert dict(report.broken)[str(tmp_path / "gone.jpg")] == "missing"
    assert codes["broken_files"] == "error" and not report.ok
    assert [sorted(Path(p).name for p in g) for g in report.exact_duplicates] == [
        ["0.jpg", "copy.jpg"]
    ]
    assert [sorted(Path(p).name for p in g) for g in report.near_duplicates] == [
        ["1.jpg", "bigger.png"]
    ]
    assert codes["conflicting_duplicates"] == "warning"  # 0.jpg is "b", its copy "a"
    assert codes["image_details_mismatch"] == "warning"  # 3.jpg claims 100 x 100
    assert report.image_modes["P"] == 1 and codes["image_modes"] == "info"
    text = str(report)
    assert "[error]" in text and "broken files: 2" in text
    assert "cut.jpg" in json.dumps(report.to_dict())


def test_without_file_checks_nothing_is_opened(tmp_path):
    report = diagnose(_cls({"a": 10, "b": 10}), check_files=False)
    assert report.broken == [] and report.image_modes == {} and report.ok
    assert report.image_sizes["width"] == {"min": 300.0, "median": 300.0, "max": 300.0}


def test_invalid_jsonl_lines_become_an_error_finding(tmp_path):
    paths = [_photo(tmp_path / f"{i}.jpg", i) for i in range(11)]
    lines = [
        json.dumps({"image_url": p.name, "label": "a" if i % 2 else "b"})
        for i, p in enumerate(paths)
    ]
    lines.insert(3, '{"image_url": "x.jpg", "label": ')  # malformed JSON
    lines.insert(5, json.dumps({"image_url": "y.jpg", "label": ["a"]}))  # wrong label shape
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n")
    report = diagnose(tmp_path / "d.jsonl", task="image_classification")
    assert report.images == 11
    finding = next(f for f in report.findings if f.code == "invalid_lines")
    assert finding.severity == "error" and "2 lines" in finding.message
    assert any("d.jsonl:4" in item for item in finding.items)
