"""How much attribution falls inside labelled boxes: a pointing-game score for explanations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from automl_nb.explain._visualize import top_mask

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class PointingScore:
    """Attribution inside the boxes against the boxes' area.

    Attributes:
        mass_share: Share of the attribution magnitude (``|a|`` summed over channels) inside
            the boxes.
        area_share: Share of the crop the boxes cover; a map with no information scores this.
        hit: Whether the single most-attributed pixel is inside a box (the pointing game).
        top_share: Share of the top 30% pixels (the visualization's last panel) inside the
            boxes: the measure that suits XRAI, whose map ranks every region.
    """

    mass_share: float
    area_share: float
    hit: bool
    top_share: float = float("nan")

    @property
    def lift(self) -> float:
        """``mass_share / area_share``: 1 means no better than uniform."""
        return self.mass_share / self.area_share if self.area_share else float("nan")


def boxes_in_crop(
    boxes: Sequence[Box], *, width: int, height: int, resize_size: int, crop_size: int
) -> list[Box]:
    """Map normalised boxes ``(top_x, top_y, bottom_x, bottom_y)`` of a ``width x height``
    image into pixel boxes of its validation crop (shorter side -> ``resize_size``, centre
    crop ``crop_size``), clipped to the crop."""
    # torchvision's Resize(int): the long side is truncated, not rounded.
    if width <= height:
        new_w, new_h = resize_size, int(resize_size * height / width)
    else:
        new_w, new_h = int(resize_size * width / height), resize_size
    left = int(round((new_w - crop_size) / 2.0))
    top = int(round((new_h - crop_size) / 2.0))
    out = []
    for x0, y0, x1, y1 in boxes:
        px0 = float(np.clip(x0 * new_w - left, 0, crop_size))
        px1 = float(np.clip(x1 * new_w - left, 0, crop_size))
        py0 = float(np.clip(y0 * new_h - top, 0, crop_size))
        py1 = float(np.clip(y1 * new_h - top, 0, crop_size))
        if px1 > px0 and py1 > py0:
            out.append((px0, py0, px1, py1))
    return out


def pointing_score(attributions: np.ndarray, pixel_boxes: Sequence[Box]) -> PointingScore:
    """Score ``[3, H, W]`` attributions against pixel boxes ``(x0, y0, x1, y1)`` in the crop."""
    magnitude = np.abs(np.asarray(attributions, dtype=np.float64)).sum(axis=0)
    inside = np.zeros(magnitude.shape, dtype=bool)
    for x0, y0, x1, y1 in pixel_boxes:
        inside[int(np.floor(y0)) : int(np.ceil(y1)), int(np.floor(x0)) : int(np.ceil(x1))] = True
    total = magnitude.sum()
    mass = float(magnitude[inside].sum() / total) if total > 0 else float("nan")
    peak = np.unravel_index(int(np.argmax(magnitude)), magnitude.shape)
    top = top_mask(magnitude)
    return PointingScore(
        mass_share=mass,
        area_share=float(inside.mean()),
        hit=bool(inside[peak]),
        top_share=float(inside[top].mean()),
    )
