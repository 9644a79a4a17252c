"""Tests of the JSONL reader: the four schemas, lenient number forms and every error path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from automl_nb.data import ObjectAnnotation
from automl_nb.data import read_jsonl
from automl_nb.errors import DataError
from automl_nb.tasks import Task
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_detection_jsonl
from automl_nb.testing.datasets import make_multilabel_jsonl
from automl_nb.testing.datasets import make_segmentation_jsonl
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines
from tests.conftest import shared_dataset

DET = "image_object_detection"
SEG = "image_instance_segmentation"
CLS = "image_classification"
MULTI = "image_classification_multilabel"

BOX = {"label": "can", "topX": 0.1, "topY": 0.2, "bottomX": 0.5, "bottomY": 0.6}
POLY = [0.1, 0.2, 0.5, 0.2, 0.5, 0.6]


@pytest.fixture()
def image(tmp_path: Path) -> Path:
    return write_image(tmp_path / "img" / "a.png", size=16)


def _read_one(tmp_path: Path, line, task: str, **kwargs):
    path = write_lines(tmp_path / "data.jsonl", [line])
    return read_jsonl(path, task, **kwargs)


def _problems(tmp_path: Path, lines, task: str, **kwargs):
    path = write_lines(tmp_path / "bad.jsonl", lines)
    with pytest.raises(DataError) as info:
        read_jsonl(path, task, **kwargs)
    return info.value


# --- the four schemas -------------------------------------------------------------------


def test_reads_multiclass_dataset(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=12, classes=("cat", "dog", "eel"))
    data = read_jsonl(path, CLS)
    assert data.task is Task.CLASSIFICATION
    assert len(data) == 12
    assert data.labels == ["cat", "dog", "eel"]
    assert data.label_counts() == {"cat": 4, "dog": 4, "eel": 4}
    first = data[0]
    assert first.label == "cat"
    assert first.path == str(tmp_path / "images" / "0000.png")
    assert Path(first.path).is_file()
    assert (first.width, first.height, first.format) == (32, 32, "png")
    assert first.source == f"{path}:1"


def test_reads_multilabel_dataset(tmp_path: Path) -> None:
    path = make_multilabel_jsonl(tmp_path, n=10, classes=("a", "b", "c"))
    data = read_jsonl(path, MULTI)
    assert all(isinstance(r.label, tuple) for r in data)
    assert data.labels == ["a", "b", "c"]


def test_reads_detection_with_background_images(tmp_path: Path) -> None:
    path = make_detection_jsonl(tmp_path, n=10, background_images=3)
    data = read_jsonl(path, DET)
    assert len(data) == 10
    assert [len(r.label) for r in data][-3:] == [0, 0, 0]
    obj = data[0].label[0]
    assert isinstance(obj, ObjectAnnotation)
    assert 0 <= obj.top_x < obj.bottom_x <= 1 and obj.polygon == ()


def test_reads_segmentation_polygons(tmp_path: Path) -> None:
    path = make_segmentation_jsonl(tmp_path, n=10)
    data = read_jsonl(path, SEG)
    obj = data[0].label[0]
    assert len(obj.polygon) == 1 and len(obj.polygon[0]) == 8
    xs = obj.polygon[0][0::2]
    assert min(xs) == pytest.approx(obj.top_x) and max(xs) == pytest.approx(obj.bottom_x)


def test_detection_reads_segmentation_data_keeping_polygons(tmp_path: Path) -> None:
    data = read_jsonl(make_segmentation_jsonl(tmp_path, n=10), DET)
    assert data[0].label[0].polygon


# --- lenient forms ------------------------------------------------------------------------


def test_string_numbers_pixel_sizes_and_crowd_forms(tmp_path: Path, image: Path) -> None:
    objects = [
        {
            "label": "can",
            "topX": "0.1",
            "topY": "0.2",
            "bottomX": "0.5",
            "bottomY": 0.6,
            "isCrowd": "1",
        },
        {**BOX, "isCrowd": True},
        {**BOX, "isCrowd": 0},
        {**BOX, "isCrowd": "false"},
        {**BOX},
    ]
    line = {
        "image_url": str(image),
        "image_details": {"format": "JPG", "width": "400px", "height": 258},
        "label": objects,
    }
    record = _read_one(tmp_path, line, DET)[0]
    assert (record.width, record.height, record.format) == (400, 258, "jpg")
    assert [o.is_crowd for o in record.label] == [True, True, False, False, False]
    assert record.label[0].box == (0.1, 0.2, 0.5, 0.6)


@pytest.mark.parametrize("fmt", ["jpg", "jpeg", "png", "jpe", "jfif", "bmp", "tif", "tiff"])
def test_every_azure_image_format_is_accepted(tmp_path: Path, image: Path, fmt: str) -> None:
    line = {"image_url": str(image), "image_details": {"format": fmt}, "label": "a"}
    assert _read_one(tmp_path, line, CLS)[0].format == fmt


def test_flat_polygon_and_box_from_polygon(tmp_path: Path, image: Path) -> None:
    line = {"image_url": str(image), "label": [{"label": "can", "polygon": POLY}]}
    obj = _read_one(tmp_path, line, SEG)[0].label[0]
    assert obj.polygon == (tuple(POLY),)
    assert obj.box == (0.1, 0.2, 0.5, 0.6)


def test_coordinates_within_slack_are_clamped(tmp_path: Path, image: Path) -> None:
    obj = {**BOX, "topX": -1e-7, "bottomY": 1 + 5e-7}
    record = _read_one(tmp_path, {"image_url": str(image), "label": [obj]}, DET)[0]
    assert record.label[0].top_x == 0.0 and record.label[0].bottom_y == 1.0


def test_integer_labels_become_class_names(tmp_path: Path, image: Path) -> None:
    assert _read_one(tmp_path, {"image_url": str(image), "label": 3}, CLS)[0].label == "3"
    multi = _read_one(tmp_path, {"image_url": str(image), "label": [1, "b", "b"]}, MULTI)
    assert multi[0].label == ("1", "b")


def test_multilabel_empty_list_is_an_image_without_labels(tmp_path: Path, image: Path) -> None:
    assert _read_one(tmp_path, {"image_url": str(image), "label": []}, MULTI)[0].label == ()


def test_blank_lines_bom_and_extra_keys(tmp_path: Path, image: Path) -> None:
    path = tmp_path / "x.jsonl"
    line = json.dumps({"image_url": str(image), "label": "a", "extra": 1})
    path.write_text("\ufeff" + line + "\n\n   \n" + line + "\n", encoding="utf-8")
    data = read_jsonl(path, CLS)
    assert [r.source for r in data] == [f"{path}:1", f"{path}:4"]


def test_custom_target_column(tmp_path: Path, image: Path) -> None:
    line = {"image_url": str(image), "category": "a"}
    assert _read_one(tmp_path, line, CLS, target_column="category")[0].label == "a"


def test_relative_paths_are_relative_to_the_jsonl(tmp_path: Path) -> None:
    write_image(tmp_path / "sub" / "imgs" / "x.png")
    path = write_lines(tmp_path / "sub" / "d.jsonl", [{"image_url": "imgs/x.png", "label": "a"}])
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        record = read_jsonl("sub/d.jsonl", CLS)[0]
    finally:
        os.chdir(cwd)
    assert record.path == str(tmp_path / "sub" / "imgs" / "x.png")
    assert record.image_url == "imgs/x.png"
    assert path.exists()


# --- error paths --------------------------------------------------------------------------


def test_malformed_json_names_file_line_and_column(tmp_path: Path, image: Path) -> None:
    good = {"image_url": str(image), "label": "a"}
    err = _problems(tmp_path, [good, '{"image_url": "x.png", "label": "a"', good], CLS)
    (problem,) = err.problems
    assert problem.file == str(tmp_path / "bad.jsonl") and problem.line == 2
    assert "malformed JSON" in problem.message and problem.column is not None
    assert "1 invalid line(s) of 3" in str(err)


def test_line_that_is_not_an_object(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, ['["a", "b"]'], CLS).problems
    assert "JSON object" in problem.message and problem.line == 1


def test_missing_image_url_with_suggestion(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, [{"image_uri": "x.png", "label": "a"}], CLS).problems
    assert problem.path == "image_url" and problem.message == "missing image_url"
    assert problem.suggestion == "image_uri"


def test_empty_image_url(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, [{"image_url": " ", "label": "a"}], CLS).problems
    assert problem.path == "image_url" and "non-empty" in problem.message


def test_missing_label_suggests_close_key(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, [{"image_url": "x.png", "labels": "a"}], CLS).problems
    assert problem.path == "label" and problem.suggestion == "labels"


@pytest.mark.parametrize(
    ("task", "label", "expected"),
    [
        (
            CLS,
            ["a", "b"],
            "expected a class name for image_classification, got a list of class names",
        ),
        (CLS, BOX, "got a single object dict"),
        (CLS, [], "got an empty list"),
        (MULTI, "a", "expected a list of class names"),
        (MULTI, [BOX], "got a list of objects with boxes"),
        (DET, "can", "expected a list of objects with boxes for image_object_detection"),
        (DET, BOX, "wrap the object in a list"),
        (DET, ["a"], "got a list of class names"),
        (SEG, True, "got something else"),
    ],
)
def test_label_shape_wrong_for_task(tmp_path: Path, image: Path, task, label, expected) -> None:
    good_label = {CLS: "a", MULTI: ["a"], DET: [BOX], SEG: [{"label": "c", "polygon": [POLY]}]}[
        task
    ]
    lines = [
        {"image_url": str(image), "label": good_label},
        {"image_url": str(image), "label": label},
    ]
    err = _problems(tmp_path, lines, task)
    problem = next(p for p in err.problems if p.line == 2)
    assert expected in problem.message
    assert problem.path == "label" and problem.value is not None


def test_whole_file_of_another_task_gives_one_clear_problem(tmp_path: Path) -> None:
    path = make_multilabel_jsonl(tmp_path, n=12)
    with pytest.raises(DataError) as info:
        read_jsonl(path, DET)
    (problem,) = info.value.problems
    assert problem.line == 1 and problem.suggestion == MULTI
    assert "image_classification_multilabel data" in problem.message


def test_mixed_task_schemas(tmp_path: Path, image: Path) -> None:
    lines = [{"image_url": str(image), "label": "a"}] * 3 + [
        {"image_url": str(image), "label": [BOX]}
    ] * 2
    err = _problems(tmp_path, lines, CLS)
    mixed = err.problems[0]
    assert mixed.message.startswith("mixed label schemas")
    assert "3 line(s) with a class name" in mixed.message
    assert "2 line(s) with a list of objects with boxes (first at" in mixed.message
    assert [p.line for p in err.problems[1:]] == [4, 5]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (
            {"topX": 1.5},
            "label[0].topX",
            "outside [0, 1]; boxes and polygons use coordinates normalised",
        ),
        ({"topY": -0.2}, "label[0].topY", "outside [0, 1]"),
        ({"bottomX": 120}, "label[0].bottomX", "normalised"),
        ({"topX": 0.6}, "label[0].topX", "topX must be < bottomX"),
        ({"topY": 0.6}, "label[0].topY", "topY must be < bottomY"),
        ({"topX": "abc"}, "label[0].topX", "must be a number"),
        ({"topX": float("nan")}, "label[0].topX", "must be a number"),
        ({"topX": None}, "label[0].topX", "must be a number"),
        ({"label": ""}, "label[0].label", "missing or empty object label"),
        ({"isCrowd": 2}, "label[0].isCrowd", "0, 1, true or false"),
    ],
)
def test_bad_boxes(tmp_path: Path, image: Path, change, path, message) -> None:
    line = {"image_url": str(image), "label": [{**BOX, **change}]}
    (problem,) = _problems(tmp_path, [line], DET).problems
    assert problem.path == path and message in problem.message and problem.line == 1


def test_missing_box_key_is_case_sensitive(tmp_path: Path, image: Path) -> None:
    obj = {"label": "a", "topx": 0.1, "topY": 0.1, "bottomX": 0.5, "bottomY": 0.5}
    (problem,) = _problems(tmp_path, [{"image_url": str(image), "label": [obj]}], DET).problems
    assert problem.path == "label[0].topX" and "found 'topx'" in problem.message


def test_object_without_box_or_polygon(tmp_path: Path, image: Path) -> None:
    line = {"image_url": str(image), "label": [{"label": "a"}]}
    (problem,) = _problems(tmp_path, [line], DET).problems
    assert "missing box" in problem.message and problem.path == "label[0]"


def test_object_that_is_not_a_dict(tmp_path: Path, image: Path) -> None:
    line = {"image_url": str(image), "label": [BOX, "can"]}
    err = _problems(tmp_path, [line], DET)
    assert any(p.path == "label" for p in err.problems)


@pytest.mark.parametrize(
    ("polygon", "path", "message"),
    [
        ([], "label[0].polygon", "non-empty list"),
        ([[]], "label[0].polygon[0]", "empty polygon segment"),
        ([[0.1, 0.1, 0.2, 0.2]], "label[0].polygon[0]", "2 point(s); at least 3"),
        ([[0.1, 0.1, 0.2, 0.2, 0.3]], "label[0].polygon[0]", "odd number of values (5)"),
        ([0.1, 0.1, 0.2], "label[0].polygon", "odd number"),
        ([[0.1, 0.1, 0.2, 0.2, 0.3, 1.7]], "label[0].polygon[0][5]", "outside [0, 1]"),
        ("0.1 0.2", "label[0].polygon", "non-empty list"),
    ],
)
def test_bad_polygons(tmp_path: Path, image: Path, polygon, path, message) -> None:
    line = {"image_url": str(image), "label": [{"label": "a", "polygon": polygon}]}
    err = _problems(tmp_path, [line], SEG)
    assert any(p.path == path and message in p.message for p in err.problems), err


def test_segmentation_object_needs_a_polygon(tmp_path: Path, image: Path) -> None:
    label = [{"label": "c", "polygon": [POLY]}, BOX]
    (problem,) = _problems(tmp_path, [{"image_url": str(image), "label": label}], SEG).problems
    assert problem.path == "label[1].polygon" and "need a polygon" in problem.message


def test_segmentation_task_on_box_only_data(tmp_path: Path) -> None:
    path = make_detection_jsonl(tmp_path, n=10)
    with pytest.raises(DataError) as info:
        read_jsonl(path, SEG)
    (problem,) = info.value.problems
    assert problem.suggestion == DET


@pytest.mark.parametrize(
    ("details", "path", "suggestion"),
    [
        ({"width": "abc"}, "image_details.width", None),
        ({"height": -3}, "image_details.height", None),
        ({"width": 10.5}, "image_details.width", None),
        ({"format": "pgn"}, "image_details.format", None),
        ({"format": "gif"}, "image_details.format", None),
        ("400x300", "image_details", None),
    ],
)
def test_bad_image_details(tmp_path: Path, details, path, suggestion) -> None:
    line = {"image_url": "x.png", "image_details": details, "label": "a"}
    (problem,) = _problems(tmp_path, [line], CLS).problems
    assert problem.path == path and problem.suggestion == suggestion


def test_error_mode_lists_all_problems_capped(tmp_path: Path) -> None:
    lines = [{"image_url": f"{i}.png", "label": ["x"]} for i in range(30)]
    lines.insert(0, {"image_url": "ok.png", "label": "a"})
    err = _problems(tmp_path, lines, CLS)
    assert len(err.problems) == 21  # mixed-schema summary + 19 lines + "... and N more"
    assert err.problems[-1].message == "... and 11 more problem(s)"
    assert "30 invalid line(s) of 31" in str(err)


def test_drop_mode_keeps_good_lines_and_reports_dropped(tmp_path: Path, image: Path) -> None:
    bad_obj = {**BOX, "topX": 2, "bottomY": "x"}
    lines = [
        {"image_url": str(image), "label": [BOX]},
        "{not json",
        {"image_url": str(image), "label": [bad_obj]},
        {"image_url": str(image), "label": []},
    ]
    path = write_lines(tmp_path / "d.jsonl", lines)
    data = read_jsonl(path, DET, invalid_lines="drop")
    assert [r.source for r in data] == [f"{path}:1", f"{path}:4"]
    assert [(p.line, p.file) for p in data.dropped] == [(2, str(path)), (3, str(path))]
    assert "and 1 more problem on this line" in data.dropped[1].message


def test_drop_mode_with_every_line_invalid_is_an_error(tmp_path: Path) -> None:
    err = _problems(tmp_path, ["{", "[1]"], CLS, invalid_lines="drop")
    assert "all 2 line(s) are invalid" in str(err)


def test_invalid_lines_setting_is_checked(tmp_path: Path) -> None:
    err = _problems(tmp_path, [], CLS, invalid_lines="dorp")
    assert err.problems[0].suggestion == "drop"


def test_empty_file(tmp_path: Path) -> None:
    err = _problems(tmp_path, ["", "  "], CLS)
    assert "no images" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="JSONL file not found"):
        read_jsonl(tmp_path / "nope.jsonl", CLS)


def test_undecodable_text(tmp_path: Path) -> None:
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"image_url": "caf\xe9.png", "label": "a"}\n'.encode("latin-1"))
    with pytest.raises(DataError, match="cannot decode as utf-8"):
        read_jsonl(path, CLS)
    assert read_jsonl(path, CLS, encoding="latin-1")[0].image_url == "caf\xe9.png"


# --- real data ----------------------------------------------------------------------------


def test_reads_real_fridge_thumbnails(tmp_path: Path) -> None:
    root = shared_dataset("fridgeObjects") / "thumbnails_150"
    lines = [
        {"image_url": os.path.relpath(p, tmp_path), "label": p.parent.name}
        for p in sorted(root.glob("*/*.jpg"))
    ]
    data = read_jsonl(write_lines(tmp_path / "fridge.jsonl", lines), CLS)
    assert len(data) == 134
    assert data.labels == ["can", "carton", "milk_bottle", "water_bottle"]
    assert all(Path(r.path).is_file() for r in data)
