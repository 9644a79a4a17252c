"""Pascal VOC folders: layouts, tolerant file names, parts, difficult, background, export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from automl_nb.data import read_jsonl
from automl_nb.data.converters import convert
from automl_nb.data.converters import export
from automl_nb.data.converters import read_format
from automl_nb.errors import DataError
from automl_nb.tasks import Task

W, H = 60, 40


def _image(path, mode="RGB", seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (H, W, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path)


def _xml(filename, objects, *, size=(W, H), path=None, extra=""):
    objs = "".join(
        f"<object><name>{name}</name><difficult>{difficult}</difficult>"
        f"<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>"
        f"{parts}</object>"
        for name, b, difficult, parts in objects
    )
    size_xml = f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>"
    path_xml = f"<path>{path}</path>" if path else ""
    return f"<annotation><folder>x</folder><filename>{filename}</filename>{path_xml}{size_xml}{extra}{objs}</annotation>"


PART = "<part><name>hand</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></part>"


@pytest.fixture()
def voc_dir(tmp_path):
    root = tmp_path / "VOC"
    ann, img = root / "Annotations", root / "JPEGImages"
    ann.mkdir(parents=True)
    _image(img / "one.jpg", seed=1)
    _image(img / "Two.JPG", mode="L", seed=2)
    _image(img / "three.png", mode="P", seed=3)
    _image(img / "four.jpg", seed=4)
    _image(img / "five.jpg", seed=5)  # no XML: a background image
    (ann / "one.xml").write_text(
        _xml("one.jpg", [("person", (6, 4, 30.5, 20), 0, PART), ("dog", (10, 10, 20, 30), 1, "")]),
        encoding="utf-8",
    )
    # filename without extension, wrong case; Windows line endings and a BOM
    text = _xml("two", [("dog", (0, 0, 70, 50), 0, "")])  # overshoots the border: clamped
    (ann / "Two.xml").write_bytes(b"\xef\xbb\xbf" + text.replace("><", ">\r\n<").encode())
    # size 0 (some tools): taken from the image; filename wrong, <path> from another machine
    (ann / "three.xml").write_text(
        _xml("scan.png", [("cat", (3, 3, 9, 9), 0, "")], size=(0, 0), path="C:\\data\\three.png")
    )
    (ann / "orphan.xml").write_text(_xml("nothere.jpg", [("cat", (1, 1, 5, 5), 0, "")]))
    (ann / "broken.xml").write_text("<annotation><object>")
    (ann / "empty_box.xml").write_text(_xml("four.jpg", [("cat", (5, 5, 5, 9), 0, "")]))
    return root


def test_voc_reads_tolerant_layouts(voc_dir, tmp_path):
    report = convert("voc", voc_dir, tmp_path / "out.jsonl")
    assert report.task is Task.OBJECT_DETECTION
    assert report.images == 5
    assert report.per_class == {"cat": 1, "dog": 2, "person": 1}
    assert report.background_images == 2  # five.jpg, and four.jpg whose only box has no area
    assert report.notes["images without an XML file kept as background images"] == 1
    assert report.skipped["label file without image"] == 1
    assert report.skipped["invalid XML"] == 1
    assert report.skipped["object with an empty or outside box"] == 1
    data = read_jsonl(tmp_path / "out.jsonl", Task.OBJECT_DETECTION)
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in data}
    person, dog = by_name["one.jpg"].label
    assert person.box == pytest.approx((6 / W, 4 / H, 30.5 / W, 20 / H))  # <part> ignored
    assert dog.is_crowd and not person.is_crowd  # difficult -> isCrowd
    assert by_name["Two.JPG"].label[0].box == (0.0, 0.0, 1.0, 1.0)
    assert by_name["three.png"].label[0].box == pytest.approx((3 / W, 3 / H, 9 / W, 9 / H))
    assert by_name["three.png"].format == "png"


def test_voc_flat_folder_with_xml_next_to_images(tmp_path):
    _image(tmp_path / "a.jpeg")
    (tmp_path / "a.xml").write_text(_xml("a.jpeg", [("cup", (1, 2, 30, 20), 0, "")]))
    data, report = read_format("voc", tmp_path)
    assert report.images == 1 and data[0].label[0].label == "cup"


def test_voc_lower_case_layout_like_odfridge(tmp_path):
    _image(tmp_path / "images" / "1.jpg")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "annotations" / "1.xml").write_text(
        _xml("1.jpg", [("can", (1, 2, 30, 20), 0, "")], path="../images/1.jpg")
    )
    data, report = read_format("voc", tmp_path)
    assert report.objects == 1 and report.background_images == 0


def test_voc_without_xml_is_an_error(tmp_path):
    _image(tmp_path / "a.jpg")
    with pytest.raises(DataError, match="no Pascal VOC .xml files"):
        read_format("voc", tmp_path)


def test_voc_round_trip_keeps_boxes_and_difficult(voc_dir, tmp_path):
    data, _ = read_format("voc", voc_dir)
    out = export(data, "voc", tmp_path / "exported")
    assert len(list((out / "JPEGImages").iterdir())) == 5
    back, report = read_format("voc", out)
    assert report.images == 5 and not report.skipped
    pairs = {r.path.rsplit("/", 1)[-1].lower().split(".")[0]: r for r in back}
    for record in data:
        again = pairs[record.path.rsplit("/", 1)[-1].lower().split(".")[0]]
        assert len(again.label) == len(record.label)
        for a, b in zip(record.label, again.label):
            assert (a.label, a.is_crowd) == (b.label, b.is_crowd)
            assert a.box == pytest.approx(b.box, abs=1 / min(W, H))


def test_voc_export_without_copying_points_at_the_originals(voc_dir, tmp_path):
    data, _ = read_format("voc", voc_dir)
    out = export(data, "voc", tmp_path / "refs", copy_images=False)
    assert not (out / "JPEGImages").exists()
    back, report = read_format("voc", out)
    assert sorted(r.path for r in back) == sorted(r.path for r in data)


def test_voc_difficult_must_be_a_flag_and_a_stem_match_is_noted(tmp_path):
    _image(tmp_path / "a.jpg")
    (tmp_path / "a.xml").write_text(_xml("a.jpg", [("cat", (1, 1, 20, 20), "maybe", "")]))
    with pytest.raises(DataError, match=r"a\.xml:1: object\[0\]\.difficult: <difficult> must be"):
        read_format("voc", tmp_path)
    (tmp_path / "a.xml").write_text(_xml("../elsewhere.jpg", [("cat", (1, 1, 20, 20), 0, "")]))
    data, report = read_format("voc", tmp_path)
    assert len(data.records) == 1
    assert any("not by its <filename>" in note for note in report.notes)
