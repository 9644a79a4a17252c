"""Read Azure ``MLTable`` folders of JSONL files, without the Azure packages.

Supported, as Azure AutoML for Images writes them::

    paths:
      - file: ./train_annotations.jsonl     # or  folder: ./annotations  (every *.jsonl)
                                            # or  pattern: ./parts/*.jsonl
    transformations:
      - read_json_lines:
          encoding: utf8
          invalid_lines: error              # or drop
          include_path_column: false
      - convert_column_types:
          - columns: image_url
            column_type: stream_info
"""

from __future__ import annotations

import difflib
import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from automl_nb.config._yaml import compose_bounded
from automl_nb.config._yaml import decode_yaml_bytes
from automl_nb.data._jsonl import check_invalid_lines
from automl_nb.data._jsonl import read_jsonl_files
from automl_nb.data._records import LabeledImages
from automl_nb.data._sources import is_url
from automl_nb.data._sources import resolve_image_url
from automl_nb.errors import ConfigError
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.errors import not_a_file_reason
from automl_nb.tasks import Task

MLTABLE_FILE = "MLTable"
MAX_MLTABLE_BYTES = 1 << 20  # an MLTable file lists a few paths; more is not one

# MLTable encoding names -> Python codecs.
_ENCODINGS = {
    "utf8": "utf-8-sig",
    "utf-8": "utf-8-sig",
    "utf8bom": "utf-8-sig",
    "ascii": "ascii",
    "latin1": "latin-1",
    "iso88591": "latin-1",
    "utf16": "utf-16",
    "utf32": "utf-32",
    "windows1252": "cp1252",
}
_TOP_LEVEL_KEYS = ("$schema", "type", "paths", "transformations", "traits", "metadata")
_PATH_KINDS = ("file", "folder", "pattern")
_READ_JSON_KEYS = (
    "encoding",
    "invalid_lines",
    "include_path_column",
    "path_column",
    "partition_size",
)
_TRANSFORMATIONS = ("read_json_lines", "convert_column_types")


@dataclass(frozen=True)
class MLTableSpec:
    """What an ``MLTable`` file says about reading its JSONL files.

    Attributes:
        folder: The MLTable folder.
        files: The JSONL files, in order (local paths or URLs).
        encoding: Python codec name.
        invalid_lines: ``"error"`` or ``"drop"``.
        include_path_column: As written (the path column is not needed for images).
        stream_columns: Columns converted to ``stream_info`` (normally ``image_url``).
    """

    folder: str
    files: tuple[str, ...]
    encoding: str = "utf-8-sig"
    invalid_lines: str = "error"
    include_path_column: bool = False
    stream_columns: tuple[str, ...] = ()


