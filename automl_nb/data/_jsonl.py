"""Read Azure AutoML-for-Images JSONL files into :class:`LabeledImages`, with located errors.

Each line is checked against the task's label shape:

* ``image_classification``: ``"label": "can"``
* ``image_classification_multilabel``: ``"label": ["can", "carton"]`` (``[]`` allowed)
* ``image_object_detection``: ``"label": [{"label": "can", "topX": .., "topY": ..,
  "bottomX": .., "bottomY": .., "isCrowd": 0}, ...]`` (``[]`` is a background image)
* ``image_instance_segmentation``: as detection, each object with a ``polygon`` (a list of
  flattened ``[x1, y1, x2, y2, ...]`` segments); the box is derived from the polygon when
  absent.

Numbers may be written as strings (``"0.5"``), ``image_details`` sizes as ``400`` or
``"400px"``. Every problem names the file, the line and the field.
"""

from __future__ import annotations

import difflib
import io
import json
import math
import os
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.data._sources import UnmappedDatastoreError
from automl_nb.data._sources import is_url
from automl_nb.data._sources import resolve_image_url
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

IMAGE_FORMATS: tuple[str, ...] = ("jpg", "jpeg", "png", "jpe", "jfif", "bmp", "tif", "tiff")
INVALID_LINES_MODES: tuple[str, ...] = ("error", "drop")
MAX_LISTED_PROBLEMS = 20
# Normalised coordinates a little outside [0, 1] are rounding noise from pixel conversions.
COORD_SLACK = 1e-6

_BOX_KEYS = ("topX", "topY", "bottomX", "bottomY")

# Human names of the label shapes, used to explain "wrong shape" and "mixed schema" errors.
_SHAPE_NAMES = {
    "class": "a class name",
    "classes": "a list of class names",
    "objects": "a list of objects with boxes",
    "polygons": "a list of objects with polygons",
    "empty": "an empty list",
    "object": "a single object dict",
    "other": "something else",
}
_TASK_SHAPE = {
    Task.CLASSIFICATION: "class",
    Task.CLASSIFICATION_MULTILABEL: "classes",
    Task.OBJECT_DETECTION: "objects",
    Task.INSTANCE_SEGMENTATION: "polygons",
}
_SHAPE_TASK = {shape: task for task, shape in _TASK_SHAPE.items()}


class _LineProblems:
    """Collects the problems of one line, all located at ``file:line``."""

    def __init__(self, file: str, line: int) -> None:
        self.file = file
        self.line = line
        self.items: list[Problem] = []

    def add(
        self,
        message: str,
        path: str | None = None,
        value: Any = ...,
        suggestion: str | None = None,
    ) -> None:
        shown = None if value is ... else _short_repr(value)
        self.items.append(
            Problem(
                message,
                file=self.file,
                line=self.line,
                path=path,
                value=shown,
                suggestion=suggestion,
            )
        )


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number(value: Any) -> float | None:
    """A finite float from a number or a numeric string; ``None`` if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _class_name(value: Any) -> str | None:
    """A class name: a non-empty string, or an integer written as a number."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return None


def _label_shape(label: Any) -> str:
    if isinstance(label, (str, int, float)) and not isinstance(label, bool):
        return "class"
    if isinstance(label, dict):
        return "object"
    if isinstance(label, list):
        if not label:
            return "empty"
        if all(isinstance(item, dict) for item in label):
            has_polygons = any("polygon" in item for item in label)
            return "polygons" if has_polygons else "objects"
        if all(_class_name(item) is not None for item in label):
            return "classes"
    return "other"


def _shape_matches(task: Task, shape: str) -> bool:
    if shape == "empty":
        return task is not Task.CLASSIFICATION
    if task is Task.OBJECT_DETECTION:
        # Detection may read segmentation data: the polygons are kept, the boxes are used.
        return shape in ("objects", "polygons")
    return _TASK_SHAPE[task] == shape


def _parse_size(value: Any, key: str, problems: _LineProblems) -> int | None:
    if value is None:
        return None
    raw = value.strip().lower().removesuffix("px").strip() if isinstance(value, str) else value
    number = _number(raw)
    if number is None or number <= 0 or not number.is_integer():
        problems.add("must be a positive pixel count like 400 or '400px'", key, value)
        return None
    return int(number)


