"""``convert`` (any registered format -> Azure JSONL) and ``export`` (JSONL -> a format)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from automl_nb.data._records import LabeledImages
from automl_nb.data._records import write_jsonl
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

from ._adapt import adapt
from ._registry import get_format
from ._registry import new_report
from ._report import ConversionReport

_MLTABLE = """paths:
  - file: ./{name}
transformations:
  - read_json_lines:
        encoding: utf8
        invalid_lines: error
        include_path_column: false
  - convert_column_types:
      - columns: image_url
        column_type: stream_info
"""


def _task(task: str | Task | None) -> Task | None:
    if task is None:
        return None
    try:
        return as_task(task)
    except ValueError as exc:
        raise DataError(Problem(str(exc), path="task")) from None


def read_format(
    format: str, src: str | os.PathLike[str], *, task: str | Task | None = None, **options: Any
) -> tuple[LabeledImages, ConversionReport]:
    """Read annotations in ``format`` into records shaped for ``task``, without writing.

    Args:
        format: A registered format name (``coco``, ``voc``, ``yolo``, ``folder``, ``csv``,
            ``masks``).
        src: The annotation file or dataset folder.
        task: Target task; by default the one the source holds (segmentation when the
            source has polygons or masks). Detection sources can also give multi-label
            (classes present per image) or multi-class data.
        **options: Format options: ``images`` (image folder), ``names`` (YOLO class-names
            file), ``label`` (class of every mask instance), ``masks`` (mask folder).

    Returns:
        The records and a report with counts and what was skipped.
    """
    fmt = get_format(format)
    target = _task(task)
    report = new_report(fmt.name, src, target or fmt.tasks[0])
    options = {k: v for k, v in options.items() if v is not None}
    data = fmt.reader(src, report=report, **options)
    data = adapt(data, target, report)
    report.count(data)
    return data, report


def convert(
    format: str,
    src: str | os.PathLike[str],
    out_jsonl: str | os.PathLike[str],
    *,
    task: str | Task | None = None,
    mltable: bool = False,
    **options: Any,
) -> ConversionReport:
    """Convert annotations in ``format`` to an Azure AutoML-for-Images JSONL file.

    Image paths in the JSONL are relative to its folder.

    Args:
        format: A registered format name; see :func:`read_format`.
        src: The annotation file or dataset folder.
        out_jsonl: The JSONL file to write.
        task: Target task (default: what the source holds).
        mltable: Also write an ``MLTable`` file next to the JSONL, pointing at it.
        **options: Format options; see :func:`read_format`.

    Returns:
        What was converted: images, objects per class, background images, skipped items.

    Example:
        >>> report = convert("voc", "odFridgeObjects", "train.jsonl")  # doctest: +SKIP
        >>> report.images, report.objects  # doctest: +SKIP
        (128, 336)
    """
    _check_not_source(src, out_jsonl)
    data, report = read_format(format, src, task=task, **options)
    if not data.records:
        raise DataError(Problem(f"nothing to convert\n{report}", file=str(src)))
    out = write_jsonl(data.records, out_jsonl)
    report.output = str(out)
    if mltable:
        (out.parent / "MLTable").write_text(_MLTABLE.format(name=out.name), encoding="utf-8")
    return report


def _check_not_source(src: str | os.PathLike[str], out: str | os.PathLike[str]) -> None:
    """Refuse an output that would overwrite the source (or a file inside a source folder)."""
    src_path, out_path = Path(src).resolve(), Path(out).resolve()
    if out_path == src_path or (
        src_path.is_dir()
        and src_path in out_path.parents
        and out_path.exists()
        and out_path.suffix.lower() != ".jsonl"
    ):
        raise DataError(
            Problem("the output would overwrite the source; choose another file", file=str(out))
        )


def _check_export_target(fmt_name: str, out: str | os.PathLike[str]) -> None:
    """A COCO export writes one file, VOC and YOLO a new or empty folder: refuse anything
    that would overwrite files already there."""
    path = Path(out)
    if fmt_name == "coco":
        if path.is_dir():
            raise DataError(
                Problem("is a folder; a COCO export writes one .json file", file=str(out))
            )
        return
    if path.exists() and not path.is_dir():
        raise DataError(
            Problem(f"is a file; a {fmt_name.upper()} export writes a folder", file=str(out))
        )
    if path.is_dir() and any(path.iterdir()):
        raise DataError(
            Problem(
                f"the folder is not empty; a {fmt_name.upper()} export writes into a new or "
                "empty folder so that no file already there is overwritten",
                file=str(out),
            )
        )


def guess_task(path: str | os.PathLike[str]) -> Task:
    """The task of a JSONL file (or MLTable folder) from the shape of its first label.

    Raises:
        DataError: No readable JSONL line.
    """
    jsonl = _jsonl_of(Path(path))
    with jsonl.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                label = json.loads(line).get("label")
            except (json.JSONDecodeError, AttributeError, RecursionError):
                raise DataError(
                    Problem("not a JSON object", file=str(jsonl), line=number)
                ) from None
            if isinstance(label, str):
                return Task.CLASSIFICATION
            if isinstance(label, list):
                objects = [item for item in label if isinstance(item, dict)]
                if objects:
                    seg = any(item.get("polygon") for item in objects)
                    return Task.INSTANCE_SEGMENTATION if seg else Task.OBJECT_DETECTION
                if any(isinstance(item, str) for item in label):
                    return Task.CLASSIFICATION_MULTILABEL
    raise DataError(Problem("cannot tell the task from the labels; pass task=", file=str(jsonl)))


def _jsonl_of(path: Path) -> Path:
    if path.is_file():
        return path
    if path.is_dir():
        mltable = path / "MLTable"
        if mltable.is_file():
            from automl_nb.data._mltable import parse_mltable

            spec = parse_mltable(path)
            if spec.files:
                return Path(spec.files[0])
        found = sorted(path.glob("*.jsonl"))
        if found:
            return found[0]
    raise DataError(Problem("no JSONL file or MLTable folder", file=str(path)))


def load_jsonl(
    path: str | os.PathLike[str], task: str | Task | None = None, **options: Any
) -> LabeledImages:
    """Read a JSONL file or MLTable folder with the data layer's reader (task guessed if None).

    ``options`` go to :func:`automl_nb.data.read_dataset` (``invalid_lines``, ``datastores``).
    """
    from automl_nb.data import read_dataset

    resolved = _task(task) or guess_task(path)
    return read_dataset(str(path), resolved, **options)


def export(
    data: LabeledImages | str | os.PathLike[str],
    format: str,
    out: str | os.PathLike[str],
    *,
    task: str | Task | None = None,
    **options: Any,
) -> Path:
    """Write records (or a JSONL file / MLTable folder) in another annotation format.

    Args:
        data: The records, or a JSONL path / MLTable folder to read first.
        format: ``coco`` (a JSON file), ``voc`` or ``yolo`` (a folder with the images).
        out: Output file (COCO) or folder (VOC, YOLO).
        task: Task of ``data`` when it is a path (default: guessed from the labels).
        **options: Writer options (``copy_images`` for VOC, ``images_root`` for COCO).

    Returns:
        The file or folder written.

    Raises:
        DataError: The format cannot be written, or the data is not detection data.
    """
    fmt = get_format(format)
    if fmt.writer is None:
        raise DataError(
            Problem(
                f"{fmt.name} cannot be written; export supports coco, voc and yolo", path="format"
            )
        )
    _check_export_target(fmt.name, out)
    if not isinstance(data, LabeledImages):
        data = load_jsonl(data, task)
    return fmt.writer(data, out, **options)
