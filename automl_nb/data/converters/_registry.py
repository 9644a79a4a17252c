"""The registry of annotation formats, keyed by the names the CLI uses (``coco``, ``voc``...)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_nb.data._records import LabeledImages
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.registry import Registry
from automl_nb.registry import suggest
from automl_nb.tasks import Task

from ._report import ConversionReport

# (src, task or None, report, **options) -> records; the reader fills the report's skips/notes.
Reader = Callable[..., LabeledImages]
# (data, out, **options) -> the main file or folder written.
Writer = Callable[..., Path]


@dataclass(frozen=True)
class Format:
    """One registered annotation format.

    Attributes:
        name: The user-facing name (``coco``).
        description: One line for ``--help``.
        tasks: Tasks the format can hold natively; the first is the default.
        reader: Reads the format into :class:`LabeledImages`.
        writer: Writes :class:`LabeledImages` in the format, when the format allows it.
    """

    name: str
    description: str
    tasks: tuple[Task, ...]
    reader: Reader
    writer: Writer | None = None


_FORMATS: Registry[Format] = Registry("annotation format", error=ConfigError)
# Export functions, by format name; a format without one can only be read.
_WRITERS: Registry[Writer] = Registry("writable annotation format", error=ConfigError)


def register_format(
    name: str, *, description: str, tasks: tuple[Task, ...]
) -> Callable[[Reader], Reader]:
    """Decorator that registers a reader function under ``name``."""

    def decorate(reader: Reader) -> Reader:
        _FORMATS.add(name, Format(name, description, tasks, reader))
        return reader

    return decorate


def register_writer(name: str) -> Callable[[Writer], Writer]:
    """Decorator that attaches an export function to the already registered format ``name``."""

    def decorate(writer: Writer) -> Writer:
        _FORMATS.get(name)  # the reader is registered first
        return _WRITERS.add(name, writer)

    return decorate


def list_formats(*, writable: bool = False) -> list[str]:
    """Registered format names (only those that can be written, with ``writable=True``)."""
    return [name for name in _FORMATS.names() if name in _WRITERS or not writable]


def get_format(name: str) -> Format:
    """The registered :class:`Format` ``name``.

    Raises:
        ConfigError: Unknown name; the message lists the formats and the closest match.
    """
    key = _FORMATS.key(str(name))
    if key is not None:
        fmt = _FORMATS.get(key)
        writer = _WRITERS.get(key) if key in _WRITERS else None
        return dataclasses.replace(fmt, writer=writer)
    raise ConfigError(
        Problem(
            f"unknown annotation format; expected one of: {', '.join(_FORMATS.names())}",
            path="format",
            value=repr(name),
            suggestion=suggest(str(name).strip().lower(), _FORMATS.names()),
        )
    )


def new_report(fmt: str, src: Any, task: Task) -> ConversionReport:
    """An empty report for converting ``src``."""
    return ConversionReport(format=fmt, source=str(src), task=task)
