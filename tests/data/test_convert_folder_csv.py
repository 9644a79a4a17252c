"""Image folders (multi-class) and label CSVs (multi-label) with real files."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from PIL import Image

from automl_nb.data import read_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import read_format
from automl_nb.errors import ConfigError
from automl_nb.errors import DataError
from automl_nb.tasks import Task


def _image(path, mode="RGB", seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path)


def test_folder_classes_from_folder_names(tmp_path):
    _image(tmp_path / "cat" / "1.jpg")
    _image(tmp_path / "cat" / "2.PNG", mode="P")
    _image(tmp_path / "dog" / "1.jpeg", mode="L")
    _image(tmp_path / "loose.jpg")
    (tmp_path / "dog" / "notes.txt").write_text("x")
    (tmp_path / "dog" / "broken.jpg").write_bytes(b"not a jpeg")
    (tmp_path / ".hidden").mkdir()
    _image(tmp_path / ".hidden" / "x.jpg")
    report = convert("folder", tmp_path, tmp_path / "out" / "train.jsonl")
    assert report.per_class == {"cat": 2, "dog": 1}
    assert report.skipped == {
        "image outside a class folder": 1,
        "not an image file": 1,
        "unreadable image": 1,
    }
    data = read_jsonl(tmp_path / "out" / "train.jsonl", Task.CLASSIFICATION)
    assert Counter(r.label for r in data) == {"cat": 2, "dog": 1}
    assert {r.format for r in data} == {"jpg", "png", "jpeg"}


def test_folder_split_layout_uses_the_folder_holding_the_image(tmp_path):
    _image(tmp_path / "train" / "cat" / "1.jpg")
    _image(tmp_path / "val" / "dog" / "1.jpg")
    data, _ = read_format("folder", tmp_path)
    assert sorted(r.label for r in data) == ["cat", "dog"]


def test_folder_as_multilabel_and_not_as_detection(tmp_path):
    _image(tmp_path / "cat" / "1.jpg")
    data, _ = read_format("folder", tmp_path, task="image_classification_multilabel")
    assert data[0].label == ("cat",)
    with pytest.raises(ConfigError, match="has no boxes"):
        read_format("folder", tmp_path, task="image_object_detection")


def test_folder_without_class_folders_is_an_error(tmp_path):
    _image(tmp_path / "a.jpg")
    with pytest.raises(DataError, match="no images in class sub-folders"):
        read_format("folder", tmp_path)


@pytest.fixture()
def images(tmp_path):
    for i, name in enumerate(["a.jpg", "b.jpg", "c.JPG", "sub/d.png", "e.jpg"]):
        _image(tmp_path / "images" / name, seed=i)
    return tmp_path / "images"


def test_csv_spaces_quotes_semicolons_and_commas(tmp_path, images):
    csv_text = (
        "filename,labels\r\n"
        "a.jpg,cat dog\r\n"
        'b.jpg,"cat;bird"\r\n'
        'c.JPG,"dog, bird"\r\n'
        "sub/d.png,dog\r\n"
        "e.jpg,\r\n"
        "missing.jpg,cat\r\n"
    )
    (tmp_path / "labels.csv").write_bytes(b"\xef\xbb\xbf" + csv_text.encode())
    report = convert("csv", tmp_path / "labels.csv", tmp_path / "ml.jsonl")
    assert report.task is Task.CLASSIFICATION_MULTILABEL
    assert (report.images, report.background_images) == (5, 1)
    assert report.per_class == {"bird": 2, "cat": 2, "dog": 3}
    assert report.skipped == {"image file not found": 1}
    data = read_jsonl(tmp_path / "ml.jsonl", Task.CLASSIFICATION_MULTILABEL)
    labels = {r.path.rsplit("/", 1)[-1]: r.label for r in data}
    assert labels == {
        "a.jpg": ("cat", "dog"),
        "b.jpg": ("cat", "bird"),
        "c.JPG": ("dog", "bird"),
        "d.png": ("dog",),
        "e.jpg": (),
    }


def test_csv_without_header_one_row_per_label_and_basename_lookup(tmp_path, images):
    (tmp_path / "l.csv").write_text("a.jpg,cat\na.jpg,dog\nd,bird\n")  # d: no extension, in sub/
    data, report = read_format("csv", tmp_path / "l.csv", images=images)
    assert {r.path.rsplit("/", 1)[-1]: r.label for r in data} == {
        "a.jpg": ("cat", "dog"),
        "d.png": ("bird",),
    }
    assert report.notes["rows of the same image merged"] == 1


def test_csv_one_hot_columns_and_semicolon_separator(tmp_path, images):
    (tmp_path / "l.csv").write_text("image;cat;dog\na.jpg;1;0\nb.jpg;1;1\n")
    data, _ = read_format("csv", tmp_path / "l.csv")
    assert [r.label for r in data] == [("cat",), ("cat", "dog")]


def test_csv_as_multiclass_keeps_single_label_rows(tmp_path, images):
    (tmp_path / "l.csv").write_text("filename,label\na.jpg,cat\nb.jpg,cat dog\n")
    data, report = read_format("csv", tmp_path / "l.csv", task="image_classification")
    assert [r.label for r in data] == ["cat"]
    assert report.skipped == {"image without exactly one label (multi-class needs one)": 1}