def _parse_details(
    details: Any, problems: _LineProblems
) -> tuple[int | None, int | None, str | None]:
    if details is None:
        return None, None, None
    if not isinstance(details, dict):
        problems.add("must be an object {format, width, height}", "image_details", details)
        return None, None, None
    width = _parse_size(details.get("width"), "image_details.width", problems)
    height = _parse_size(details.get("height"), "image_details.height", problems)
    fmt = details.get("format")
    if fmt is not None:
        if not isinstance(fmt, str) or fmt.strip().lower().lstrip(".") not in IMAGE_FORMATS:
            problems.add(
                f"unsupported image format; expected one of {', '.join(IMAGE_FORMATS)}",
                "image_details.format",
                fmt,
            )
            fmt = None
        else:
            fmt = fmt.strip().lower().lstrip(".")
    return width, height, fmt


def _coord(value: Any, path: str, problems: _LineProblems) -> float | None:
    number = _number(value)
    if number is None:
        problems.add("must be a number in [0, 1]", path, value)
        return None
    if number < -COORD_SLACK or number > 1 + COORD_SLACK:
        hint = (
            "; boxes and polygons use coordinates normalised by the image size"
            if number > 1
            else ""
        )
        problems.add(f"coordinate outside [0, 1]{hint}", path, value)
        return None
    return min(1.0, max(0.0, number))


def _parse_crowd(value: Any, path: str, problems: _LineProblems) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    number = _number(value)
    if number in (0.0, 1.0):
        return bool(number)
    problems.add("must be 0, 1, true or false", path, value)
    return False


def _parse_polygon(
    value: Any, path: str, problems: _LineProblems
) -> tuple[tuple[float, ...], ...]:
    if not isinstance(value, list) or not value:
        problems.add(
            "polygon must be a non-empty list of [x1, y1, x2, y2, ...] lists", path, value
        )
        return ()
    # A single flat list of numbers is one segment.
    segments = [value] if not isinstance(value[0], list) else value
    out = []
    for s, segment in enumerate(segments):
        seg_path = f"{path}[{s}]" if segments is value else path
        if not isinstance(segment, list) or not segment:
            problems.add("empty polygon segment", seg_path, segment)
            continue
        if len(segment) % 2:
            problems.add(
                f"polygon segment has an odd number of values ({len(segment)}); "
                "expected x, y pairs",
                seg_path,
            )
            continue
        if len(segment) < 6:
            problems.add(
                f"polygon segment has {len(segment) // 2} point(s); at least 3 are needed",
                seg_path,
                segment,
            )
            continue
        coords = [_coord(v, f"{seg_path}[{i}]", problems) for i, v in enumerate(segment)]
        if any(c is None for c in coords):
            continue
        out.append(tuple(c for c in coords if c is not None))
    return tuple(out)


def _parse_object(
    obj: Any, index: int, target: str, task: Task, problems: _LineProblems
) -> ObjectAnnotation | None:
    path = f"{target}[{index}]"
    if not isinstance(obj, dict):
        problems.add("each object must be a dict with label and box", path, obj)
        return None
    before = len(problems.items)
    name = _class_name(obj.get("label"))
    if name is None:
        problems.add("missing or empty object label", f"{path}.label", obj.get("label", None))
    crowd = _parse_crowd(obj.get("isCrowd", obj.get("iscrowd")), f"{path}.isCrowd", problems)
    polygon: tuple[tuple[float, ...], ...] = ()
    if "polygon" in obj:
        polygon = _parse_polygon(obj["polygon"], f"{path}.polygon", problems)
    elif task is Task.INSTANCE_SEGMENTATION:
        problems.add("instance segmentation objects need a polygon", f"{path}.polygon")
    present = [k for k in _BOX_KEYS if k in obj]
    box: list[float | None]
    if present:
        by_lower = {str(k).lower(): str(k) for k in obj}
        for key in _BOX_KEYS:
            if key not in obj:
                found = by_lower.get(key.lower())
                hint = f" (found {found!r}; keys are case-sensitive)" if found else ""
                problems.add(f"missing box coordinate{hint}", f"{path}.{key}")
        box = [_coord(obj[k], f"{path}.{k}", problems) if k in obj else None for k in _BOX_KEYS]
    elif polygon:
        xs = [v for seg in polygon for v in seg[0::2]]
        ys = [v for seg in polygon for v in seg[1::2]]
        box = [min(xs), min(ys), max(xs), max(ys)]
    elif "polygon" not in obj:
        problems.add("missing box (topX, topY, bottomX, bottomY)", path)
        return None
    else:
        return None
    if len(problems.items) > before or name is None or any(v is None for v in box):
        return None
    x0, y0, x1, y1 = (float(v) for v in box)  # type: ignore[arg-type]
    if x0 >= x1:
        problems.add("box is inverted or empty: topX must be < bottomX", f"{path}.topX", (x0, x1))
    if y0 >= y1:
        problems.add("box is inverted or empty: topY must be < bottomY", f"{path}.topY", (y0, y1))
    if x0 >= x1 or y0 >= y1:
        return None
    return ObjectAnnotation(name, x0, y0, x1, y1, is_crowd=crowd, polygon=polygon)


