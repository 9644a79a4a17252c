"""Collects located problems while a job is validated, so all of them are reported at once."""

from __future__ import annotations

from typing import Any

from automl_nb.config._yaml import Mark
from automl_nb.config._yaml import Path
from automl_nb.config._yaml import format_path
from automl_nb.errors import Problem

_NOTHING = object()


class Reporter:
    """Turns ``(path, message)`` pairs into :class:`Problem` entries with file and line.

    Args:
        values: Marks of values by path.
        keys: Marks of keys by path.
        file: The file to name when a path has no mark of its own.
    """

    def __init__(
        self,
        values: dict[Path, Mark] | None = None,
        keys: dict[Path, Mark] | None = None,
        file: str | None = None,
    ):
        self.values = values or {}
        self.keys = keys or {}
        self.file = file
        self.errors: list[Problem] = []
        self.missing: list[Problem] = []

    def _mark(self, path: Path, at_key: bool) -> Mark:
        if at_key and path in self.keys:
            return self.keys[path]
        # A missing key is reported at its parent mapping: walk up to the nearest mark.
        for depth in range(len(path), -1, -1):
            mark = self.values.get(tuple(path[:depth]))
            if mark is not None:
                return mark
        return Mark(self.file)

    def problem(
        self,
        path: Path,
        message: str,
        *,
        value: Any = _NOTHING,
        suggestion: str | None = None,
        at_key: bool = False,
    ) -> Problem:
        """Build a located :class:`Problem` (without recording it)."""
        mark = self._mark(tuple(path), at_key)
        shown = None
        if value is not _NOTHING:
            shown = repr(value)
            if len(shown) > 80:
                shown = shown[:77] + "..."
        return Problem(
            message,
            file=mark.file,
            line=mark.line,
            column=mark.column,
            path=format_path(tuple(path)) or None,
            value=shown,
            suggestion=suggestion,
        )

    def error(self, path: Path, message: str, **kwargs: Any) -> None:
        """Record an invalid key or value."""
        self.errors.append(self.problem(path, message, **kwargs))

    def lack(self, path: Path, message: str) -> None:
        """Record a required key that is not given (yet)."""
        self.missing.append(self.problem(path, message))
