"""COCO JSON: boxes, polygons, compressed and uncompressed RLE, gaps, crowd and odd files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from automl_nb.data import read_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import export
from automl_nb.data.converters import read_format
from automl_nb.errors import DataError
from automl_nb.tasks import Task

W, H = 64, 48


def _image(path, mode="RGB", seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode == "L":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("P", palette=Image.ADAPTIVE, colors=16)
    image.save(path)
    return path


def _rect_mask(x0, y0, x1, y1):
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


def _uncompressed_rle(mask):
    flat = np.asarray(mask, dtype=np.uint8).flatten(order="F")  # COCO runs are column-major
    counts, current, run = [], 0, 0
    for value in flat:
        if value != current:
            counts.append(run)
            current, run = value, 0
        run += 1
    counts.append(run)
    return {"size": [H, W], "counts": counts}


def _compressed_rle(mask):
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


@pytest.fixture()
def coco_dir(tmp_path):
    root = tmp_path / "coco"
    _image(root / "images" / "train" / "a.jpg", seed=1)
    _image(root / "images" / "b.png", mode="L", seed=2)
    _image(root / "images" / "C.PNG", mode="P", seed=3)
    doc = {
        "images": [
            {"id": 10, "file_name": "train/a.jpg", "width": W, "height": H},
            {"id": 11, "file_name": "b.png"},  # no size: read from the file
            {"id": 12, "file_name": "C.PNG", "width": W, "height": H},  # background
            {"id": 13, "file_name": "gone.jpg", "width": W, "height": H},
        ],
        "categories": [
            {"id": 1, "name": "cat"},
            {"id": 5, "name": "dog"},
            {"id": 90, "name": "person"},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 10,
                "category_id": 1,
                "bbox": [4.5, 6.25, 20.0, 10.0],
                "iscrowd": 0,
            },
            {
                "id": 2,
                "image_id": 10,
                "category_id": 5,
                "bbox": [30, 20, 10, 10],
                "segmentation": [[30, 20, 40, 20, 40, 30, 30, 30]],
            },
            {
                "id": 3,
                "image_id": 11,
                "category_id": 90,
                "bbox": [20, 10, 20, 10],
                "iscrowd": 1,
                "segmentation": _compressed_rle(_rect_mask(20, 10, 40, 20)),
            },
            {
                "id": 4,
                "image_id": 11,
                "category_id": 5,
                "segmentation": _uncompressed_rle(_rect_mask(5, 30, 15, 45)),
            },
            {"id": 5, "image_id": 11, "category_id": 7, "bbox": [1, 1, 5, 5]},
            {"id": 6, "image_id": 99, "category_id": 1, "bbox": [1, 1, 5, 5]},
        ],
    }
    text = json.dumps(doc, indent=1).replace("\n", "\r\n")
    (root / "annotations.json").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return root


def test_coco_reads_boxes_polygons_rle_crowd_and_background(coco_dir, tmp_path):
    report = convert("coco", coco_dir / "annotations.json", tmp_path / "out.jsonl")
    assert report.task is Task.INSTANCE_SEGMENTATION
    assert (report.images, report.objects, report.background_images) == (3, 4, 1)
    assert report.per_class == {"cat": 1, "dog": 2, "person": 1}
    assert report.skipped == {
        "image file not found": 1,
        "annotation with an unknown category_id": 1,
        "annotation for an unknown image id": 1,
    }
    data = read_jsonl(tmp_path / "out.jsonl", Task.INSTANCE_SEGMENTATION)
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in data}
    assert set(by_name) == {"a.jpg", "b.png", "C.PNG"}
    cat = next(o for o in by_name["a.jpg"].label if o.label == "cat")
    assert cat.box == pytest.approx((4.5 / W, 6.25 / H, 24.5 / W, 16.25 / H))
    person = next(o for o in by_name["b.png"].label if o.label == "person")
    assert person.is_crowd
    # the RLE rectangle is traced along pixel edges: x 20..40, y 10..20
    xs, ys = person.polygon[0][0::2], person.polygon[0][1::2]
    assert (min(xs) * W, max(xs) * W, min(ys) * H, max(ys) * H) == pytest.approx(
        (20, 40, 10, 20), abs=0.6
    )
    dog_rle = next(o for o in by_name["b.png"].label if o.label == "dog")
    assert dog_rle.box == pytest.approx((5 / W, 30 / H, 15 / W, 45 / H), abs=0.6 / W)
    assert by_name["C.PNG"].label == ()
    assert (by_name["b.png"].width, by_name["b.png"].height) == (W, H)


def test_coco_box_only_objects_get_rectangles_for_segmentation(coco_dir):
    data, report = read_format("coco", coco_dir)  # the folder holds one JSON file
    cat = next(o for r in data for o in r.label if o.label == "cat")
    assert cat.polygon and len(cat.polygon[0]) == 8
    assert report.notes["box-only objects given their rectangle as polygon"] == 1


def test_coco_as_detection_drops_polygons(coco_dir):
    data, report = read_format(
        "coco", coco_dir / "annotations.json", task="image_object_detection"
    )
    assert data.task is Task.OBJECT_DETECTION
    assert all(not o.polygon for r in data for o in r.label)
    assert report.notes["polygons reduced to boxes"] == 3


def test_coco_without_segmentation_is_detection(tmp_path):
    _image(tmp_path / "x.jpg")
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": W, "height": H}],
        "categories": [{"id": 3, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [1.5, 2.5, 10.25, 8.75]}
        ],
    }
    (tmp_path / "instances_val.json").write_text(json.dumps(doc))
    data, report = read_format("coco", tmp_path / "instances_val.json")
    assert data.task is Task.OBJECT_DETECTION and report.objects == 1


def test_coco_images_option_and_basename_fallback(tmp_path):
    _image(tmp_path / "pics" / "x.jpg")
    doc = {
        "images": [{"id": 1, "file_name": "some/other/base/x.jpg", "width": W, "height": H}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]}],
    }
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "c.json").write_text(json.dumps(doc))
    data, _ = read_format("coco", tmp_path / "ann" / "c.json", images=tmp_path / "pics")
    assert len(data) == 1 and data[0].path.endswith("x.jpg")


def test_coco_round_trip_keeps_boxes_polygons_and_crowd(coco_dir, tmp_path):
    data, _ = read_format("coco", coco_dir / "annotations.json")
    written = export(data, "coco", tmp_path / "export" / "c.json")
    back, report = read_format("coco", written)
    assert report.images == 3 and not report.skipped
    for a, b in zip(data, back):
        assert a.path == b.path
        for oa, ob in zip(a.label, b.label):
            assert (oa.label, oa.is_crowd) == (ob.label, ob.is_crowd)
            assert oa.box == pytest.approx(ob.box, abs=1 / W)
            assert oa.polygon[0] == pytest.approx(ob.polygon[0], abs=1e-3)


def test_coco_bad_files_raise_located_errors(tmp_path):
    (tmp_path / "bad.json").write_text('{"images": [1, 2,,]}')
    with pytest.raises(DataError, match=r"bad.json:1: not valid JSON"):
        read_format("coco", tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(DataError, match="not a COCO file"):
        read_format("coco", tmp_path / "list.json")
    with pytest.raises(DataError, match="expected one COCO .json file"):
        read_format("coco", tmp_path)


def test_coco_export_refuses_classification(tmp_path):
    from automl_nb.data import ImageRecord
    from automl_nb.data import LabeledImages

    data = LabeledImages(
        Task.CLASSIFICATION, [ImageRecord("a.jpg", str(tmp_path / "a.jpg"), "cat")]
    )
    with pytest.raises(DataError, match="needs detection data"):
        export(data, "coco", tmp_path / "x.json")


def test_coco_ids_written_as_text_or_numbers_match(tmp_path):
    _image(tmp_path / "x.jpg")
    doc = {
        "images": [{"id": "7", "file_name": "x.jpg", "width": W, "height": H}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [{"id": 1, "image_id": 7, "category_id": "1", "bbox": [1, 2, 10, 8]}],
    }
    (tmp_path / "_annotations.coco.json").write_text(json.dumps(doc))
    data, report = read_format("coco", tmp_path)  # Roboflow's file name, found in the folder
    assert report.per_class == {"car": 1} and not report.skipped


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iscrowd": 2}, r"annotations\[0\].*iscrowd must be 0 or 1"),
        ({"id": 1, "second_id": 1}, r"annotations\[1\]\.id: annotation id 1 is also the id"),
    ],
)
def test_coco_bad_annotation_flags_and_repeated_ids_are_located(tmp_path, change, message):
    _image(tmp_path / "x.jpg")
    first = {"id": change.get("id", 1), "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]}
    if "iscrowd" in change:
        first["iscrowd"] = change["iscrowd"]
    annotations = [first]
    if "second_id" in change:
        annotations.append({**first, "id": change["second_id"], "bbox": [3, 3, 5, 5]})
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": W, "height": H}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": annotations,
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=message):
        read_format("coco", tmp_path / "a.json")


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        ([{"id": 1}], r"categories\[0\]\.name: a category needs a non-empty name"),
        ([{"id": 1, "name": " "}], r"categories\[0\]\.name"),
        (
            [{"id": 1, "name": "car"}, {"id": 2, "name": "car"}],
            r"categories\[1\]\.name: category name 'car' is also the name of categories\[0\]",
        ),
    ],
)
def test_coco_categories_need_distinct_names(tmp_path, categories, message):
    _image(tmp_path / "x.jpg")
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": W, "height": H}],
        "categories": categories,
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]}],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=message):
        read_format("coco", tmp_path / "a.json")


def test_coco_zero_or_mismatched_declared_sizes_are_not_silent(tmp_path):
    _image(tmp_path / "x.jpg")
    ann = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 10, 8]}
    doc = {
        "images": [{"id": 1, "file_name": "x.jpg", "width": 0, "height": H}],
        "categories": [{"id": 1, "name": "car"}],
        "annotations": [ann],
    }
    (tmp_path / "a.json").write_text(json.dumps(doc))
    with pytest.raises(DataError, match=r"images\[0\]: width and height must be positive"):
        read_format("coco", tmp_path / "a.json")
    doc["images"][0]["width"] = 2 * W
    (tmp_path / "a.json").write_text(json.dumps(doc))
    _, report = read_format("coco", tmp_path / "a.json")
    assert any("declared width/height differ" in note for note in report.notes)
    del doc["categories"]
    (tmp_path / "a.json").write_text(json.dumps(doc))
    _, report = read_format("coco", tmp_path / "a.json")
    assert any("category ids are the class names" in note for note in report.notes)
