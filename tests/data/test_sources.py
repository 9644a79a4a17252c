"""Tests of image_url resolution and the datastore mapping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from automl_nb.data import DATASTORES_ENV
from automl_nb.data import datastore_mapping
from automl_nb.data import open_image
from automl_nb.data import parse_datastore_mapping
from automl_nb.data import read_jsonl
from automl_nb.data import resolve_image_url
from automl_nb.errors import DataError
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines

LONG = (
    "azureml://subscriptions/0000-aaaa/resourcegroups/my-rg/workspaces/my-ws/"
    "datastores/workspaceblobstore/paths/fridge/images/1.jpg"
)
SHORT = "azureml://datastores/workspaceblobstore/paths/fridge/images/1.jpg"


def test_relative_absolute_and_home_paths(tmp_path: Path) -> None:
    assert resolve_image_url("a/../b/c.jpg", base_dir=tmp_path) == str(tmp_path / "b" / "c.jpg")
    assert resolve_image_url(str(tmp_path / "x.png"), base_dir="/elsewhere") == str(
        tmp_path / "x.png"
    )
    assert resolve_image_url("~/x.png") == os.path.expanduser("~/x.png")


def test_windows_separators_in_relative_paths(tmp_path: Path) -> None:
    assert resolve_image_url("images\\sub\\a.jpg", base_dir=tmp_path) == str(
        tmp_path / "images" / "sub" / "a.jpg"
    )


def test_relative_path_without_base_uses_current_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_image_url("x.png") == str(tmp_path / "x.png")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file:///data/a%20b.jpg", "/data/a b.jpg"),
        ("file://localhost/data/a.jpg", "/data/a.jpg"),
        ("file://images/a.jpg", "{base}/images/a.jpg"),
        ("file:images/a.jpg", "{base}/images/a.jpg"),
    ],
)
def test_file_urls(tmp_path: Path, url: str, expected: str) -> None:
    assert resolve_image_url(url, base_dir=tmp_path) == expected.format(base=tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.jpg",
        "s3://bucket/a.jpg",
        "gs://bucket/a.jpg",
        "memory://x/a.png",
        "abfs://container/a.jpg",
    ],
)
def test_fsspec_urls_stay_urls(tmp_path: Path, url: str) -> None:
    assert resolve_image_url(url, base_dir=tmp_path) == url


def test_relative_path_under_a_url_base() -> None:
    assert resolve_image_url("../img/a.jpg", base_dir="s3://bucket/data/train") == (
        "s3://bucket/data/img/a.jpg"
    )


@pytest.mark.parametrize("url", [LONG, SHORT, LONG.replace("resourcegroups", "resourceGroups")])
def test_azureml_datastore_uris(tmp_path: Path, url: str) -> None:
    resolved = resolve_image_url(url, datastores={"workspaceblobstore": str(tmp_path)})
    assert resolved == str(tmp_path / "fridge" / "images" / "1.jpg")


def test_azureml_to_url_prefix_and_wildcard() -> None:
    assert resolve_image_url(SHORT, datastores={"*": "s3://bucket/blob/"}) == (
        "s3://bucket/blob/fridge/images/1.jpg"
    )


def test_azureml_without_mapping_says_how_to_configure(monkeypatch) -> None:
    monkeypatch.delenv(DATASTORES_ENV, raising=False)
    with pytest.raises(DataError) as info:
        resolve_image_url(SHORT)
    message = str(info.value)
    assert "'workspaceblobstore' is not mapped" in message
    assert DATASTORES_ENV in message and "--datastore NAME=FOLDER" in message


def test_azureml_unknown_datastore_suggests_close_name() -> None:
    with pytest.raises(DataError) as info:
        resolve_image_url(SHORT, datastores={"workspaceblobstor": "/d", "other": "/o"})
    assert info.value.problems[0].suggestion == "workspaceblobstor"
    assert "mapped: other, workspaceblobstor" in str(info.value)


def test_azureml_data_asset_uri_is_rejected() -> None:
    with pytest.raises(DataError, match="unsupported azureml:// URI"):
        resolve_image_url("azureml://locations/x/workspaces/w/data/fridge/versions/1")


def test_mapping_from_environment_both_forms(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(DATASTORES_ENV, f"workspaceblobstore={tmp_path}, other=rel")
    monkeypatch.chdir(tmp_path)
    assert datastore_mapping() == {
        "workspaceblobstore": str(tmp_path),
        "other": str(tmp_path / "rel"),
    }
    assert resolve_image_url(SHORT).startswith(str(tmp_path))
    monkeypatch.setenv(DATASTORES_ENV, '{"workspaceblobstore": "gs://b"}')
    assert resolve_image_url(SHORT) == "gs://b/fridge/images/1.jpg"


def test_argument_wins_over_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(DATASTORES_ENV, "workspaceblobstore=/from/env")
    got = resolve_image_url(SHORT, datastores={"workspaceblobstore": str(tmp_path)})
    assert got.startswith(str(tmp_path))


@pytest.mark.parametrize("text", ["noequals", "=x", "a=", '{"a": 1}', "{bad json", "[1]"])
def test_bad_mapping_text(text: str) -> None:
    with pytest.raises(DataError) as info:
        parse_datastore_mapping(text)
    assert info.value.problems[0].path == DATASTORES_ENV


def test_empty_mapping_text() -> None:
    assert parse_datastore_mapping("  ") == {}


def test_jsonl_with_azureml_urls_reads_through_mapping(tmp_path: Path, monkeypatch) -> None:
    write_image(tmp_path / "blob" / "fridge" / "images" / "1.jpg")
    path = write_lines(tmp_path / "train.jsonl", [{"image_url": LONG, "label": "can"}] * 2)
    data = read_jsonl(
        path, "image_classification", datastores={"workspaceblobstore": tmp_path / "blob"}
    )
    assert data[0].path == str(tmp_path / "blob" / "fridge" / "images" / "1.jpg")
    assert data[0].image_url == LONG
    assert open_image(data[0].path).size == (32, 32)
    monkeypatch.setenv(DATASTORES_ENV, f"workspaceblobstore={tmp_path / 'blob'}")
    assert read_jsonl(path, "image_classification")[1].path == data[0].path


def test_jsonl_with_unmapped_datastore_is_a_line_problem(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "train.jsonl", [{"image_url": LONG, "label": "can"}])
    with pytest.raises(DataError) as info:
        read_jsonl(path, "image_classification", datastores={"other": str(tmp_path)})
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (1, "image_url")
    assert "not in the datastore mapping" in problem.message


def test_jsonl_without_any_mapping_stops_at_the_first_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(DATASTORES_ENV, raising=False)
    path = write_lines(tmp_path / "train.jsonl", [{"image_url": LONG, "label": "can"}] * 50)
    with pytest.raises(DataError) as info:
        read_jsonl(path, "image_classification")
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == (str(path), 1)
    assert DATASTORES_ENV in problem.message


def test_jsonl_on_an_fsspec_filesystem_with_relative_images(tmp_path: Path) -> None:
    import fsspec

    image = write_image(tmp_path / "a.png", size=9)
    with fsspec.open("memory://automl-nb-src/data/a.png", "wb") as fh:
        fh.write(image.read_bytes())
    with fsspec.open("memory://automl-nb-src/data/train.jsonl", "w") as fh:
        fh.write('{"image_url": "a.png", "label": "x"}\n')
    data = read_jsonl("memory://automl-nb-src/data/train.jsonl", "image_classification")
    assert data[0].path == "memory://automl-nb-src/data/a.png"
    assert open_image(data[0].path).size == (9, 9)
