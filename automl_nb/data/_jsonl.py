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
import os
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.data._labels import IMAGE_FORMATS as IMAGE_FORMATS
from automl_nb.data._labels import SHAPE_NAMES
from automl_nb.data._labels import SHAPE_TASK
from automl_nb.data._labels import LineProblems
from automl_nb.data._labels import label_shape
from automl_nb.data._labels import parse_details
from automl_nb.data._labels import parse_label
from automl_nb.data._labels import shape_matches
from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._sources import UnmappedDatastoreError
from automl_nb.data._sources import is_url
from automl_nb.data._sources import resolve_image_url
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.errors import not_a_file_reason
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

INVALID_LINES_MODES: tuple[str, ...] = ("error", "drop")
MAX_LISTED_PROBLEMS = 20


# No label needs more than a few levels (line -> label -> object -> polygon -> segment).
MAX_JSON_DEPTH = 32


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


def json_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``value`` nests lists and objects, counted up to ``limit + 1`` (iterative:
    any depth is safe). Shared by the JSONL reader and the scoring endpoint."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, Mapping):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= limit:
                stack.extend((child, level + 1) for child in item)
    return deepest


def duplicate_image_warnings(records: list[ImageRecord]) -> list[Problem]:
    """One warning per record whose image an earlier record already lists."""
    first: dict[str, ImageRecord] = {}
    out = []
    for record in records:
        earlier = first.setdefault(record.path, record)
        if earlier is record:
            continue
        same = earlier.label == record.label
        what = "a duplicate line" if same else "listed again with a different label"
        file, _, line = (record.source or "").rpartition(":")
        out.append(
            Problem(
                f"the same image as {earlier.source or 'an earlier line'} ({what})",
                file=file or None,
                line=int(line) if line.isdigit() else None,
                path="image_url",
                value=repr(record.image_url),
            )
        )
    return out


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
        problems = LineProblems(file, line)
        record = self._parse(text, problems, base_dir)
        if problems.items:
            self.problems.append(problems.items)
        elif record is not None:
            self.records.append(record)

    def _parse(self, text: str, problems: LineProblems, base_dir: str) -> ImageRecord | None:
        try:
            obj = json.loads(text, object_pairs_hook=_unique_keys)
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
        except _DuplicateKeyError as exc:
            problems.add("key given twice in one JSON object (which one wins is unclear)", exc.key)
            return None
        except RecursionError:
            problems.add(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
            return None
        if json_depth(obj) > MAX_JSON_DEPTH:
            problems.add(f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
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
        elif any(ord(ch) < 32 for ch in url):
            problems.add(
                "image_url holds a control character (NUL, tab, newline)", "image_url", url
            )
        target = self.target_column
        if target not in obj:
            keys = [str(k) for k in obj if k not in ("image_url", "image_details")]
            close = difflib.get_close_matches(target, keys, n=1, cutoff=0.6)
            problems.add(f"missing {target!r}", target, suggestion=close[0] if close else None)
            return None
        label = obj[target]
        shape = label_shape(label)
        if shape != "empty":
            self.shapes[shape] += 1
            self.shape_lines.setdefault(shape, f"{problems.file}:{problems.line}")
        width, height, fmt = parse_details(obj.get("image_details"), problems)
        if not shape_matches(self.task, shape) and not problems.items:
            self.wrong_shapes[shape] += 1
        parsed = parse_label(label, self.task, target, problems)
        if problems.items or parsed is None:
            return None
        try:
            path = resolve_image_url(str(url), base_dir=base_dir, datastores=self.datastores)
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
            image_url=str(url),
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
        if count != len(self.problems) or shape not in SHAPE_TASK:
            return None
        file, _, line = self.shape_lines[shape].rpartition(":")
        return Problem(
            f"every label is {SHAPE_NAMES[shape]}, the shape of {SHAPE_TASK[shape].value} "
            f"data, but the task is {self.task.value}",
            file=file,
            line=int(line),
            path=self.target_column,
            suggestion=SHAPE_TASK[shape].value,
        )

    def mixed_schema_problem(self, source: str) -> Problem | None:
        """One problem when lines have different label shapes (e.g. classes and boxes)."""
        kinds = {s for s in self.shapes if s in SHAPE_TASK or s == "object"}
        if {"objects", "polygons"} >= kinds:
            return None
        if len(kinds) < 2:
            return None
        parts = ", ".join(
            f"{self.shapes[s]} line(s) with {SHAPE_NAMES[s]} (first at {self.shape_lines[s]})"
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

        try:
            return fsspec.open(path, "rt", encoding=encoding).open()
        except (ImportError, ValueError) as exc:
            # fsspec names the package a protocol needs, or an unknown protocol.
            raise DataError(Problem(f"cannot read this URL: {exc}", file=path)) from None
    reason = not_a_file_reason(path)
    if reason and reason != "not found":
        raise DataError(Problem(f"cannot read the JSONL file: it {reason}", file=path))
    return open(path, encoding=encoding)  # noqa: SIM115 - closed by the caller


def _first_undecodable_line(path: str, encoding: str) -> int | None:
    """The 1-based number of the first line of ``path`` that ``encoding`` cannot decode."""
    if not encoding.replace("-", "").lower().startswith("utf8"):
        return None  # multi-byte line ends: lines cannot be split on b"\n"
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


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
    names = [str(os.fspath(f)) for f in files]
    source = source or (names[0] if len(names) == 1 else None)
    reader = _Reader(task, target_column, datastores)
    lines_read = 0
    for file in names:
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
                line = None if is_url(file) else _first_undecodable_line(file, encoding)
                raise DataError(
                    Problem(f"cannot decode as {encoding}: {exc.reason}", file=file, line=line)
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
    return LabeledImages(
        task=task,
        records=reader.records,
        source=source,
        dropped=dropped,
        warnings=duplicate_image_warnings(reader.records),
    )


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
