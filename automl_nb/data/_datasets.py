"""torch ``Dataset`` views of :class:`~automl_nb.data.LabeledImages` for training and evaluation.

Imports torch: only :mod:`automl_nb.training` imports this module, never ``automl_nb.data``'s
package ``__init__``.

* :class:`ClassificationDataset` yields ``(image_tensor, target)``; the target is the class index
  (multi-class) or a float multi-hot vector (multi-label).
* :class:`DetectionDataset` yields ``(image_tensor, target_dict)`` in the torchvision detection
  format: ``boxes`` (XYXY pixels), ``labels`` (1..C; 0 is the background), ``iscrowd``,
  ``image_id`` and, for instance segmentation, ``masks`` (uint8 ``[N, H, W]``) rasterised from
  the polygons at the image's size. With tiling, every tile of every image is a sample besides
  the whole image.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import torch
from PIL import Image
from PIL import ImageDraw
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.data._tiling import clip_boxes_to_tile
from automl_nb.data._tiling import compute_tiles
from automl_nb.tasks import Task


def _open(record: ImageRecord) -> Image.Image:
    # Imported here so this module does not depend on the reader package at import time.
    from automl_nb.data import open_image

    return open_image(record.path)


class ClassificationDataset(Dataset):
    """Multi-class or multi-label classification samples.

    Args:
        images: The labelled images (task ``image_classification`` or ``..._multilabel``).
        transform: PIL image -> tensor (see :func:`automl_nb.data._transforms.classification_transform`).
        labels: Class order; defaults to ``images.labels``. Pass the training labels to the
            validation set so both share one index order.
    """

    def __init__(
        self,
        images: LabeledImages,
        transform: Callable[[Image.Image], torch.Tensor],
        *,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.records = list(images.records)
        self.labels = list(labels if labels is not None else images.labels)
        self.multilabel = images.task == Task.CLASSIFICATION_MULTILABEL
        self.transform = transform
        self._index = {name: i for i, name in enumerate(self.labels)}

    def __len__(self) -> int:
        return len(self.records)

    def target(self, index: int) -> int | torch.Tensor:
        """The target of sample ``index`` without reading its image."""
        label = self.records[index].label
        if self.multilabel:
            hot = torch.zeros(len(self.labels), dtype=torch.float32)
            for name in label:
                hot[self._index[str(name)]] = 1.0
            return hot
        return self._index[str(label)]

    def class_counts(self) -> list[int]:
        """How many samples carry each class (for ``weighted_loss``)."""
        counts = [0] * len(self.labels)
        for record in self.records:
            names = (record.label,) if isinstance(record.label, str) else record.label
            for name in names:
                counts[self._index[name]] += 1  # type: ignore[index]
        return counts

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int | torch.Tensor]:
        image = _open(self.records[index])
        return self.transform(image), self.target(index)


def rasterize_polygons(
    polygon: Sequence[Sequence[float]], width: int, height: int
) -> torch.Tensor:
    """A uint8 ``[H, W]`` mask of one object from its normalised polygon segments."""
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for segment in polygon:
        points = [
            (segment[j] * width, segment[j + 1] * height) for j in range(0, len(segment) - 1, 2)
        ]
        if len(points) >= 3:
            draw.polygon(points, fill=1, outline=1)
    return F.pil_to_tensor(canvas)[0]


class DetectionDataset(Dataset):
    """Object-detection or instance-segmentation samples in the torchvision format.

    Args:
        images: The labelled images (task ``image_object_detection`` or
            ``image_instance_segmentation``).
        transform: ``(image, target) -> (image, target)`` (see
            :func:`automl_nb.data._transforms.detection_transform`).
        labels: Class order; label id ``i + 1`` is ``labels[i]``. Defaults to ``images.labels``.
        masks: Rasterise polygons into ``masks`` (instance segmentation).
        train: Drop crowd objects (they carry no training signal); evaluation keeps them with
            ``iscrowd = 1`` so the metrics can ignore them.
        tile_grid: ``(cols, rows)`` to add every tile of every image as a sample (training).
        tile_overlap_ratio: Overlap between neighbouring tiles.
    """

    def __init__(
        self,
        images: LabeledImages,
        transform: Callable[..., Any],
        *,
        labels: Sequence[str] | None = None,
        masks: bool = False,
        train: bool = False,
        tile_grid: tuple[int, int] | None = None,
        tile_overlap_ratio: float = 0.25,
    ) -> None:
        self.records = list(images.records)
        self.labels = list(labels if labels is not None else images.labels)
        self.masks = masks
        self.train = train
        self.transform = transform
        self._index = {name: i + 1 for i, name in enumerate(self.labels)}
        # Tiles in normalised coordinates, scaled to pixels when the image is read.
        tiles: list[tuple[float, float, float, float] | None] = [None]
        if tile_grid is not None:
            tiles += compute_tiles(1.0, 1.0, tile_grid, tile_overlap_ratio)
        self.items = [(i, tile) for i in range(len(self.records)) for tile in tiles]

    def __len__(self) -> int:
        return len(self.items)

    def _objects(self, record: ImageRecord) -> list[ObjectAnnotation]:
        objects = [o for o in record.label if isinstance(o, ObjectAnnotation)]
        if self.train:
            objects = [o for o in objects if not o.is_crowd]
        return objects

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        record_index, tile = self.items[index]
        record = self.records[record_index]
        pil = _open(record)
        width, height = pil.size
        objects = self._objects(record)
        boxes = [
            (o.top_x * width, o.top_y * height, o.bottom_x * width, o.bottom_y * height)
            for o in objects
        ]
        labels = [self._index[o.label] for o in objects]
        crowd = [int(o.is_crowd) for o in objects]
        masks = None
        if self.masks:
            masks = [
                rasterize_polygons(o.polygon, width, height)
                if o.polygon
                else rasterize_polygons(
                    [
                        (
                            o.top_x,
                            o.top_y,
                            o.bottom_x,
                            o.top_y,
                            o.bottom_x,
                            o.bottom_y,
                            o.top_x,
                            o.bottom_y,
                        )
                    ],
                    width,
                    height,
                )
                for o in objects
            ]
        image = F.pil_to_tensor(pil)
        if tile is not None:
            x0, y0 = round(tile[0] * width), round(tile[1] * height)
            x1, y1 = round(tile[2] * width), round(tile[3] * height)
            boxes, kept = clip_boxes_to_tile(boxes, (x0, y0, x1, y1))
            labels = [labels[k] for k in kept]
            crowd = [crowd[k] for k in kept]
            if masks is not None:
                masks = [masks[k][y0:y1, x0:x1] for k in kept]
            image = image[:, y0:y1, x0:x1]
            height, width = y1 - y0, x1 - x0
        target: dict[str, Any] = {
            "boxes": tv_tensors.BoundingBoxes(
                torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                format="XYXY",
                canvas_size=(height, width),
            ),
            "labels": torch.tensor(labels, dtype=torch.int64),
            "iscrowd": torch.tensor(crowd, dtype=torch.int64),
        }
        if masks is not None:
            stacked = (
                torch.stack(masks) if masks else torch.zeros((0, height, width), dtype=torch.uint8)
            )
            target["masks"] = tv_tensors.Mask(stacked)
        image, target = self.transform(tv_tensors.Image(image), target)
        # Plain tensors from here on: the models and metrics need no tv_tensor semantics.
        out = {k: v.as_subclass(torch.Tensor) for k, v in target.items()}
        out["image_id"] = torch.tensor(index, dtype=torch.int64)
        return image.as_subclass(torch.Tensor), out


def detection_collate(batch: Sequence[tuple[Any, Any]]) -> tuple[list[Any], list[Any]]:
    """Collate detection samples into ``(list_of_images, list_of_targets)``."""
    images, targets = zip(*batch)
    return list(images), list(targets)
