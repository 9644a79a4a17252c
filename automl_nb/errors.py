"""Exceptions shared by the whole package.

Every user-facing error carries one or more :class:`Problem` entries that say *where* the
problem is (file, line, key path or field) and *what* is wrong, so that a message reads
``job.yml:14: training_parameters.learning_rate: must be <= 1 (got 3.0)``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located problem in a user input (job YAML, JSONL line, annotation file).

    Attributes:
        message: What is wrong, in plain words.
        file: The file the problem is in, when known.
        line: 1-based line number in ``file``, when known.
        column: 1-based column, when known.
        path: Dotted key path (``training_parameters.learning_rate``) or field name
            (``label[2].topX``).
        value: The offending value, already ``repr``-ed, when there is one.
        suggestion: A nearest valid alternative (``did you mean 'learning_rate'?``).
    """

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    value: str | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        text = where
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.value is not None:
            text += f" (got {self.value})"
        if self.suggestion:
            text += f"; did you mean {self.suggestion!r}?"
        return text


class AutoMLError(Exception):
    """Base class of every error automl-nb raises on purpose."""


class LocatedError(AutoMLError, ValueError):
    """An error made of one or more located :class:`Problem` entries."""

    def __init__(self, problems: Sequence[Problem] | Problem | str, *, header: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.header = header
        super().__init__(self._format())

    def _format(self) -> str:
        lines = [str(p) for p in self.problems]
        if self.header:
            return "\n".join([self.header, *("  " + line for line in lines)])
        return "\n".join(lines)


class ConfigError(LocatedError):
    """The job spec (YAML, builder call or magic) is invalid."""


class DataError(LocatedError):
    """Labelled image data (JSONL, MLTable, annotation files, images) is invalid."""


class ModelError(AutoMLError, ValueError):
    """Unknown model name, or weights that cannot be had."""


class JobError(AutoMLError, RuntimeError):
    """A job or trial could not be run, found or controlled."""


def not_a_file_reason(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as an ordinary file, or None when it can.

    A FIFO, a socket or a device (``/dev/zero``) would block a reader for ever or never end,
    so every reader of a user's file asks here first and reports the answer as a located
    problem.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "not found" if not os.path.islink(path) else "a symbolic link to a missing file"
    except OSError as exc:
        return f"cannot be read: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device or socket"
        return f"is {kind}, not a regular file"
    return None
