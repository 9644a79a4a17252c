"""Tests of MLTable folders: paths kinds, read_json_lines options and located errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from automl_nb.data import parse_mltable
from automl_nb.data import read_dataset
from automl_nb.data import read_mltable
from automl_nb.errors import DataError
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_detection_jsonl
from automl_nb.testing.datasets import make_mltable
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines
from tests.conftest import shared_dataset

CLS = "image_classification"
DET = "image_object_detection"

TRANSFORMS = """transformations:
  - read_json_lines:
        encoding: utf8
        invalid_lines: {mode}
        include_path_column: false
  - convert_column_types:
      - columns: image_url
        column_type: stream_info
"""


def _mltable(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "MLTable").write_text(text, encoding="utf-8")
    return folder


def _errors(folder: Path, task: str = CLS) -> DataError:
    with pytest.raises(DataError) as info:
        read_mltable(folder, task)
    return info.value


def test_azure_style_file_path(tmp_path: Path) -> None:
    make_detection_jsonl(tmp_path, n=10, name="train_annotations.jsonl")
    make_mltable(tmp_path, "train_annotations.jsonl")
    spec = parse_mltable(tmp_path)
    assert spec.files == (str(tmp_path / "train_annotations.jsonl"),)
    assert (spec.encoding, spec.invalid_lines, spec.stream_columns) == (
        "utf-8-sig",
        "error",
        ("image_url",),
    )
    data = read_mltable(tmp_path, DET)
    assert len(data) == 10 and data.source == str(tmp_path)
    assert read_mltable(tmp_path / "MLTable", DET).records == data.records
    assert read_dataset(tmp_path, DET).records == data.records


def test_folder_and_pattern_paths_read_all_files_in_order(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path / "parts", n=4, name="b.jsonl", classes=("x",))
    make_classification_jsonl(tmp_path / "parts", n=3, name="a.jsonl", classes=("y",))
    (tmp_path / "parts" / "notes.txt").write_text("ignored")
    _mltable(tmp_path / "t1", "paths:\n  - folder: ../parts\n" + TRANSFORMS.format(mode="error"))
    data = read_mltable(tmp_path / "t1", CLS)
    assert [r.label for r in data] == ["y"] * 3 + ["x"] * 4
    _mltable(
        tmp_path / "t2", "paths:\n  - pattern: ../parts/b*.jsonl\n  - file: ../parts/a.jsonl\n"
    )
    data = read_mltable(tmp_path / "t2", CLS)
    assert [r.label for r in data] == ["x"] * 4 + ["y"] * 3
    assert data[0].path == str(tmp_path / "parts" / "images" / "0000.png")


def test_invalid_lines_drop_from_mltable_and_override(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=10)
    with path.open("a") as fh:
        fh.write("{broken\n")
    _mltable(tmp_path, "paths:\n  - file: ./train.jsonl\n" + TRANSFORMS.format(mode="drop"))
    data = read_mltable(tmp_path, CLS)
    assert len(data) == 10 and [p.line for p in data.dropped] == [11]
    with pytest.raises(DataError, match="malformed JSON"):
        read_mltable(tmp_path, CLS, invalid_lines="error")


def test_encoding_option(tmp_path: Path) -> None:
    write_image(tmp_path / "café.png")
    (tmp_path / "d.jsonl").write_bytes(
        '{"image_url": "café.png", "label": "a"}\n'.encode("latin-1")
    )
    _mltable(
        tmp_path,
        "paths:\n  - file: d.jsonl\ntransformations:\n  - read_json_lines:\n      encoding: iso88591\n",
    )
    assert Path(read_mltable(tmp_path, CLS)[0].path).is_file()


def test_paths_through_datastore_mapping(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path / "blob" / "data", n=3)
    _mltable(
        tmp_path / "t",
        "paths:\n  - file: azureml://subscriptions/s/resourcegroups/r/workspaces/w/"
        "datastores/store/paths/data/train.jsonl\n",
    )
    data = read_mltable(tmp_path / "t", CLS, datastores={"store": str(tmp_path / "blob")})
    assert len(data) == 3 and Path(data[0].path).is_file()


def test_no_mltable_file_hints_at_jsonl(tmp_path: Path) -> None:
    make_classification_jsonl(tmp_path, n=2)
    (problem,) = _errors(tmp_path).problems
    assert "no MLTable file" in problem.message and "train.jsonl" in problem.message
    assert problem.file == str(tmp_path)


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    _mltable(tmp_path, "paths:\n  - file: a.jsonl\n  bad: [\n")
    (problem,) = _errors(tmp_path).problems
    assert problem.file == str(tmp_path / "MLTable") and problem.line is not None
    assert "invalid YAML" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "path", "message", "suggestion"),
    [
        ("path:\n  - file: a.jsonl\n", 1, "path", "unknown MLTable key", "paths"),
        ("paths: []\n", 1, "paths", "non-empty list", None),
        ("paths:\n  - files: ./train.jsonl\n", 2, "paths[0].files", "unknown path kind", "file"),
        (
            "paths:\n  - file: ./train.jsonl\n    folder: .\n",
            2,
            "paths[0]",
            "exactly one of",
            None,
        ),
        (
            "paths:\n  - file: ./train.jsonl\n  - file: ./nope.jsonl\n",
            3,
            "paths[1].file",
            "file not found",
            None,
        ),
        ("paths:\n  - folder: ./images\n", 2, "paths[0].folder", "no *.jsonl files", None),
        ("paths:\n  - folder: ./missing\n", 2, "paths[0].folder", "cannot list", None),
        ("paths:\n  - pattern: ./*.csv\n", 2, "paths[0].pattern", "no files match", None),
        ("paths:\n  - file: 3\n", 2, "paths[0].file", "must be a path string", None),
        (
            "paths:\n  - file: ./train.jsonl\ntransformations:\n  - read_delimited:\n      delimiter: ','\n",
            4,
            "transformations[0].read_delimited",
            "unsupported transformation",
            None,
        ),
        (
            "paths:\n  - file: ./train.jsonl\ntransformations:\n  - read_json_line: {}\n",
            4,
            "transformations[0].read_json_line",
            "unsupported transformation",
            "read_json_lines",
        ),
        (
            "paths:\n  - file: ./train.jsonl\n" + TRANSFORMS.format(mode="skip"),
            6,
            "transformations[0].read_json_lines.invalid_lines",
            "'error' or 'drop'",
            None,
        ),
        (
            "paths:\n  - file: ./train.jsonl\n"
            + TRANSFORMS.format(mode="error").replace("utf8", "utf-9"),
            5,
            "transformations[0].read_json_lines.encoding",
            "unsupported encoding",
            "utf-8",
        ),
        (
            "paths:\n  - file: ./train.jsonl\n"
            + TRANSFORMS.format(mode="error").replace("include_path", "incl_path"),
            7,
            "transformations[0].read_json_lines.incl_path_column",
            "unknown read_json_lines option",
            "include_path_column",
        ),
        (
            "paths:\n  - file: ./train.jsonl\n"
            + TRANSFORMS.format(mode="error").replace("false", "maybe"),
            7,
            "transformations[0].read_json_lines.include_path_column",
            "true or false",
            None,
        ),
        (
            "paths:\n  - file: ./train.jsonl\n"
            + TRANSFORMS.format(mode="error").replace("stream_info", "string"),
            10,
            "transformations[1].convert_column_types[0].column_type",
            "stream_info",
            "stream_info",
        ),
        (
            "paths:\n  - file: ./train.jsonl\ntransformations:\n  - convert_column_types:\n      - columns: image_url\n",
            5,
            "transformations[0].convert_column_types[0]",
            "columns and column_type",
            None,
        ),
        (
            "paths:\n  - file: ./train.jsonl\ntransformations:\n  - convert_column_types:\n"
            "      - {columns: image_url, column_type: stream_info}\n",
            3,
            "transformations",
            "needs a read_json_lines",
            None,
        ),
        ("- file: a.jsonl\n", 1, None, "must be a mapping", None),
    ],
)
def test_mltable_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, path: str | None, message: str, suggestion: str | None
) -> None:
    make_classification_jsonl(tmp_path, n=2)
    _mltable(tmp_path, text)
    err = _errors(tmp_path)
    found = [p for p in err.problems if p.path == path]
    assert found, err
    problem = found[0]
    assert problem.file == str(tmp_path / "MLTable")
    assert problem.line == line, err
    assert message in problem.message
    assert problem.suggestion == suggestion


def test_all_mltable_problems_are_reported_together(tmp_path: Path) -> None:
    _mltable(tmp_path, "paths:\n  - file: a.jsonl\n  - file: b.jsonl\n")
    assert [p.line for p in _errors(tmp_path).problems] == [2, 3]


def test_jsonl_errors_inside_mltable_name_the_jsonl(tmp_path: Path) -> None:
    write_lines(
        tmp_path / "d.jsonl",
        [{"image_url": "a.png", "label": ["x"]}, {"image_url": "a.png", "label": "x"}],
    )
    make_mltable(tmp_path, "d.jsonl")
    err = _errors(tmp_path)
    assert any(p.file == str(tmp_path / "d.jsonl") and p.line == 1 for p in err.problems)


def test_real_fridge_mltable(tmp_path: Path) -> None:
    root = shared_dataset("fridgeObjects") / "thumbnails_150"
    lines = [
        {"image_url": os.path.relpath(p, tmp_path / "train"), "label": p.parent.name}
        for p in sorted(root.glob("*/*.jpg"))
    ]
    write_lines(tmp_path / "train" / "train_annotations.jsonl", lines)
    make_mltable(tmp_path / "train", "train_annotations.jsonl")
    data = read_mltable(tmp_path / "train", CLS)
    assert len(data) == 134 and len(data.labels) == 4
    assert all(Path(r.path).is_file() for r in data)
