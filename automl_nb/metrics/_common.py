"""Helpers shared by the metric modules: JSON-safe values and curve downsampling."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

MAX_CURVE_POINTS = 101


def num(value: Any) -> float | None:
    """A plain float, or ``None`` for NaN/inf/missing values (JSON has no NaN)."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    value = float(value)
    return value if math.isfinite(value) else None


def downsample(
    xs: Sequence[float] | np.ndarray, ys: Sequence[float] | np.ndarray, n: int = MAX_CURVE_POINTS
) -> tuple[list[float | None], list[float | None]]:
    """At most ``n`` evenly spaced points of a curve, first and last kept."""
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    if len(x) > n:
        idx = np.unique(np.linspace(0, len(x) - 1, n).round().astype(int))
        x, y = x[idx], y[idx]
    return [num(v) for v in x], [num(v) for v in y]
