"""Image folders, one folder per class (``can/1.jpg``, ``carton/2.jpg``) -> multi-class labels."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

from ._common import image_size
from ._common import is_image_file
from ._common import list_images
from ._common import make_record
from ._registry import register_format
from ._report import ConversionReport

# Files that live in image folders but are not images, and are not worth a warning.
_IGNORED = frozenset(
    {"thumbs.db", "desktop.ini", "source.md", "readme.md", "readme.txt", "license"}
)


@register_format(
    "folder", description="image folders, one sub-folder per class", tasks=(Task.CLASSIFICATION,)
)
def read_folder(
    src: str | os.PathLike[str], *, report: ConversionReport, **_: Any
) -> LabeledImages:
    """Read an image-folder dataset: each image's class is the name of the folder holding it.

    ``train/can/1.jpg`` and ``can/1.jpg`` both give class ``can``. Images directly in ``src``
    (no class folder) are skipped.

    Args:
        src: The dataset folder.
        report: Filled with skipped items and notes.
    """
    src = Path(src)
    if not src.is_dir():
        raise DataError(Problem("no such folder", file=str(src)))
    records: list[ImageRecord] = []
    for path in list_images(src):
        if path.parent == src:
            report.skip("image outside a class folder", path.name)
            continue
        try:
            width, height = image_size(path)
        except OSError:
            report.skip("unreadable image", path.relative_to(src))
            continue
        records.append(make_record(path, path.parent.name, width, height))
    for root, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if (
                not name.startswith(".")
                and name.lower() not in _IGNORED
                and not is_image_file(Path(name))
            ):
                report.skip("not an image file", Path(root, name).relative_to(src))
    if not records:
        raise DataError(
            Problem("no images in class sub-folders (expected SRC/<class>/<image>)", file=str(src))
        )
    classes = {record.label for record in records}
    if len(classes) == 1:
        report.note(f"warning: only one class ({next(iter(classes))}); a classifier needs two")
    return LabeledImages(task=Task.CLASSIFICATION, records=records, source=str(src))
