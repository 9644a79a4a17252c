"""Labelled image data: Azure JSONL and MLTable readers, image sources, splits and checks.

Reading never imports torch. The per-task torch datasets, converters from other formats and
the dataset doctor live in submodules imported on use (``from automl_nb.data import
converters``).

Example:
    >>> from automl_nb.data import read_dataset  # doctest: +SKIP
    >>> data = read_dataset("data/train.jsonl", "image_object_detection")  # doctest: +SKIP
    >>> data.labels, len(data), sum(data.label_counts().values())  # doctest: +SKIP
    (['can', 'carton', 'milk_bottle', 'water_bottle'], 128, 336)
"""

from __future__ import annotations

import importlib
from typing import Any

from automl_nb.data._images import check_image
from automl_nb.data._images import check_images
from automl_nb.data._images import image_size
from automl_nb.data._images import open_image
from automl_nb.data._images import to_rgb
from automl_nb.data._jsonl import IMAGE_FORMATS
from automl_nb.data._jsonl import read_jsonl
from automl_nb.data._jsonl import read_jsonl_files
from automl_nb.data._load import MIN_TRAINING_IMAGES
from automl_nb.data._load import load_job_data
from automl_nb.data._load import read_dataset
from automl_nb.data._mltable import MLTableSpec
from automl_nb.data._mltable import parse_mltable
from automl_nb.data._mltable import read_mltable
from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.data._records import write_jsonl
from automl_nb.data._sources import DATASTORES_ENV
from automl_nb.data._sources import datastore_mapping
from automl_nb.data._sources import parse_datastore_mapping
from automl_nb.data._sources import resolve_image_url
from automl_nb.data._split import DEFAULT_SPLIT_SEED
from automl_nb.data._split import split_validation

__all__ = [
    "DATASTORES_ENV",
    "DEFAULT_SPLIT_SEED",
    "IMAGE_FORMATS",
    "MIN_TRAINING_IMAGES",
    "ImageRecord",
    "LabeledImages",
    "MLTableSpec",
    "ObjectAnnotation",
    "check_image",
    "check_images",
    "datastore_mapping",
    "image_size",
    "load_job_data",
    "open_image",
    "parse_datastore_mapping",
    "parse_mltable",
    "read_dataset",
    "read_jsonl",
    "read_jsonl_files",
    "read_mltable",
    "resolve_image_url",
    "split_validation",
    "to_rgb",
    "write_jsonl",
]

# Submodules with heavier imports, loaded on first attribute access.
_LAZY_SUBMODULES = ("converters", "doctor")


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
