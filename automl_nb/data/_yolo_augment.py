"""YOLO training augmentation as a dataset wrapper: mosaic, random affine, HSV jitter, flip.

Imports torch: only :mod:`automl_nb.training` imports this module.

:class:`YoloTrainDataset` wraps a :class:`~automl_nb.data._datasets.DetectionDataset` whose
transform only converts to float (``detection_transform(train=False)``) and yields samples in
the same format, each ``img_size`` x ``img_size``:

* mosaic (``apply_mosaic_for_yolo``, on by default): four images, each resized so its longest
  side is ``img_size``, tiled around a random centre of a ``2 img_size`` canvas;
  otherwise one image letterboxed into an ``img_size`` square;
* random affine: scale in ``1 +- scale``, translation up to ``translate`` of the size; the
  output is the ``img_size`` window at the canvas centre (grey where nothing is);
* HSV jitter: hue +-``hsv_h`` (fraction of the circle), saturation and value factors in
  ``1 +- hsv_s`` and ``1 +- hsv_v`` (one 3x3 colour matrix, see :func:`hsv_matrix`);
* horizontal flip with probability 0.5.

Boxes follow every step; boxes clipped to less than 2 px, or to less than 10% of their area,
are dropped (with their labels). ``augment=False`` (``apply_automl_train_augmentations:
false``) keeps only the letterbox. :meth:`YoloTrainDataset.set_epoch` turns mosaic off for the
last ``close_mosaic`` epochs, so the model finishes on whole images like those it is
evaluated on.
"""

from __future__ import annotations

import random
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

PAD = 114.0 / 255.0
# Decoded, resized training images kept in memory, per process (a DataLoader worker holds its
# own): about 2,000 images at 320 px. Mosaic reads four images per sample, and decoding and
# resizing them was most of a sample's cost.
CACHE_BYTES = 512 * 2**20


def _resize_longest(image: torch.Tensor, boxes: torch.Tensor, size: int) -> tuple[Any, Any]:
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    if (new_h, new_w) != (h, w):
        image = F.interpolate(image[None], size=(new_h, new_w), mode="bilinear")[0]
    return image, boxes * scale


