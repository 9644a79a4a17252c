"""YOLO / YOLO-seg text: names files, gapped ids, per-line kinds, orphans, odd text, export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from automl_nb.data import read_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import export
from automl_nb.data.converters import read_format
from automl_nb.data.converters import read_names
from automl_nb.errors import DataError
from automl_nb.tasks import Task

W, H = 50, 40


def _image(path, mode="RGB", seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (H, W, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path)


@pytest.fixture()
def yolo_dir(tmp_path):
    root = tmp_path / "yolo"
    images, labels = root / "images", root / "labels"
    _image(images / "a.jpg", seed=1)
    _image(images / "B.JPG", mode="L", seed=2)
    _image(images / "c.png", mode="P", seed=3)  # no label file: background
    _image(images / "d.jpg", seed=4)  # empty label file: background
    labels.mkdir()
    # a box line and a polygon line in one file; trailing spaces; Windows line endings
    (labels / "a.txt").write_bytes(
        b"3 0.5 0.5 0.4 0.5   \r\n17 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\r\n\r\n"
    )
    (labels / "B.txt").write_text(
        "\ufeff3 0.25 0.25 0.2 0.2\n99 0.5 0.5 0.1 0.1\nx y z\n3 0.1 0.1\n"
    )
    (labels / "d.txt").write_text("")
    (labels / "orphan.txt").write_text("3 0.5 0.5 0.1 0.1\n")
    (root / "data.yaml").write_text(
        "path: .\ntrain: images\nval: images\nnames:\n  3: car\n  17: cat\n"
    )
    return root


def test_yolo_reads_mixed_lines_gapped_ids_background_and_orphans(yolo_dir, tmp_path):
    report = convert("yolo", yolo_dir, tmp_path / "out.jsonl")
    assert report.task is Task.INSTANCE_SEGMENTATION
    assert (report.images, report.background_images) == (4, 2)
    assert report.per_class == {"car": 2, "cat": 1}
    assert report.skipped == {
        "label file without image": 1,
        "class id not in the names file": 1,
        "malformed label line": 1,
        "malformed or empty box/polygon": 1,
    }
    assert report.notes["box-only objects given their rectangle as polygon"] == 2
    data = read_jsonl(tmp_path / "out.jsonl", Task.INSTANCE_SEGMENTATION)
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in data}
    car, cat = by_name["a.jpg"].label
    assert car.box == pytest.approx((0.3, 0.25, 0.7, 0.75))
    assert cat.box == pytest.approx((0.1, 0.1, 0.3, 0.4))
    assert cat.polygon == ((0.1, 0.1, 0.3, 0.1, 0.3, 0.4, 0.1, 0.4),)
    assert (by_name["B.JPG"].width, by_name["B.JPG"].height) == (W, H)
    assert by_name["c.png"].label == () and by_name["d.jpg"].label == ()


def test_yolo_detection_task_turns_polygons_into_boxes(yolo_dir):
    data, report = read_format("yolo", yolo_dir, task="image_object_detection")
    assert data.task is Task.OBJECT_DETECTION
    assert report.notes["polygons reduced to boxes"] == 1
    assert all(not o.polygon for r in data for o in r.label)


def test_yolo_darknet_layout_with_obj_names(tmp_path):
    _image(tmp_path / "obj_train_data" / "x.jpg")
    (tmp_path / "obj_train_data" / "x.txt").write_text("1 0.5 0.5 0.2 0.2\n0 0.2 0.2 0.1 0.1\n")
    (tmp_path / "obj.names").write_text("person\ncar\n")
    (tmp_path / "train.txt").write_text("obj_train_data/x.jpg\n")  # an image list, not labels
    data, report = read_format("yolo", tmp_path)
    assert report.task is Task.OBJECT_DETECTION
    assert sorted(o.label for o in data[0].label) == ["car", "person"]
    assert not report.skipped


def test_yolo_names_option_and_yaml_list(tmp_path):
    _image(tmp_path / "images" / "x.jpg")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "x.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    (tmp_path / "meta.yaml").write_text("names: [apple, pear]\n")
    data, _ = read_format("yolo", tmp_path, names=tmp_path / "meta.yaml")
    assert data[0].label[0].label == "pear"


def test_yolo_without_names_uses_ids(tmp_path):
    _image(tmp_path / "images" / "x.jpg")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "x.txt").write_text("7 0.5 0.5 0.2 0.2\n")
    data, report = read_format("yolo", tmp_path)
    assert data.labels == ["7"]
    assert report.notes["no class-names file found: class ids used as class names"] == 1


def test_read_names_formats(tmp_path):
    (tmp_path / "classes.txt").write_text("\ufeffa\r\nb \r\n\r\n")
    assert read_names(tmp_path / "classes.txt") == {0: "a", 1: "b"}
    (tmp_path / "d.yaml").write_text("names:\n  '0': x\n  5: y\n")
    assert read_names(tmp_path / "d.yaml") == {0: "x", 5: "y"}
    (tmp_path / "bad.yaml").write_text("nc: 2\n")
    with pytest.raises(DataError, match="names"):
        read_names(tmp_path / "bad.yaml")


def test_yolo_without_images_is_an_error(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(DataError, match="no images found"):
        read_format("yolo", tmp_path)


@pytest.mark.parametrize("task", ["image_object_detection", "image_instance_segmentation"])
def test_yolo_round_trip(yolo_dir, tmp_path, task):
    data, _ = read_format("yolo", yolo_dir, task=task)
    out = export(data, "yolo", tmp_path / "exported")
    assert (out / "classes.txt").read_text() == "car\ncat\n"
    back, report = read_format("yolo", out, task=task)
    assert report.images == 4 and not report.skipped
    assert back.labels == data.labels
    for a, b in zip(sorted(data, key=lambda r: r.path), sorted(back, key=lambda r: r.path)):
        assert [o.label for o in a.label] == [o.label for o in b.label]
        for oa, ob in zip(a.label, b.label):
            assert oa.box == pytest.approx(ob.box, abs=1e-5)
            if task == "image_instance_segmentation":
                assert oa.polygon[0] == pytest.approx(ob.polygon[0], abs=1e-5)


def test_yolo_split_layout_with_yaml_paths_that_do_not_resolve(tmp_path):
    # Roboflow-style export: data.yaml points at ../train/images, which does not exist here
    for split, seed in (("train", 1), ("valid", 2)):
        _image(tmp_path / split / "images" / f"{split}.jpg", seed=seed)
        (tmp_path / split / "labels").mkdir()
        (tmp_path / split / "labels" / f"{split}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (tmp_path / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\nnc: 1\nnames: ['helmet']\n"
    )
    (tmp_path / "README.roboflow.txt").write_text("Exported via roboflow.com\n")
    data, report = read_format("yolo", tmp_path)
    assert (report.images, report.objects) == (2, 2) and not report.skipped
    assert data.labels == ["helmet"]
