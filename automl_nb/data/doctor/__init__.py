"""The dataset doctor: counts, object sizes, duplicates, broken files and recommendations.

Example:
    >>> from automl_nb.data.doctor import diagnose
    >>> report = diagnose("train.jsonl")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    >>> report.recommended_yaml  # doctest: +SKIP
    "training_parameters:\\n  tile_grid_size: '3x2'"
"""

from __future__ import annotations

from ._advice import tile_scale
from ._doctor import DEFAULT_CROP_SIZE
from ._doctor import DEFAULT_MAX_SIZE
from ._doctor import DEFAULT_MIN_SIZE
from ._doctor import SIZE_BINS
from ._doctor import diagnose
from ._doctor import resize_scale
from ._files import FileInfo
from ._files import inspect_file
from ._report import DoctorReport
from ._report import Finding

__all__ = [
    "DEFAULT_CROP_SIZE",
    "DEFAULT_MAX_SIZE",
    "DEFAULT_MIN_SIZE",
    "SIZE_BINS",
    "DoctorReport",
    "FileInfo",
    "Finding",
    "diagnose",
    "inspect_file",
    "resize_scale",
    "tile_scale",
]
