"""Torch datasets and transforms: targets, masks from polygons, augmentation switch, tiling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from automl_nb.data import read_jsonl
from automl_nb.data._datasets import ClassificationDataset
from automl_nb.data._datasets import DetectionDataset
from automl_nb.data._datasets import rasterize_polygons
from automl_nb.data._tiling import clip_boxes_to_tile
from automl_nb.data._tiling import compute_tiles
from automl_nb.data._tiling import parse_tile_grid_size
from automl_nb.data._transforms import classification_transform
from automl_nb.data._transforms import detection_transform
from automl_nb.errors import ConfigError
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.datasets import make_segmentation_jsonl

MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


def test_multiclass_and_multilabel_targets(tmp_path: Path) -> None:
    path = make_classification_jsonl(
        tmp_path / "ml", n=6, classes=("a", "b", "c"), multilabel=True
    )
    data = read_jsonl(path, "image_classification_multilabel")
    transform = classification_transform(train=True, mean=MEAN, std=STD, training_crop_size=24)
    ds = ClassificationDataset(data, transform)
    image, target = ds[0]
    assert image.shape == (3, 24, 24) and image.dtype == torch.float32
    expected = [1.0 if name in data[0].label else 0.0 for name in ds.labels]
    assert target.tolist() == expected
    assert sum(ds.class_counts()) == sum(len(r.label) for r in data)

    path = make_classification_jsonl(tmp_path / "mc", n=4, classes=("a", "b"))
    data = read_jsonl(path, "image_classification")
    ds = ClassificationDataset(data, transform, labels=["a", "b"])
    assert [ds.target(i) for i in range(4)] == [0, 1, 0, 1]


def test_validation_transform_resizes_then_center_crops_and_normalises(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=2, size=40, classes=("a", "b"))
    data = read_jsonl(path, "image_classification")
    transform = classification_transform(
        train=False, mean=MEAN, std=STD, validation_resize_size=36, validation_crop_size=32
    )
    image, _ = ClassificationDataset(data, transform)[0]
    assert image.shape == (3, 32, 32)
    assert image.min() < 0  # normalised with mean 0.5


def test_no_augmentation_is_deterministic(tmp_path: Path) -> None:
    path = make_classification_jsonl(tmp_path, n=2, size=40, classes=("a", "b"))
    data = read_jsonl(path, "image_classification")
    plain = classification_transform(
        train=True, augment=False, mean=MEAN, std=STD, training_crop_size=32
    )
    augmented = classification_transform(train=True, mean=MEAN, std=STD, training_crop_size=32)
    ds_plain, ds_aug = ClassificationDataset(data, plain), ClassificationDataset(data, augmented)
    assert torch.equal(ds_plain[0][0], ds_plain[0][0])
    torch.manual_seed(0)
    draws = [ds_aug[0][0] for _ in range(4)]
    assert any(not torch.equal(draws[0], d) for d in draws[1:])


def test_rasterised_polygon_covers_its_area() -> None:
    # A square over the left half: half of a 20 x 10 canvas is 100 pixels (+ the edge row).
    mask = rasterize_polygons([(0.0, 0.0, 0.5, 0.0, 0.5, 1.0, 0.0, 1.0)], 20, 10)
    assert mask.shape == (10, 20) and mask.dtype == torch.uint8
    assert 100 <= int(mask.sum()) <= 120
    assert mask[:, 15:].sum() == 0


def test_segmentation_samples_have_matching_boxes_labels_and_masks(tmp_path: Path) -> None:
    path = make_segmentation_jsonl(tmp_path, n=6, size=48, background_images=1)
    data = read_jsonl(path, "image_instance_segmentation")
    ds = DetectionDataset(data, detection_transform(train=True), masks=True, train=True)
    torch.manual_seed(0)
    for index in range(len(ds)):
        image, target = ds[index]
        n = target["boxes"].shape[0]
        assert target["labels"].shape == (n,) and target["masks"].shape[0] == n
        assert target["masks"].shape[1:] == image.shape[1:]
        assert (target["labels"] >= 1).all()  # 0 is the background
        if n:
            widths = target["boxes"][:, 2] - target["boxes"][:, 0]
            assert (widths >= 1).all()
    val = DetectionDataset(data, detection_transform(train=False), masks=True)
    image, target = val[0]
    obj = data[0].label[0]
    assert target["boxes"][0].tolist() == pytest.approx(
        [obj.top_x * 48, obj.top_y * 48, obj.bottom_x * 48, obj.bottom_y * 48], abs=1e-3
    )
    assert target["masks"][0].sum() > 0
    assert image.max() <= 1.0


def test_tile_grid_parsing_and_geometry() -> None:
    assert parse_tile_grid_size("3x2") == (3, 2)
    assert parse_tile_grid_size("(3, 2)") == (3, 2)
    assert parse_tile_grid_size((2, 2)) == (2, 2)
    assert parse_tile_grid_size(None) is None
    with pytest.raises(ConfigError):
        parse_tile_grid_size("3")
    tiles = compute_tiles(100, 50, (2, 1), 0.25)
    assert len(tiles) == 2
    (a0, _, a1, _), (b0, _, b1, _) = tiles
    assert a0 == 0 and b1 == pytest.approx(100)
    assert (a1 - b0) == pytest.approx(0.25 * (a1 - a0))


def test_boxes_are_clipped_to_tiles_and_mostly_outside_boxes_dropped() -> None:
    boxes = [(10, 10, 30, 30), (45, 10, 70, 30), (90, 0, 100, 10)]
    clipped, kept = clip_boxes_to_tile(boxes, (0, 0, 50, 50))
    assert kept == [0]  # box 1 has only 5/25 of its width inside
    assert clipped == [(10, 10, 30, 30)]
    clipped, kept = clip_boxes_to_tile(boxes, (40, 0, 100, 50))
    assert kept == [1, 2]
    assert clipped[0] == (5, 10, 30, 30)


def test_tiled_dataset_adds_every_tile_as_a_sample(tmp_path: Path) -> None:
    path = make_segmentation_jsonl(tmp_path, n=3, size=48)
    data = read_jsonl(path, "image_instance_segmentation")
    ds = DetectionDataset(
        data, detection_transform(train=False), masks=True, train=True, tile_grid=(2, 2)
    )
    assert len(ds) == 3 * 5
    image, target = ds[1]  # the first tile of the first image
    assert image.shape[1] < 48 and image.shape[2] < 48
    assert target["masks"].shape[1:] == image.shape[1:]
