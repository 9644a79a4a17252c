"""Result objects of the simple verbs: each renders as HTML in a notebook and as text in a
terminal, and keeps its data as attributes for Python use."""

from __future__ import annotations

from abc import ABC
from abc import abstractmethod
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.notebook._html import esc
from automl_nb.notebook._html import pre
from automl_nb.notebook._html import table
from automl_nb.notebook._html import text_table


class Result(ABC):
    """Base of the verbs' results: ``_repr_html_`` for notebooks, ``__repr__`` for terminals."""

    @abstractmethod
    def to_text(self) -> str:
        """The plain-text form."""

    def _repr_html_(self) -> str:
        return pre(self.to_text())

    def __repr__(self) -> str:
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()


@dataclass(repr=False)
class Message(Result):
    """A short confirmation (``cancel``, ``resume``), with an optional level.

    Attributes:
        text: The message.
        level: ``info``, ``warning`` or ``error``.
    """

    text: str
    level: str = "info"

    def to_text(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        colour = {"info": "inherit", "warning": "#9a6700", "error": "#cf222e"}[self.level]
        return f"<div style='color:{colour}'>{esc(self.text)}</div>"


@dataclass(repr=False)
class HelpText(Result):
    """A verb's ``--help`` text."""

    text: str

    def to_text(self) -> str:
        return self.text.rstrip()


@dataclass(repr=False)
class TableResult(Result):
    """A titled table (``jobs``, ``models``...).

    Attributes:
        title: One line above the table.
        headers: Column names.
        rows: Cell values, one list per row.
        html_rows: Optional HTML cells (same shape) used in the notebook view.
    """

    title: str
    headers: list[str]
    rows: list[list[Any]]
    html_rows: list[list[str]] | None = field(default=None)

    def to_text(self) -> str:
        if not self.rows:
            return f"{self.title}\n(none)"
        return f"{self.title}\n{text_table(self.headers, self.rows)}"

    def _repr_html_(self) -> str:
        body = (
            table(self.headers, self.html_rows, raw=True)
            if self.html_rows is not None
            else table(self.headers, self.rows)
        )
        return f"<div><b>{esc(self.title)}</b>{body if self.rows else '<p>(none)</p>'}</div>"


class DraftView(Result):
    """The current draft: its YAML and whether it is complete.

    Attributes:
        draft: The :class:`automl_nb.config.JobDraft`.
        yaml: The normalized YAML (v2 names).
        missing: What is still missing before it can be submitted.
        note: A line shown above (``merged 2 keys``).
        full: Show the whole YAML (``show``); without, only the note and what is missing
            (``new`` and ``config``, so each cell does not reprint the draft).
    """

    def __init__(self, draft: Any, note: str = "", *, full: bool = True) -> None:
        self.draft = draft
        self.yaml = draft.to_yaml()
        self.missing = [p.message for p in draft.problems()]
        self.note = note
        self.full = full

    @property
    def is_complete(self) -> bool:
        """True when the draft can be submitted."""
        return not self.missing

    def _state_line(self) -> str:
        if self.is_complete:
            return "complete: ready to submit"
        return f"incomplete: {len(self.missing)} missing"

    def to_text(self) -> str:
        lines = [self.note] if self.note else []
        lines.append(f"job draft ({self._state_line()})")
        lines += [f"  missing: {m}" for m in self.missing]
        if not self.full:
            return "\n".join([*lines, "(%automl_vision show prints the whole YAML)"])
        return "\n".join(lines) + "\n" + self.yaml.rstrip()

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.is_complete else "#9a6700"
        items = "".join(f"<li>{esc(m)}</li>" for m in self.missing)
        note = f"<div>{esc(self.note)}</div>" if self.note else ""
        return (
            f"<div>{note}<div style='color:{colour};font-weight:600'>job draft: "
            f"{esc(self._state_line())}</div>"
            + (f"<ul style='margin:0'>{items}</ul>" if items else "")
            + (
                f"<pre style='margin:0'>{esc(self.yaml)}</pre>"
                if self.full
                else "<small><code>%automl_vision show</code> prints the whole YAML</small>"
            )
            + "</div>"
        )