def _wrong_shape_message(task: Task, shape: str) -> str:
    expected = _SHAPE_NAMES[_TASK_SHAPE[task]]
    if task is Task.CLASSIFICATION and shape == "empty":
        return f"label must be {expected}, got an empty list"
    got = _SHAPE_NAMES[shape]
    message = f"expected {expected} for {task.value}, got {got}"
    hint = None
    if shape == "object":
        hint = "wrap the object in a list"
    elif shape in _SHAPE_TASK:
        hint = f"{_SHAPE_TASK[shape].value} data?"
    if hint:
        message += f" ({hint})"
    return message


def _parse_label(
    label: Any, task: Task, target: str, problems: _LineProblems
) -> str | tuple[str, ...] | tuple[ObjectAnnotation, ...] | None:
    shape = _label_shape(label)
    if not _shape_matches(task, shape):
        problems.add(_wrong_shape_message(task, shape), target, label)
        return None
    if task is Task.CLASSIFICATION:
        name = _class_name(label)
        if name is None:
            problems.add("label must be a non-empty class name", target, label)
        return name
    if task is Task.CLASSIFICATION_MULTILABEL:
        names = [_class_name(item) for item in label]
        if any(n is None for n in names):
            problems.add("labels must be non-empty class names", target, label)
            return None
        # Keep the first occurrence of each label, in order.
        return tuple(dict.fromkeys(n for n in names if n is not None))
    objects = [_parse_object(obj, i, target, task, problems) for i, obj in enumerate(label)]
    if any(o is None for o in objects):
        return None
    return tuple(o for o in objects if o is not None)


