"""Tests of the seeded, stratified validation split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from automl_nb.data import read_jsonl
from automl_nb.data import split_validation
from automl_nb.errors import DataError
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_detection_jsonl
from automl_nb.testing.datasets import make_multilabel_jsonl
from automl_nb.testing.datasets import write_image
from automl_nb.testing.datasets import write_lines


def _sources(data) -> list[str]:
    return [r.source for r in data]


def test_split_is_seeded_disjoint_and_complete(tmp_path: Path) -> None:
    data = read_jsonl(
        make_classification_jsonl(tmp_path, n=40, classes=("a", "b")), "image_classification"
    )
    train, valid = split_validation(data, 0.25, seed=3)
    assert len(valid) == 10 and len(train) == 30
    assert set(_sources(train)).isdisjoint(_sources(valid))
    assert sorted(_sources(train) + _sources(valid)) == sorted(_sources(data))
    again = split_validation(data, 0.25, seed=3)
    assert _sources(again[1]) == _sources(valid)
    other = split_validation(data, 0.25, seed=4)
    assert _sources(other[1]) != _sources(valid)
    assert _sources(split_validation(data, 0.25)[1]) == _sources(split_validation(data, 0.25)[1])
    # Original order is kept on both sides.
    assert [data.records.index(r) for r in train] == sorted(data.records.index(r) for r in train)


def test_multiclass_is_stratified(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.png")
    counts = {"big": 60, "mid": 30, "small": 10}
    lines = [{"image_url": str(image), "label": c} for c, n in counts.items() for _ in range(n)]
    data = read_jsonl(write_lines(tmp_path / "d.jsonl", lines), "image_classification")
    for seed in range(5):
        train, valid = split_validation(data, 0.2, seed=seed)
        assert valid.label_counts() == {"big": 12, "mid": 6, "small": 2}
        assert train.labels == valid.labels == ["big", "mid", "small"]


def test_single_image_class_stays_in_training(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.png")
    lines = [{"image_url": str(image), "label": "common"}] * 11 + [
        {"image_url": str(image), "label": "rare"}
    ]
    data = read_jsonl(write_lines(tmp_path / "d.jsonl", lines), "image_classification")
    for seed in range(10):
        train, valid = split_validation(data, 0.5, seed=seed)
        assert "rare" in train.label_counts() and "rare" not in valid.label_counts()


def test_multilabel_validation_labels_are_all_in_training(tmp_path: Path) -> None:
    data = read_jsonl(
        make_multilabel_jsonl(tmp_path, n=30, classes=("a", "b", "c", "d", "e")),
        "image_classification_multilabel",
    )
    for seed in range(10):
        train, valid = split_validation(data, 0.3, seed=seed)
        assert len(valid) == 9
        assert set(valid.label_counts()) <= set(train.label_counts())


def test_multilabel_rare_labels_are_spread(tmp_path: Path) -> None:
    image = write_image(tmp_path / "a.png")
    lines = [{"image_url": str(image), "label": ["common"]}] * 16 + [
        {"image_url": str(image), "label": ["common", "rare"]}
    ] * 4
    data = read_jsonl(write_lines(tmp_path / "d.jsonl", lines), "image_classification_multilabel")
    for seed in range(5):
        _, valid = split_validation(data, 0.25, seed=seed)
        assert valid.label_counts()["rare"] == 1


def test_detection_random_split_keeps_classes_in_training(tmp_path: Path) -> None:
    data = read_jsonl(
        make_detection_jsonl(tmp_path, n=20, classes=("a", "b", "c"), background_images=4),
        "image_object_detection",
    )
    seen = Counter()
    for seed in range(8):
        train, valid = split_validation(data, 0.2, seed=seed)
        assert len(train) + len(valid) == 20 and len(valid) == 4
        assert set(valid.label_counts()) <= set(train.label_counts())
        seen.update(_sources(valid))
    assert len(seen) > 8  # different seeds pick different images


def test_dropped_problems_travel_with_training(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=10)
    with path.open("a") as fh:
        fh.write("not json\n")
    data = read_jsonl(path, "image_classification", invalid_lines="drop")
    train, valid = split_validation(data, 0.2)
    assert len(train.dropped) == 1 and valid.dropped == []


@pytest.mark.parametrize("size", [0, 1, 1.5, -0.1, True, "0.2"])
def test_bad_sizes(tmp_path: Path, size) -> None:
    data = read_jsonl(make_classification_jsonl(tmp_path, n=10), "image_classification")
    with pytest.raises(DataError) as info:
        split_validation(data, size)
    assert info.value.problems[0].path == "validation_data_size"


def test_too_few_images_to_split(tmp_path: Path) -> None:
    data = read_jsonl(make_classification_jsonl(tmp_path, n=1), "image_classification")
    with pytest.raises(DataError, match="cannot split 1 image"):
        split_validation(data, 0.2)


def test_tiny_fraction_still_gives_one_validation_image(tmp_path: Path) -> None:
    data = read_jsonl(make_classification_jsonl(tmp_path, n=10), "image_classification")
    train, valid = split_validation(data, 0.01)
    assert (len(train), len(valid)) == (9, 1)
