"""Tiling for small objects: split an image into an overlapping grid of tiles.

``tile_grid_size`` is ``"COLSxROWS"`` (``'3x2'``: 3 tiles across, 2 down; the older
``"(3, 2)"`` form is accepted too) and ``tile_overlap_ratio`` is the fraction of a tile that
overlaps its neighbour. Training uses every tile *and* the whole image as samples, so the
model sees objects at both scales; a box is kept in a tile, clipped to it, when at least
``min_visible`` of its area lies inside the tile.

Pure Python (no torch) so inference can reuse the tile geometry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

Tile = tuple[float, float, float, float]


def parse_tile_grid_size(value: str | Sequence[int] | None) -> tuple[int, int] | None:
    """Parse ``tile_grid_size`` into ``(cols, rows)``; ``None`` / empty means tiling off.

    Raises:
        ConfigError: The value is not two positive integers.
    """
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, str):
        numbers = re.findall(r"\d+", value)
    else:
        numbers = [str(v) for v in value]
    if len(numbers) != 2 or not all(int(n) > 0 for n in numbers):
        raise ConfigError(
            Problem(
                "must be two positive integers such as '3x2'",
                path="training_parameters.tile_grid_size",
                value=repr(value),
            )
        )
    cols, rows = (int(n) for n in numbers)
    return cols, rows


def compute_tiles(
    width: float, height: float, grid: tuple[int, int], overlap_ratio: float = 0.25
) -> list[Tile]:
    """The tile rectangles ``(x0, y0, x1, y1)`` in pixels covering a ``width`` x ``height`` image.

    A tile's width ``w`` satisfies ``cols * w - (cols - 1) * overlap * w = width`` (the same
    for heights), so the tiles cover the image exactly with the requested overlap.
    """
    cols, rows = grid
    if not 0.0 <= overlap_ratio < 1.0:
        raise ConfigError(
            Problem(
                "must be in [0, 1)",
                path="training_parameters.tile_overlap_ratio",
                value=repr(overlap_ratio),
            )
        )
    tile_w = width / (cols - (cols - 1) * overlap_ratio)
    tile_h = height / (rows - (rows - 1) * overlap_ratio)
    step_x, step_y = tile_w * (1.0 - overlap_ratio), tile_h * (1.0 - overlap_ratio)
    tiles = []
    for r in range(rows):
        for c in range(cols):
            x0, y0 = c * step_x, r * step_y
            tiles.append((x0, y0, min(x0 + tile_w, width), min(y0 + tile_h, height)))
    return tiles


def clip_boxes_to_tile(
    boxes: Sequence[Sequence[float]], tile: Tile, *, min_visible: float = 0.25
) -> tuple[list[tuple[float, float, float, float]], list[int]]:
    """Clip pixel boxes to ``tile`` and shift them into tile coordinates.

    Args:
        boxes: ``(x0, y0, x1, y1)`` pixel boxes of the whole image.
        tile: The tile rectangle in image pixels.
        min_visible: Keep a box only when this fraction of its area lies inside the tile.

    Returns:
        ``(clipped_boxes, kept_indices)``: boxes relative to the tile's top-left corner and the
        indices of the input boxes they came from.
    """
    tx0, ty0, tx1, ty1 = tile
    out: list[tuple[float, float, float, float]] = []
    kept: list[int] = []
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        cx0, cy0 = max(x0, tx0), max(y0, ty0)
        cx1, cy1 = min(x1, tx1), min(y1, ty1)
        if cx1 - cx0 < 1.0 or cy1 - cy0 < 1.0:
            continue
        area = max((x1 - x0) * (y1 - y0), 1e-9)
        if (cx1 - cx0) * (cy1 - cy0) / area < min_visible:
            continue
        out.append((cx0 - tx0, cy0 - ty0, cx1 - tx0, cy1 - ty0))
        kept.append(i)
    return out, kept