@dataclass
class _Reader:
    """Parses lines of one or more JSONL files for one task, collecting problems."""

    task: Task
    target_column: str
    datastores: Mapping[str, str] | None
    records: list[ImageRecord] = field(default_factory=list)
    problems: list[list[Problem]] = field(default_factory=list)
    shapes: Counter[str] = field(default_factory=Counter)
    shape_lines: dict[str, str] = field(default_factory=dict)
    wrong_shapes: Counter[str] = field(default_factory=Counter)

    def parse_line(self, text: str, file: str, line: int, base_dir: str) -> None:
        problems = _LineProblems(file, line)
        record = self._parse(text, problems, base_dir)
        if problems.items:
            self.problems.append(problems.items)
        elif record is not None:
            self.records.append(record)

    def _parse(self, text: str, problems: _LineProblems, base_dir: str) -> ImageRecord | None:
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            problems.items.append(
                Problem(
                    f"malformed JSON: {exc.msg}",
                    file=problems.file,
                    line=problems.line,
                    column=exc.colno,
                )
            )
            return None
        if not isinstance(obj, dict):
            problems.add("each line must be a JSON object", None, obj)
            return None
        url = obj.get("image_url")
        if not isinstance(url, str) or not url.strip():
            close = difflib.get_close_matches("image_url", [str(k) for k in obj], n=1, cutoff=0.6)
            problems.add(
                "missing image_url" if url is None else "image_url must be a non-empty string",
                "image_url",
                ... if url is None else url,
                close[0] if close and close[0] != "image_url" else None,
            )
        target = self.target_column
        if target not in obj:
            keys = [str(k) for k in obj if k not in ("image_url", "image_details")]
            close = difflib.get_close_matches(target, keys, n=1, cutoff=0.6)
            problems.add(f"missing {target!r}", target, suggestion=close[0] if close else None)
            return None
        label = obj[target]
        shape = _label_shape(label)
        if shape != "empty":
            self.shapes[shape] += 1
            self.shape_lines.setdefault(shape, f"{problems.file}:{problems.line}")
        width, height, fmt = _parse_details(obj.get("image_details"), problems)
        if not _shape_matches(self.task, shape) and not problems.items:
            self.wrong_shapes[shape] += 1
        parsed = _parse_label(label, self.task, target, problems)
        if problems.items or parsed is None:
            return None
        try:
            path = resolve_image_url(url, base_dir=base_dir, datastores=self.datastores)
        except UnmappedDatastoreError as exc:
            # A missing mapping is a setup problem, not a bad line: say it once and stop.
            (problem,) = exc.problems
            raise DataError(
                Problem(problem.message, file=problems.file, line=problems.line, path="image_url")
            ) from None
        except DataError as exc:
            for p in exc.problems:
                problems.add(p.message, "image_url", url, p.suggestion)
            return None
        return ImageRecord(
            image_url=url,
            path=path,
            label=parsed,
            width=width,
            height=height,
            format=fmt,
            source=f"{problems.file}:{problems.line}",
        )

    def task_mismatch_problem(self, source: str) -> Problem | None:
        """One problem when every line has the same label shape of another task."""
        if self.records or len(self.wrong_shapes) != 1:
            return None
        ((shape, count),) = self.wrong_shapes.items()
        if count != len(self.problems) or shape not in _SHAPE_TASK:
            return None
        file, _, line = self.shape_lines[shape].rpartition(":")
        return Problem(
            f"every label is {_SHAPE_NAMES[shape]}, the shape of {_SHAPE_TASK[shape].value} "
            f"data, but the task is {self.task.value}",
            file=file,
            line=int(line),
            path=self.target_column,
            suggestion=_SHAPE_TASK[shape].value,
        )

    def mixed_schema_problem(self, source: str) -> Problem | None:
        """One problem when lines have different label shapes (e.g. classes and boxes)."""
        kinds = {s for s in self.shapes if s in _SHAPE_TASK or s == "object"}
        if {"objects", "polygons"} >= kinds:
            return None
        if len(kinds) < 2:
            return None
        parts = ", ".join(
            f"{self.shapes[s]} line(s) with {_SHAPE_NAMES[s]} (first at {self.shape_lines[s]})"
            for s in sorted(kinds, key=lambda s: -self.shapes[s])
        )
        return Problem(f"mixed label schemas: {parts}", file=source)


def check_invalid_lines(value: Any, *, file: str | None = None, line: int | None = None) -> str:
    """Validate an ``invalid_lines`` setting (``error`` or ``drop``) and return it."""
    if value not in INVALID_LINES_MODES:
        close = difflib.get_close_matches(str(value), INVALID_LINES_MODES, n=1)
        raise DataError(
            Problem(
                "invalid_lines must be 'error' or 'drop'",
                file=file,
                line=line,
                path="invalid_lines",
                value=repr(value),
                suggestion=close[0] if close else None,
            )
        )
    return str(value)


def _merge_line_problems(items: list[Problem]) -> Problem:
    first = items[0]
    if len(items) == 1:
        return first
    more = len(items) - 1
    return Problem(
        f"{first.message} (and {more} more problem{'s' if more > 1 else ''} on this line)",
        file=first.file,
        line=first.line,
        column=first.column,
        path=first.path,
        value=first.value,
        suggestion=first.suggestion,
    )


def capped_problems(problems: list[Problem], limit: int = MAX_LISTED_PROBLEMS) -> list[Problem]:
    """The first ``limit`` problems plus one entry saying how many more there are."""
    if len(problems) <= limit:
        return list(problems)
    return [*problems[:limit], Problem(f"... and {len(problems) - limit} more problem(s)")]


def _open_text(path: str, encoding: str) -> io.TextIOBase:
    if is_url(path):
        import fsspec

        return fsspec.open(path, "rt", encoding=encoding).open()
    return open(path, encoding=encoding)  # noqa: SIM115 - closed by the caller


