"""Multi-label CSV (``filename,labels``) with an image folder -> multi-label (or multi-class).

Accepted variations: a header or none; ``,``/``;``/tab column separators; labels separated by
spaces, or by ``;``, ``,`` or ``|`` inside a quoted field; one row per label (rows of the same
file are merged); one-hot columns (``filename,cat,dog`` with 0/1 values); file names with or
without extension or sub-folders.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.registry import suggest
from automl_nb.tasks import Task

from ._common import image_size
from ._common import is_image_file
from ._common import list_images
from ._common import make_record
from ._common import read_text
from ._registry import register_format
from ._report import ConversionReport

_FILE_COLUMNS = (
    "filename",
    "file_name",
    "file",
    "image",
    "image_name",
    "image_id",
    "image_url",
    "image_path",
    "path",
    "name",
    "id",
    "img",
)
_LABEL_COLUMNS = (
    "labels",
    "label",
    "tags",
    "tag",
    "classes",
    "class",
    "categories",
    "category",
    "target",
    "targets",
)
_TRUE = frozenset({"1", "1.0", "true", "yes", "y", "t"})


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def split_labels(field: str) -> tuple[str, ...]:
    """Labels of one CSV field: split on ``;``, ``|`` or ``,`` when present, else on spaces."""
    for sep in (";", "|", ","):
        if sep in field:
            parts = field.split(sep)
            break
    else:
        parts = field.split()
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


class _Finder:
    def __init__(self, dirs: list[Path]):
        self.dirs = dirs
        self._by_name: dict[str, Path] | None = None
        self._by_stem: dict[str, Path] = {}

    def find(self, name: str) -> Path | None:
        name = name.strip().replace("\\", "/")
        if os.path.isabs(name) and Path(name).is_file():
            return Path(name)
        for d in self.dirs:
            if (d / name).is_file():
                return d / name
        if self._by_name is None:
            self._by_name = {}
            for d in self.dirs:
                for path in list_images(d):
                    self._by_name.setdefault(path.name.lower(), path)
                    self._by_stem.setdefault(path.stem.lower(), path)
        key = Path(name).name.lower()
        return self._by_name.get(key) or self._by_stem.get(key)


_FALSE = frozenset({"0", "0.0", "false", "no", "n", "f", ""})


def _looks_like_header(row: list[str], finder: _Finder) -> bool:
    first = row[0].strip() if row else ""
    return bool(first) and not is_image_file(Path(first)) and finder.find(first) is None


def _header_error(src: Path, row: list[str], what: str) -> DataError:
    names = [c.strip() for c in row]
    close = suggest(names[0] if names else "", _FILE_COLUMNS)
    return DataError(
        Problem(
            f"the header row {what}; name the image column one of "
            f"{', '.join(_FILE_COLUMNS[:4])}, ... and the labels column one of "
            f"{', '.join(_LABEL_COLUMNS[:4])}, ... (columns are never guessed by position)",
            file=str(src),
            line=1,
            value=repr(names),
            suggestion=close,
        )
    )


def _check_onehot(src: Path, header: list[str], rows: list[list[str]], columns: list[int]) -> None:
    """One-hot columns hold 0/1 values; anything else means the header is not understood."""
    for line, row in enumerate(rows, start=2):
        for i in columns:
            value = row[i].strip().lower() if i < len(row) else ""
            if value not in _TRUE and value not in _FALSE:
                raise DataError(
                    Problem(
                        f"column {header[i]!r} is read as a one-hot 0/1 column (the header has "
                        f"no labels column such as {', '.join(_LABEL_COLUMNS[:3])})",
                        file=str(src),
                        line=line,
                        path=header[i],
                        value=repr(row[i]),
                        suggestion=suggest(header[i], _LABEL_COLUMNS),
                    )
                )


@register_format(
    "csv",
    description="multi-label CSV 'filename,labels' plus an image folder",
    tasks=(Task.CLASSIFICATION_MULTILABEL, Task.CLASSIFICATION),
)
def read_csv(
    src: str | os.PathLike[str],
    *,
    report: ConversionReport,
    images: str | os.PathLike[str] | None = None,
    **_: Any,
) -> LabeledImages:
    """Read a labels CSV; each row names an image and its labels.

    Args:
        src: The CSV file.
        report: Filled with skipped items and notes.
        images: Folder the file names are relative to (default: ``images/`` beside the CSV,
            then the CSV's folder).
    """
    src = Path(src)
    if not src.is_file():
        raise DataError(Problem("no such file", file=str(src)))
    text = read_text(src)
    first = next((line for line in text.split("\n") if line.strip()), "")
    rows = [
        row
        for row in csv.reader(io.StringIO(text), delimiter=_delimiter(first))
        if any(c.strip() for c in row)
    ]
    if not rows:
        raise DataError(Problem("the CSV file is empty", file=str(src)))
    header = [c.strip().lower() for c in rows[0]]
    has_header = (
        bool(header)
        and (header[0] in _FILE_COLUMNS or any(h in _LABEL_COLUMNS for h in header))
        and not is_image_file(Path(header[0]))
    )
    file_col, label_col, onehot = 0, 1, []
    dirs = [Path(images)] if images else []
    dirs += [src.parent / "images", src.parent]
    finder = _Finder([d for d in dirs if d.is_dir()])
    if has_header:
        file_col = next((header.index(c) for c in _FILE_COLUMNS if c in header), -1)
        if file_col < 0:
            raise _header_error(src, rows[0], "names no file-name column")
        label_col = next((header.index(c) for c in _LABEL_COLUMNS if c in header), -1)
        if label_col < 0:
            onehot = [i for i in range(len(header)) if i != file_col]
            _check_onehot(src, header, rows[1:], onehot)
        rows = rows[1:]
    elif len(rows) > 1 and _looks_like_header(rows[0], finder):
        raise _header_error(src, rows[0], "is not an image and names no known column")

    labels_by_path: dict[Path, list[str]] = {}
    for line, row in enumerate(rows, start=2 if has_header else 1):
        where = f"{src.name}:{line}"
        if len(row) <= file_col or not row[file_col].strip():
            report.skip("row without a file name", where)
            continue
        if onehot:
            labels = tuple(
                header[i] for i in onehot if i < len(row) and row[i].strip().lower() in _TRUE
            )
        else:
            # The last column takes any extra unquoted commas: ``a.jpg,cat,dog``.
            last = not has_header or label_col == len(header) - 1
            cells = row[label_col:] if last else row[label_col : label_col + 1]
            labels = split_labels(",".join(cells))
        broken = next((label for label in labels if any(ord(ch) < 32 for ch in label)), None)
        if broken is not None:
            raise DataError(
                Problem(
                    "a class name holds a line break or control character (an unclosed quote?)",
                    file=str(src),
                    line=line,
                    path="labels",
                    value=repr(broken)[:80],
                )
            )
        path = finder.find(row[file_col])
        if path is None:
            report.skip("image file not found", row[file_col].strip())
            continue
        if path in labels_by_path:
            report.note("rows of the same image merged")
        merged = labels_by_path.setdefault(path, [])
        merged.extend(label for label in labels if label not in merged)

    records = _records(labels_by_path, report)
    return LabeledImages(task=Task.CLASSIFICATION_MULTILABEL, records=records, source=str(src))


def _records(labels_by_path: dict[Path, list[str]], report: ConversionReport) -> list[ImageRecord]:
    records: list[ImageRecord] = []
    for path, labels in labels_by_path.items():
        try:
            width, height = image_size(path)
        except OSError:
            report.skip("unreadable image", path.name)
            continue
        records.append(make_record(path, tuple(labels), width, height))
    return records
