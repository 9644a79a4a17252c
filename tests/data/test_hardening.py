"""Bounded YAML, full image decoding with progress, warnings and atomic JSONL writing."""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path

import pytest
import yaml
from PIL import Image

from automl_nb.config import load_job
from automl_nb.config._yaml import MAX_YAML_NODES
from automl_nb.config._yaml import compose_bounded
from automl_nb.data import ImageRecord
from automl_nb.data import ObjectAnnotation
from automl_nb.data import check_images
from automl_nb.data import read_jsonl
from automl_nb.data import write_jsonl
from automl_nb.data.converters import read_format
from automl_nb.errors import ConfigError
from automl_nb.errors import DataError


def _bomb(levels: int) -> str:
    lines = ["a0: &a0 [x]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once_with_its_line() -> None:
    start = time.monotonic()
    with pytest.raises(yaml.YAMLError) as caught:
        compose_bounded(_bomb(9))
    assert time.monotonic() - start < 1.0
    assert caught.value.problem_mark.line + 1 == 6  # a5 expands to 125 479 values
    assert str(MAX_YAML_NODES) in caught.value.problem
    node, data = compose_bounded(_bomb(4))  # 9**4 values: under the limit, still loads
    assert len(data["a4"]) == 9 and node is not None


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    spec = load_job(
        "task: image_classification\n"
        "target_column_name: label\n"
        "training_data: &data {path: train.jsonl, type: uri_file}\n"
        "validation_data: *data\n"
        "training_parameters:\n"
        "  <<: {learning_rate: 0.01}\n"
        "  number_of_epochs: 2\n"
    )
    assert spec.validation_data.path == spec.training_data.path == "train.jsonl"
    assert spec.training_parameters.learning_rate == 0.01


def test_cycles_depth_and_encodings_are_located(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 2: invalid YAML: alias \*a refers"):
        load_job("task: image_classification\nx: &a [1, *a]\n")
    with pytest.raises(ConfigError, match="nested more than 64 levels"):
        load_job("x: " + "[" * 65 + "]" * 65 + "\n")
    utf16 = tmp_path / "job.yml"
    utf16.write_bytes("task: image_clasification\n".encode("utf-16"))
    with pytest.raises(ConfigError, match=r"job.yml:1: task"):
        load_job(utf16)
    utf16.write_bytes("task: x\n".encode("utf-16-le"))
    with pytest.raises(ConfigError, match=r"job.yml:1: not a text file"):
        load_job(utf16)


def _png(path: Path, size: int = 16) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (10, 200, 30)).save(path)


def test_check_images_decodes_fully_and_reports_progress(tmp_path: Path) -> None:
    records = []
    for i in range(4):
        path = tmp_path / f"{i}.jpg"
        buffer = io.BytesIO()
        Image.effect_noise((64, 64), 60).convert("RGB").save(buffer, "JPEG")
        data = buffer.getvalue()
        path.write_bytes(data[: len(data) // 2] if i == 2 else data)
        records.append(ImageRecord(str(path), str(path), "cat", source=f"t.jsonl:{i + 1}"))
    assert check_images(records, decode=False) == []  # the header alone looks fine
    seen: list[tuple[int, int]] = []
    problems = check_images(records, decode=True, progress=lambda d, t: seen.append((d, t)))
    assert [(p.file, p.line) for p in problems] == [("t.jsonl", 3)]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_duplicate_lines_warn_and_duplicate_keys_fail(tmp_path: Path) -> None:
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png")
    lines = [
        {"image_url": "a.png", "label": "cat"},
        {"image_url": "b.png", "label": "dog"},
        {"image_url": "a.png", "label": "dog"},
    ]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    data = read_jsonl(path, "image_classification")
    assert len(data) == 3
    (warning,) = data.warnings
    assert warning.line == 3 and "different label" in warning.message
    path.write_text('{"image_url": "a.png", "label": "cat", "label": "dog"}\n')
    with pytest.raises(DataError, match=r"t.jsonl:1: label: key given twice"):
        read_jsonl(path, "image_classification")


def test_write_jsonl_refuses_nan_and_keeps_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    bad = ObjectAnnotation("cat", 0.1, math.nan, 0.5, 0.5)
    record = ImageRecord("a.png", str(tmp_path / "a.png"), (bad,), source="src.txt:4")
    with pytest.raises(DataError, match="src.txt:4: a coordinate is not a finite number"):
        write_jsonl([record], out)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left


def test_voc_clipping_is_noted_and_inverted_boxes_are_errors(tmp_path: Path) -> None:
    _png(tmp_path / "JPEGImages" / "a.png", 10)
    (tmp_path / "Annotations").mkdir()
    box = "<xmin>2</xmin><ymin>2</ymin><xmax>14</xmax><ymax>8</ymax>"
    xml = f"<annotation><filename>a.png</filename><object><name>cat</name><bndbox>{box}"
    (tmp_path / "Annotations" / "a.xml").write_text(xml + "</bndbox></object></annotation>")
    data, report = read_format("voc", tmp_path)
    assert data.records[0].label[0].bottom_x == 1.0
    assert "boxes reaching outside the image clipped to it" in report.notes
    (tmp_path / "Annotations" / "a.xml").write_text(
        xml.replace("<xmin>2</xmin>", "<xmin>9</xmin>").replace("<xmax>14", "<xmax>3")
        + "</bndbox></object></annotation>"
    )
    with pytest.raises(DataError, match="a.xml:1: object.0.: box is inverted"):
        read_format("voc", tmp_path)


def test_large_sets_print_progress_on_stderr(tmp_path: Path, capsys) -> None:
    _png(tmp_path / "a.png", 4)
    path = str(tmp_path / "a.png")
    records = [ImageRecord(path, path, "cat", source=f"t.jsonl:{i}") for i in range(1, 201)]
    assert check_images(records, decode=True, progress=True, workers=2) == []
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "checking images: 10/200" and err[-1] == "checking images: 200/200"
    assert len(err) == 20