def read_jsonl_files(
    files: Iterable[str | os.PathLike[str]],
    task: Task | str,
    *,
    target_column: str = "label",
    invalid_lines: str = "error",
    datastores: Mapping[str, str] | None = None,
    encoding: str = "utf-8-sig",
    source: str | None = None,
) -> LabeledImages:
    """Read several JSONL files as one dataset (the files of an MLTable).

    Arguments are those of :func:`read_jsonl`; ``source`` names the whole (e.g. the MLTable
    folder) in the result and in errors that are not about one line.
    """
    task = as_task(task)
    check_invalid_lines(invalid_lines)
    files = [os.fspath(f) for f in files]
    source = source or (files[0] if len(files) == 1 else None)
    reader = _Reader(task, target_column, datastores)
    lines_read = 0
    for file in files:
        base_dir = (
            file.rsplit("/", 1)[0] if is_url(file) else os.path.dirname(os.path.abspath(file))
        )
        try:
            fh = _open_text(file, encoding)
        except FileNotFoundError:
            raise DataError(Problem("JSONL file not found", file=file)) from None
        except (OSError, LookupError) as exc:
            raise DataError(Problem(f"cannot open JSONL file: {exc}", file=file)) from None
        with fh:
            try:
                for number, text in enumerate(fh, start=1):
                    if not text.strip():
                        continue
                    lines_read += 1
                    reader.parse_line(text, file, number, base_dir)
            except UnicodeDecodeError as exc:
                raise DataError(
                    Problem(f"cannot decode as {encoding}: {exc.reason}", file=file)
                ) from None
    mismatch = reader.task_mismatch_problem(source or "")
    if mismatch is not None:
        raise DataError(mismatch, header=f"{source}: labels do not match the task")
    mixed = reader.mixed_schema_problem(source or "")
    if invalid_lines == "error" and (reader.problems or mixed):
        flat = [p for items in reader.problems for p in items]
        if mixed:
            flat.insert(0, mixed)
        bad = len(reader.problems)
        header = f"{source}: {bad} invalid line(s) of {lines_read}" if bad else f"{source}:"
        raise DataError(capped_problems(flat), header=header)
    dropped = [_merge_line_problems(items) for items in reader.problems]
    if not reader.records:
        if dropped:
            raise DataError(
                capped_problems(dropped),
                header=f"{source}: all {lines_read} line(s) are invalid",
            )
        raise DataError(Problem("no images (the file has no JSON lines)", file=source))
    return LabeledImages(task=task, records=reader.records, source=source, dropped=dropped)


def read_jsonl(
    path: str | os.PathLike[str],
    task: Task | str,
    *,
    target_column: str = "label",
    invalid_lines: str = "error",
    datastores: Mapping[str, str] | None = None,
    encoding: str = "utf-8-sig",
) -> LabeledImages:
    """Read an Azure AutoML-for-Images JSONL file.

    Args:
        path: The JSONL file (a local path or an fsspec URL).
        task: Task whose label shape the lines must have.
        target_column: Name of the label field (the job's ``target_column_name``).
        invalid_lines: ``"error"``: raise one :class:`DataError` listing every problem (the
            first 20 and a count); ``"drop"``: skip invalid lines and keep one problem per
            dropped line in ``LabeledImages.dropped``.
        datastores: ``{datastore name: local folder}`` for ``azureml://`` image URLs; defaults
            to the ``AUTOML_NB_DATASTORES`` environment variable.
        encoding: Text encoding (a leading UTF-8 byte-order mark is skipped by default).

    Returns:
        The records in file order, image paths resolved (relative paths are relative to the
        JSONL's folder), ``labels`` sorted.

    Raises:
        DataError: Unreadable file, no records, or invalid lines under ``invalid_lines="error"``;
            each problem reads ``file:line: field: message (got value)``.

    Example:
        >>> data = read_jsonl("train.jsonl", "image_object_detection")  # doctest: +SKIP
        >>> data.labels, len(data)  # doctest: +SKIP
        (['can', 'carton', 'milk_bottle', 'water_bottle'], 128)
    """
    return read_jsonl_files(
        [path],
        task,
        target_column=target_column,
        invalid_lines=invalid_lines,
        datastores=datastores,
        encoding=encoding,
        source=os.fspath(path),
    )
