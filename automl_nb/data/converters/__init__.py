"""Converters between common annotation formats and Azure AutoML-for-Images JSONL.

Formats (registry keys): ``coco``, ``voc``, ``yolo``, ``folder``, ``csv``, ``masks``.
``convert(format, src, out_jsonl)`` writes JSONL; ``export(jsonl_or_records, format, out)``
writes COCO, VOC or YOLO back.

Example:
    >>> from automl_nb.data.converters import convert
    >>> report = convert("yolo", "coco128_seg_val", "train.jsonl")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
"""

from __future__ import annotations

# Importing the format modules registers them, in the order the CLI lists them.
from . import _coco  # noqa: F401
from . import _voc  # noqa: F401
from . import _yolo  # noqa: F401

from . import _folder  # noqa: F401  # isort: skip
from . import _csv  # noqa: F401  # isort: skip
from . import _masks  # noqa: F401  # isort: skip
from ._coco import write_coco
from ._common import IMAGE_EXTENSIONS
from ._common import mask_to_polygons
from ._convert import convert
from ._convert import export
from ._convert import guess_task
from ._convert import load_jsonl
from ._convert import read_format
from ._masks import read_pascal_text
from ._registry import Format
from ._registry import get_format
from ._registry import list_formats
from ._registry import register_format
from ._registry import register_writer
from ._report import ConversionReport
from ._voc import write_voc
from ._yolo import read_names
from ._yolo import write_yolo

__all__ = [
    "IMAGE_EXTENSIONS",
    "ConversionReport",
    "Format",
    "convert",
    "export",
    "get_format",
    "guess_task",
    "list_formats",
    "load_jsonl",
    "mask_to_polygons",
    "read_format",
    "read_names",
    "read_pascal_text",
    "register_format",
    "register_writer",
    "write_coco",
    "write_voc",
    "write_yolo",
]
