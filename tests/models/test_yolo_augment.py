"""yolov5's training pipeline: mosaic / affine / flip keep every box on its object."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from automl_nb.config import load_job
from automl_nb.data import load_job_data
from automl_nb.data._datasets import DetectionDataset
from automl_nb.data._transforms import detection_transform
from automl_nb.data._yolo_augment import YoloTrainDataset
from automl_nb.data._yolo_augment import clip_and_filter
from automl_nb.data._yolo_augment import hsv_matrix
from automl_nb.testing.datasets import make_detection_jsonl

SIZE = 96


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> DetectionDataset:
    """One filled rectangle per image, in its class colour, on a noisy background."""
    root: Path = tmp_path_factory.mktemp("yolo_aug")
    make_detection_jsonl(root, n=10, size=80, classes=("a", "b", "c"), max_objects=1)
    spec = load_job(
        {
            "task": "image_object_detection",
            "target_column_name": "label",
            "training_data": {"path": str(root / "train.jsonl"), "type": "uri_file"},
            "validation_data": {"path": str(root / "train.jsonl"), "type": "uri_file"},
        }
    )
    train, _ = load_job_data(spec)
    return DetectionDataset(train, detection_transform(train=False), train=True)


def _class_colours(base: DetectionDataset) -> dict[int, torch.Tensor]:
    colours = {}
    for i in range(len(base)):
        image, target = base[i]
        x0, y0, x1, y1 = target["boxes"][0].int().tolist()
        colours[int(target["labels"][0])] = image[:, (y0 + y1) // 2, (x0 + x1) // 2]
    return colours


@pytest.mark.parametrize("mosaic", [True, False])
def test_boxes_stay_valid_and_on_their_objects(base, mosaic):
    colours = _class_colours(base)
    ds = YoloTrainDataset(base, SIZE, mosaic=mosaic, hsv_h=0.0, hsv_s=0.0, hsv_v=0.0)
    assert ds.mosaic is mosaic and len(ds) == len(base)
    torch.manual_seed(0)
    checked = 0
    for i in range(len(ds)):
        image, target = ds[i]
        assert image.shape == (3, SIZE, SIZE) and image.dtype == torch.float32
        assert float(image.min()) >= 0.0 and float(image.max()) <= 1.0
        boxes, labels = target["boxes"], target["labels"]
        assert boxes.shape == (len(labels), 4) and labels.dtype == torch.int64
        assert set(target) == {"boxes", "labels", "iscrowd", "image_id"}
        assert bool((boxes >= 0).all() and (boxes <= SIZE).all())
        assert bool(
            (boxes[:, 2] - boxes[:, 0] > 2).all() and (boxes[:, 3] - boxes[:, 1] > 2).all()
        )
        for box, label in zip(boxes.tolist(), labels.tolist()):
            cx, cy = int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2)
            # The box centre shows the object (objects of a mosaic never overlap).
            assert torch.allclose(image[:, cy, cx], colours[label], atol=0.08)
            checked += 1
    assert checked >= len(ds) // 2


def test_set_epoch_turns_mosaic_off_for_the_last_epochs(base):
    ds = YoloTrainDataset(base, SIZE, close_mosaic=2)
    ds.set_epoch(8, 10)
    assert ds.mosaic
    ds.set_epoch(9, 10)
    assert not ds.mosaic
    ds.set_epoch(1, 2)  # too few epochs to close: mosaic throughout
    assert ds.mosaic
    assert not YoloTrainDataset(base, SIZE, augment=False).mosaic


def test_without_augmentation_the_sample_is_the_letterboxed_image(base):
    ds = YoloTrainDataset(base, SIZE, augment=False)
    image, target = ds[0]
    original, original_target = base[0]
    scale = SIZE / max(original.shape[-2:])
    assert torch.allclose(target["boxes"], original_target["boxes"] * scale, atol=1e-4)


def test_clip_and_filter():
    boxes = torch.tensor([[-10.0, 10.0, 20.0, 30.0], [-50.0, 0.0, 1.0, 40.0], [5, 5, 6, 50]])
    clipped, keep = clip_and_filter(boxes, 32)
    assert clipped[0].tolist() == [0.0, 10.0, 20.0, 30.0]
    assert keep.tolist() == [True, False, False]


def test_hsv_matrix():
    assert torch.allclose(hsv_matrix(0.0, 1.0, 1.0), torch.eye(3), atol=1e-5)
    grey = torch.tensor([0.5, 0.5, 0.5])
    assert torch.allclose(hsv_matrix(0.3, 1.5, 1.0) @ grey, grey, atol=1e-5)
    red = torch.tensor([0.8, 0.1, 0.1])
    assert torch.allclose(
        hsv_matrix(0.0, 0.0, 1.0) @ red,
        (red * torch.tensor([0.299, 0.587, 0.114])).sum().expand(3),
        atol=1e-4,
    )
    assert not torch.allclose(hsv_matrix(1 / 3, 1.0, 1.0) @ red, red, atol=0.1)


class _Counting(torch.utils.data.Dataset):
    def __init__(self, base: DetectionDataset) -> None:
        self.base, self.reads = base, 0

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int):
        self.reads += 1
        return self.base[index]


def test_each_image_is_decoded_once_and_served_from_memory_after(base):
    counting = _Counting(base)
    ds = YoloTrainDataset(counting, SIZE, augment=False)
    first, first_target = ds[3]
    first_target["boxes"] += 1000.0  # a caller changing its sample must not change the cache
    again, again_target = ds[3]
    assert counting.reads == 1
    assert torch.equal(first, again)
    fresh, fresh_target = YoloTrainDataset(base, SIZE, augment=False)[3]
    assert torch.allclose(again, fresh, atol=1 / 255 + 1e-6)  # kept as uint8, like the file
    assert torch.equal(again_target["boxes"], fresh_target["boxes"])