def clip_and_filter(
    boxes: torch.Tensor, size: int, min_px: float = 2.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``boxes`` clipped to ``[0, size]`` and the mask of those still worth training on.

    A clipped box is kept when both sides exceed ``min_px``, at least 10% of its area is
    left, and its aspect ratio is below 20.
    """
    before = boxes
    clipped = boxes.clamp(0.0, float(size))
    w = clipped[:, 2] - clipped[:, 0]
    h = clipped[:, 3] - clipped[:, 1]
    area_before = ((before[:, 2] - before[:, 0]) * (before[:, 3] - before[:, 1])).clamp(min=1e-6)
    aspect = torch.max(w / h.clamp(min=1e-6), h / w.clamp(min=1e-6))
    keep = (w > min_px) & (h > min_px) & (w * h / area_before > 0.1) & (aspect < 20.0)
    return clipped, keep


# RGB <-> YIQ: hue is the angle of (I, Q), saturation its length, Y the brightness.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]
)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def hsv_matrix(hue: float, saturation: float, value: float) -> torch.Tensor:
    """One 3x3 RGB matrix: rotate the hue by ``hue`` turns, scale saturation and value.

    The hue rotation and saturation scaling act on the chroma plane of YIQ, so the whole
    jitter is a single matrix product per pixel instead of an RGB -> HSV round trip.
    """
    angle = 2.0 * torch.pi * hue
    c, s = torch.cos(torch.tensor(angle)), torch.sin(torch.tensor(angle))
    chroma = torch.tensor([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    chroma[1:, 1:] *= saturation
    return value * (_YIQ_TO_RGB @ chroma @ _RGB_TO_YIQ)


class YoloTrainDataset(Dataset):
    """The YOLO training pipeline over a float-only :class:`DetectionDataset`.

    Args:
        base: The detection dataset (training records; transform = float conversion only).
        img_size: Output side.
        mosaic: Use 4-image mosaics (``apply_mosaic_for_yolo``).
        augment: Apply affine, HSV and flip (``apply_automl_train_augmentations``).
        scale: Random scale range ``1 +- scale``.
        translate: Random translation, as a fraction of ``img_size``.
        hsv_h: Hue jitter, as a fraction of the hue circle.
        hsv_s: Saturation jitter factor range.
        hsv_v: Value (brightness) jitter factor range.
        flip: Horizontal flip probability.
        close_mosaic: Epochs at the end trained without mosaic (see :meth:`set_epoch`).
    """

    def __init__(
        self,
        base: Any,
        img_size: int,
        *,
        mosaic: bool = True,
        augment: bool = True,
        scale: float = 0.5,
        translate: float = 0.1,
        hsv_h: float = 0.015,
        hsv_s: float = 0.7,
        hsv_v: float = 0.4,
        flip: float = 0.5,
        close_mosaic: int = 2,
    ) -> None:
        self.base = base
        self.img_size = int(img_size)
        self.augment = bool(augment)
        self.use_mosaic = bool(mosaic) and self.augment
        self.scale, self.translate = float(scale), float(translate)
        self.hsv = (float(hsv_h), float(hsv_s), float(hsv_v))
        self.flip = float(flip)
        self.close_mosaic = int(close_mosaic)
        # Shared memory, so DataLoader worker processes see set_epoch too.
        self._mosaic_on = torch.ones(1, dtype=torch.int64).share_memory_()
        self.labels = getattr(base, "labels", None)
        self._cache: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
        self._cache_bytes = 0

    def __len__(self) -> int:
        return len(self.base)

    def set_epoch(self, epoch: int, num_epochs: int) -> None:
        """Mosaic off for the last ``close_mosaic`` epochs (1-based ``epoch``)."""
        last = num_epochs - self.close_mosaic
        self._mosaic_on.fill_(int(num_epochs <= self.close_mosaic or epoch <= last))

    @property
    def mosaic(self) -> bool:
        """Whether the next samples are mosaics."""
        return self.use_mosaic and bool(self._mosaic_on.item())

    def _load(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Image ``index`` resized to ``img_size`` (longest side), from the cache when there."""
        cached = self._cache.get(index)
        if cached is None:
            image, target = self.base[index]
            image, boxes = _resize_longest(
                image, target["boxes"].float().reshape(-1, 4), self.img_size
            )
            # uint8, like the decoded file: a quarter of the memory of floats.
            cached = ((image * 255.0).round().to(torch.uint8), boxes, target["labels"])
            if self._cache_bytes + cached[0].numel() <= CACHE_BYTES:
                self._cache[index] = cached
                self._cache_bytes += cached[0].numel()
        image8, boxes, labels = cached
        return image8.float() / 255.0, {"boxes": boxes.clone(), "labels": labels.clone()}

    def _mosaic_canvas(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = self.img_size
        canvas = torch.full((3, 2 * s, 2 * s), PAD)
        xc = int(random.uniform(0.5 * s, 1.5 * s))
        yc = int(random.uniform(0.5 * s, 1.5 * s))
        picks = [index] + [random.randrange(len(self.base)) for _ in range(3)]
        all_boxes, all_labels = [], []
        for k, pick in enumerate(picks):
            image, target = self._load(pick)
            h, w = image.shape[-2:]
            # Quadrant k: the image's inner corner sits at the mosaic centre (xc, yc).
            x0 = xc - w if k in (0, 2) else xc
            y0 = yc - h if k in (0, 1) else yc
            cx0, cy0 = max(x0, 0), max(y0, 0)
            cx1, cy1 = min(x0 + w, 2 * s), min(y0 + h, 2 * s)
            canvas[:, cy0:cy1, cx0:cx1] = image[:, cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
            boxes = target["boxes"] + torch.tensor([x0, y0, x0, y0], dtype=torch.float32)
            all_boxes.append(boxes)
            all_labels.append(target["labels"])
        boxes = torch.cat(all_boxes).clamp(0.0, 2.0 * s)
        return canvas, boxes, torch.cat(all_labels)

    def _single_canvas(self, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s = self.img_size
        image, target = self._load(index)
        h, w = image.shape[-2:]
        canvas = torch.full((3, s, s), PAD)
        x0, y0 = (s - w) // 2, (s - h) // 2
        canvas[:, y0 : y0 + h, x0 : x0 + w] = image
        shift = torch.tensor([x0, y0, x0, y0], dtype=torch.float32)
        return canvas, target["boxes"] + shift, target["labels"]

    def _affine(
        self, canvas: torch.Tensor, boxes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Scale and translate about the canvas centre into an ``img_size`` square."""
        s = self.img_size
        ch, cw = canvas.shape[-2:]
        zoom = random.uniform(1.0 - self.scale, 1.0 + self.scale) if self.augment else 1.0
        tx = random.uniform(-self.translate, self.translate) * s if self.augment else 0.0
        ty = random.uniform(-self.translate, self.translate) * s if self.augment else 0.0
        if zoom == 1.0 and tx == 0.0 and ty == 0.0 and (ch, cw) == (s, s):
            return canvas, boxes
        # Output pixel p shows canvas point (p - s/2 - t) / zoom + canvas centre.
        theta = torch.tensor(
            [
                [s / (zoom * cw), 0.0, -2.0 * tx / (zoom * cw)],
                [0.0, s / (zoom * ch), -2.0 * ty / (zoom * ch)],
            ],
            dtype=torch.float32,
        )
        grid = F.affine_grid(theta[None], [1, 3, s, s], align_corners=False)
        out = F.grid_sample((canvas - PAD)[None], grid, mode="bilinear", align_corners=False)
        centre = torch.tensor([cw / 2, ch / 2, cw / 2, ch / 2], dtype=torch.float32)
        shift = torch.tensor([s / 2 + tx, s / 2 + ty, s / 2 + tx, s / 2 + ty])
        return out[0] + PAD, (boxes - centre) * zoom + shift

    def _colour(self, image: torch.Tensor) -> torch.Tensor:
        hue, sat, val = self.hsv
        matrix = hsv_matrix(
            random.uniform(-hue, hue),
            random.uniform(1.0 - sat, 1.0 + sat),
            random.uniform(1.0 - val, 1.0 + val),
        )
        return torch.einsum("ij,jhw->ihw", matrix, image).clamp(0.0, 1.0)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.mosaic:
            canvas, boxes, labels = self._mosaic_canvas(index)
        else:
            canvas, boxes, labels = self._single_canvas(index)
        image, boxes = self._affine(canvas, boxes)
        boxes, keep = clip_and_filter(boxes, self.img_size)
        boxes, labels = boxes[keep], labels[keep]
        if self.augment:
            image = self._colour(image)
            if random.random() < self.flip:
                image = image.flip(-1)
                boxes = torch.stack(
                    [
                        self.img_size - boxes[:, 2],
                        boxes[:, 1],
                        self.img_size - boxes[:, 0],
                        boxes[:, 3],
                    ],
                    dim=1,
                )
        target = {
            "boxes": boxes.reshape(-1, 4),
            "labels": labels.reshape(-1).long(),
            "iscrowd": torch.zeros(len(labels), dtype=torch.int64),
            "image_id": torch.tensor(index, dtype=torch.int64),
        }
        return image.contiguous(), target


def yolo_datasets(
    train: Any, valid: Any, *, cfg: Any, labels: list[str], augment: bool
) -> tuple[YoloTrainDataset, Any]:
    """The training and validation datasets of a ``yolov5`` trial.

    Training: :class:`YoloTrainDataset` at ``image_size`` (tiles of ``tile_grid_size`` are
    samples too). Validation: whole images unchanged; the model letterboxes them itself.
    """
    from automl_nb.data._datasets import DetectionDataset
    from automl_nb.data._transforms import detection_transform

    base = DetectionDataset(
        train,
        detection_transform(train=False),
        labels=labels,
        train=True,
        tile_grid=cfg.tile_grid_size,
        tile_overlap_ratio=cfg.tile_overlap_ratio,
    )
    mosaic = cfg.advanced_settings.apply_mosaic_for_yolo
    train_ds = YoloTrainDataset(base, cfg.image_size, mosaic=mosaic, augment=augment)
    valid_ds = DetectionDataset(valid, detection_transform(train=False), labels=labels)
    return train_ds, valid_ds