class _Located:
    """YAML content plus the line of each key path (``paths[0].file``)."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines: dict[str, int] = {}
        try:
            node, self.value = compose_bounded(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise DataError(
                Problem(
                    f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
                    file=file,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
            ) from None
        if node is not None:
            self._walk(node, "", set())

    def _walk(self, node: yaml.Node, path: str, seen: set[int]) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:  # an aliased node is walked once, not once per alias
            return
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                self.lines[child] = key.start_mark.line + 1
                self._walk(value, child, seen)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, f"{path}[{index}]", seen)

    def problem(
        self, message: str, path: str, value: Any = ..., suggestion: str | None = None
    ) -> Problem:
        line = self.lines.get(path)
        probe = path
        while line is None and probe:
            probe = probe.rpartition(".")[0] if "." in probe else ""
            line = self.lines.get(probe)
        return Problem(
            message,
            file=self.file,
            line=line,
            path=path or None,
            value=None if value is ... else repr(value),
            suggestion=suggestion,
        )


def _close(word: str, options: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(str(word), options, n=1)
    return found[0] if found else None


def _files_for(
    kind: str, value: str, folder: str, datastores: Mapping[str, str] | None
) -> list[str]:
    base = resolve_image_url(value, base_dir=folder, datastores=datastores)
    if kind == "file":
        return [base]
    if is_url(base):
        import fsspec

        fs, _, _ = fsspec.get_fs_token_paths(base)
        protocol = base.split("://", 1)[0]
        pattern = base.rstrip("/") + "/*.jsonl" if kind == "folder" else base
        return sorted(f"{protocol}://{p}" for p in fs.glob(pattern.split("://", 1)[1]))
    if kind == "folder":
        return sorted(
            os.path.join(base, name)
            for name in os.listdir(base)
            if name.lower().endswith(".jsonl") and os.path.isfile(os.path.join(base, name))
        )
    return sorted(p for p in glob.glob(base, recursive=True) if os.path.isfile(p))


def _parse_paths(
    doc: _Located,
    paths: Any,
    folder: str,
    datastores: Mapping[str, str] | None,
    problems: list[Problem],
) -> list[str]:
    """The JSONL files named by ``paths`` (``file``, ``folder`` or ``pattern`` entries)."""
    if not isinstance(paths, list) or not paths:
        problems.append(doc.problem("'paths' must be a non-empty list", "paths"))
        return []
    files: list[str] = []
    for index, entry in enumerate(paths):
        where = f"paths[{index}]"
        if not isinstance(entry, dict) or len(entry) != 1:
            message = "each path entry needs exactly one of file, folder, pattern"
            problems.append(doc.problem(message, where, entry))
            continue
        ((kind, value),) = entry.items()
        where = f"{where}.{kind}"
        if kind not in _PATH_KINDS:
            problems.append(
                doc.problem("unknown path kind", where, kind, _close(kind, _PATH_KINDS))
            )
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(doc.problem("must be a path string", where, value))
            continue
        try:
            found = _files_for(kind, value.strip(), folder, datastores)
        except DataError as exc:
            problems.extend(doc.problem(p.message, where, value) for p in exc.problems)
            continue
        except OSError as exc:
            problems.append(doc.problem(f"cannot list: {exc.strerror or exc}", where, value))
            continue
        if kind == "file" and not is_url(found[0]) and not os.path.isfile(found[0]):
            problems.append(doc.problem("file not found", where, value))
        elif not found:
            what = "no *.jsonl files in this folder" if kind == "folder" else "no files match"
            problems.append(doc.problem(what, where, value))
        files.extend(found)
    return files


def _parse_read_json_lines(
    doc: _Located, body: Any, where: str, problems: list[Problem]
) -> dict[str, Any]:
    """The options of a ``read_json_lines`` step, as :class:`MLTableSpec` fields."""
    body = body or {}
    if not isinstance(body, dict):
        problems.append(doc.problem("must be a mapping of options", where, body))
        return {}
    options: dict[str, Any] = {}
    for key, value in body.items():
        path = f"{where}.{key}"
        if key not in _READ_JSON_KEYS:
            close = _close(key, _READ_JSON_KEYS)
            problems.append(doc.problem("unknown read_json_lines option", path, key, close))
        elif key == "encoding":
            codec = _ENCODINGS.get(str(value).lower())
            if codec is None:
                close = _close(str(value).lower(), tuple(_ENCODINGS))
                problems.append(doc.problem("unsupported encoding", path, value, close))
            else:
                options["encoding"] = codec
        elif key == "invalid_lines":
            try:
                options["invalid_lines"] = check_invalid_lines(value)
            except DataError as exc:
                p = exc.problems[0]
                problems.append(doc.problem(p.message, path, value, p.suggestion))
        elif key == "include_path_column":
            if isinstance(value, bool):
                options["include_path_column"] = value
            else:
                problems.append(doc.problem("must be true or false", path, value))
    return options


def _parse_convert(doc: _Located, body: Any, where: str, problems: list[Problem]) -> list[str]:
    """The columns a ``convert_column_types`` step turns into ``stream_info``."""
    entries = body if isinstance(body, list) else [body]
    stream: list[str] = []
    for index, entry in enumerate(entries):
        path = f"{where}[{index}]" if isinstance(body, list) else where
        if not isinstance(entry, dict) or "columns" not in entry or "column_type" not in entry:
            problems.append(doc.problem("each entry needs columns and column_type", path, entry))
            continue
        columns = entry["columns"]
        columns = [columns] if isinstance(columns, str) else columns
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            message = "must be a column name or a list of names"
            problems.append(doc.problem(message, f"{path}.columns", entry["columns"]))
            continue
        column_type = entry["column_type"]
        if column_type == "stream_info":
            stream.extend(columns)
        elif "image_url" in columns:
            message = "image_url must be converted to stream_info"
            problems.append(
                doc.problem(message, f"{path}.column_type", column_type, "stream_info")
            )
    return stream


def _read_located(file: str) -> _Located:
    reason = not_a_file_reason(file)
    if reason:
        raise DataError(Problem(f"cannot read the MLTable file: it {reason}", file=file))
    with open(file, "rb") as fh:
        raw = fh.read(MAX_MLTABLE_BYTES + 1)
    if len(raw) > MAX_MLTABLE_BYTES:
        message = f"larger than {MAX_MLTABLE_BYTES >> 20} MB; an MLTable file lists paths"
        raise DataError(Problem(message, file=file))
    try:
        text = decode_yaml_bytes(raw, file)
    except ConfigError as exc:
        raise DataError(exc.problems) from None
    return _Located(file, text)


def parse_mltable(
    folder: str | os.PathLike[str], *, datastores: Mapping[str, str] | None = None
) -> MLTableSpec:
    """Read and check the ``MLTable`` file of ``folder``.

    Args:
        folder: The MLTable folder (or the ``MLTable`` file itself).
        datastores: Datastore mapping for ``azureml://`` paths in ``paths``.

    Returns:
        The files to read and the read options.

    Raises:
        DataError: Every problem found, each naming the MLTable file and line.
    """
    folder = os.fspath(folder)
    if os.path.basename(folder) == MLTABLE_FILE and os.path.isfile(folder):
        folder = os.path.dirname(folder) or "."
    file = os.path.join(folder, MLTABLE_FILE)
    if not os.path.isfile(file):
        hint = ""
        if os.path.isdir(folder):
            found = sorted(n for n in os.listdir(folder) if n.lower().endswith(".jsonl"))
            if found:
                hint = (
                    f"; the folder has {', '.join(found[:3])}: give type: uri_file and a "
                    "JSONL path, or add an MLTable file"
                )
        raise DataError(Problem(f"no {MLTABLE_FILE} file in this folder{hint}", file=folder))
    doc = _read_located(file)
    problems: list[Problem] = []
    root = doc.value
    if not isinstance(root, dict):
        raise DataError(doc.problem("an MLTable file must be a mapping with 'paths'", "", root))
    for key in root:
        if key not in _TOP_LEVEL_KEYS:
            close = _close(key, _TOP_LEVEL_KEYS)
            # Unknown keys without a near match are Azure features that do not affect reading.
            if close:
                problems.append(doc.problem("unknown MLTable key", str(key), suggestion=close))

    files = _parse_paths(doc, root.get("paths"), folder, datastores, problems)
    options: dict[str, Any] = {}
    stream_columns: list[str] = []
    transformations = root.get("transformations") or []
    if not isinstance(transformations, list):
        problems.append(doc.problem("'transformations' must be a list", "transformations"))
        transformations = []
    for index, step in enumerate(transformations):
        where = f"transformations[{index}]"
        if isinstance(step, str):
            step = {step: None}
        name = next(iter(step)) if isinstance(step, dict) and len(step) == 1 else None
        if name not in _TRANSFORMATIONS:
            problems.append(
                doc.problem(
                    "unsupported transformation; image data needs read_json_lines "
                    "(and optionally convert_column_types)",
                    f"{where}.{name}" if name else where,
                    name if name else step,
                    _close(name, _TRANSFORMATIONS) if name else None,
                )
            )
        elif name == "read_json_lines":
            options["read"] = True
            options.update(_parse_read_json_lines(doc, step[name], f"{where}.{name}", problems))
        else:
            stream_columns.extend(_parse_convert(doc, step[name], f"{where}.{name}", problems))
    if not options.pop("read", False) and transformations:
        problems.append(
            doc.problem("image data needs a read_json_lines transformation", "transformations")
        )
    if problems:
        raise DataError(problems, header=f"{file}: invalid MLTable")
    return MLTableSpec(
        folder=folder, files=tuple(files), stream_columns=tuple(stream_columns), **options
    )


def read_mltable(
    folder: str | os.PathLike[str],
    task: Task | str,
    *,
    target_column: str = "label",
    invalid_lines: str | None = None,
    datastores: Mapping[str, str] | None = None,
) -> LabeledImages:
    """Read an Azure MLTable folder of JSONL files.

    Args:
        folder: Folder holding the ``MLTable`` file (or that file's path).
        task: Task whose label shape the lines must have.
        target_column: Name of the label field.
        invalid_lines: ``"error"`` or ``"drop"``; ``None`` uses the MLTable's
            ``read_json_lines.invalid_lines`` (default ``error``).
        datastores: ``{datastore name: local folder}`` for ``azureml://`` paths, in the MLTable
            and in the JSONL files.

    Returns:
        The records of all files, in ``paths`` order; image paths are relative to each JSONL
        file's folder. ``source`` is the MLTable folder.

    Raises:
        DataError: An invalid MLTable (file and line named) or invalid JSONL lines.
    """
    spec = parse_mltable(folder, datastores=datastores)
    return read_jsonl_files(
        spec.files,
        task,
        target_column=target_column,
        invalid_lines=invalid_lines or spec.invalid_lines,
        datastores=datastores,
        encoding=spec.encoding,
        source=spec.folder,
    )
