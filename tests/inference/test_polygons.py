"""Mask to polygon conversion on hand-drawn masks."""

from __future__ import annotations

import numpy as np
import pytest

from automl_nb.inference import mask_to_polygons
from automl_nb.inference._polygons import normalise_polygons


def _points(segment: list[float]) -> np.ndarray:
    return np.asarray(segment, dtype=float).reshape(-1, 2)


def _area(segment: list[float]) -> float:
    xy = _points(segment)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def test_square_gives_one_polygon_on_its_pixel_edges():
    mask = np.zeros((40, 50), dtype=bool)
    mask[10:20, 5:25] = True  # rows 10..19, columns 5..24
    polygons = mask_to_polygons(mask)
    assert len(polygons) == 1
    xy = _points(polygons[0])
    assert xy[:, 0].min() == pytest.approx(5.0)
    assert xy[:, 0].max() == pytest.approx(25.0)
    assert xy[:, 1].min() == pytest.approx(10.0)
    assert xy[:, 1].max() == pytest.approx(20.0)
    # Collinear points are dropped: a rectangle needs only its (slightly cut) corners.
    assert len(xy) <= 8
    assert _area(polygons[0]) == pytest.approx(200.0, abs=2.0)


def test_two_blobs_give_two_segments_largest_first():
    mask = np.zeros((60, 60), dtype=np.float32)
    mask[5:15, 5:15] = 0.9  # 100 px
    mask[30:50, 30:50] = 0.8  # 400 px
    polygons = mask_to_polygons(mask, threshold=0.5)
    assert len(polygons) == 2
    assert _area(polygons[0]) > _area(polygons[1])
    assert _points(polygons[1])[:, 0].max() <= 15.0


def test_hole_is_filled_outer_contour_only():
    mask = np.zeros((60, 60), dtype=bool)
    mask[10:50, 10:50] = True
    mask[20:40, 20:40] = False
    polygons = mask_to_polygons(mask)
    assert len(polygons) == 1
    assert _area(polygons[0]) == pytest.approx(1600.0, abs=3.0)


def test_threshold_applies_to_soft_masks():
    mask = np.zeros((20, 20), dtype=np.float32)
    mask[2:8, 2:8] = 0.4
    mask[10:18, 10:18] = 0.7
    assert len(mask_to_polygons(mask, threshold=0.5)) == 1
    assert len(mask_to_polygons(mask, threshold=0.3)) == 2
    assert mask_to_polygons(mask, threshold=0.9) == []


@pytest.mark.parametrize("cap", [100, 12, 4, 3])
def test_point_cap_is_honoured_on_a_circle(cap):
    yy, xx = np.mgrid[:200, :200]
    mask = (xx - 100) ** 2 + (yy - 100) ** 2 < 80**2
    (segment,) = mask_to_polygons(mask, max_points=cap)
    assert len(segment) % 2 == 0
    assert 3 <= len(segment) // 2 <= cap
    # The simplified ring still spans the circle.
    xy = _points(segment)
    assert xy[:, 0].max() - xy[:, 0].min() > 80


def test_single_pixel_and_border_touching_masks():
    mask = np.zeros((5, 5), dtype=bool)
    mask[0, 0] = True
    (segment,) = mask_to_polygons(mask)
    assert _points(segment).min() >= 0.0
    full = np.ones((8, 6), dtype=bool)
    (segment,) = mask_to_polygons(full)
    xy = _points(segment)
    assert xy[:, 0].max() == pytest.approx(6.0)
    assert xy[:, 1].max() == pytest.approx(8.0)


def test_normalise_polygons_shifts_and_clips():
    out = normalise_polygons([[0.0, 0.0, 10.0, 0.0, 10.0, 30.0]], 20, 20, offset=(5.0, -5.0))
    assert out == [[0.25, 0.0, 0.75, 0.0, 0.75, 1.0]]


def test_rejects_non_2d_masks():
    with pytest.raises(ValueError, match="2-D"):
        mask_to_polygons(np.zeros((2, 3, 4)))
