"""Mask to polygon conversion for instance-segmentation output.

Azure returns one polygon per connected part of an object's mask, each a flattened
``[x1, y1, x2, y2, ...]`` list normalised to the image size, simplified to at most
``max_number_of_polygon_points`` points. Holes are filled: the flat polygon lists of the
schema cannot mark a ring as a hole, and a hole drawn as its own polygon would read as a
second object.
"""

from __future__ import annotations

import numpy as np


def _drop_collinear(ring: np.ndarray) -> np.ndarray:
    """The ring without points that lie on the line through their neighbours (pixel-staircase
    corners stay). Vectorised: the Douglas-Peucker pass is only needed when too many are left.
    """
    before = np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0)
    d1, d2 = ring - before, after - ring
    cross = d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]
    keep = np.abs(cross) > 1e-9
    return ring[keep] if keep.sum() >= 3 else ring


def _simplify(contour: np.ndarray, max_points: int) -> np.ndarray:
    """Douglas-Peucker with a growing tolerance, then even subsampling as a last resort."""
    from skimage.measure import approximate_polygon

    # find_contours closes the ring by repeating the first point; work on the open ring.
    if len(contour) > 1 and np.allclose(contour[0], contour[-1]):
        contour = contour[:-1]
    if len(contour) <= min(4, max_points):  # single pixels and specks: nothing to simplify
        return contour
    simplified = _drop_collinear(contour)
    closed = np.vstack([contour, contour[:1]])
    tolerance = 0.5
    while len(simplified) > max_points and tolerance < 4 * max(np.ptp(contour, axis=0).max(), 1):
        candidate = approximate_polygon(closed, tolerance=tolerance)[:-1]
        if len(candidate) < 3:
            break
        simplified = candidate
        tolerance *= 1.5
    if len(simplified) > max_points:
        index = np.linspace(0, len(simplified), num=max_points, endpoint=False).astype(int)
        simplified = simplified[index]
    return simplified


def mask_to_polygons(
    mask: np.ndarray,
    *,
    threshold: float = 0.5,
    max_points: int = 100,
    min_area: int = 1,
) -> list[list[float]]:
    """Outer contours of a (soft or binary) mask as polygons in pixel coordinates.

    Args:
        mask: ``[H, W]`` array of probabilities or booleans.
        threshold: Pixels with ``mask > threshold`` belong to the object, as in Azure's
            converter (boolean masks are used as they are).
        max_points: At most this many points per polygon.
        min_area: Connected parts with fewer pixels are dropped.

    Returns:
        One flattened ``[x1, y1, x2, y2, ...]`` list per connected part (largest first), in
        pixel units where ``(0, 0)`` is the top-left corner of the image and ``(W, H)`` the
        bottom-right one. Parts whose polygon has fewer than 3 points are dropped.
    """
    from scipy.ndimage import binary_fill_holes
    from skimage.measure import find_contours
    from skimage.measure import label as label_components
    from skimage.measure import regionprops

    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    binary = mask > threshold if mask.dtype != bool else mask
    if not binary.any():
        return []
    components = label_components(binary, connectivity=2)
    regions = sorted(regionprops(components), key=lambda r: -r.area)
    polygons: list[list[float]] = []
    for region in regions:
        if region.area < min_area:
            continue
        r0, c0, _, _ = region.bbox
        part = binary_fill_holes(region.image)
        # Pad so that contours of parts touching the border are closed.
        contours = find_contours(np.pad(part.astype(np.float32), 1), 0.5)
        if not contours:
            continue
        ring = _simplify(max(contours, key=len), max_points)
        if len(ring) < 3:
            continue
        # Contour (row, col) indices of the padded crop -> pixel-edge coordinates of the image:
        # the 0.5 level between pixel i and i+1 sits on the edge at i + 1 (centre at i + 0.5).
        xs = ring[:, 1] - 0.5 + c0
        ys = ring[:, 0] - 0.5 + r0
        polygons.append([float(v) for xy in zip(xs, ys) for v in xy])
    return polygons


def normalise_polygons(
    polygons: list[list[float]], width: int, height: int, *, offset: tuple[float, float] = (0, 0)
) -> list[list[float]]:
    """Shift pixel polygons by ``offset`` and normalise them to ``[0, 1]`` by the image size."""
    dx, dy = offset
    out = []
    for poly in polygons:
        values = []
        for i in range(0, len(poly), 2):
            values.append(min(max((poly[i] + dx) / width, 0.0), 1.0))
            values.append(min(max((poly[i + 1] + dy) / height, 0.0), 1.0))
        out.append(values)
    return out
