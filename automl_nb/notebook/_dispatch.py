"""Run one ``%automl_vision`` command line: pick the verb, parse its arguments, call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from automl_nb.cli._verb_table import add_shared_arguments
from automl_nb.errors import AutoMLError
from automl_nb.notebook._parser import CmdParser
from automl_nb.notebook._parser import HelpRequested
from automl_nb.notebook._parser import split_line
from automl_nb.notebook._results import HelpText
from automl_nb.notebook._state import STATE
from automl_nb.notebook._state import NotebookState
from automl_nb.notebook._state import settings
from automl_nb.notebook.verbs import get_verb


@dataclass
class Context:
    """What a verb may use besides its arguments.

    Attributes:
        shell: The IPython shell, or None outside IPython.
        settings: The ``AutoMLVision`` options (workspace, refresh_seconds, ...).
        state: The notebook state (draft, last job).
        cell: The cell body for ``%%automl_vision``, else None.
    """

    shell: Any
    settings: Any
    state: NotebookState
    cell: str | None = None

    workspace_option: str | None = None

    @property
    def workspace(self) -> Any:
        """The workspace folder: ``--workspace``, else the options' (None: the default)."""
        return self.workspace_option or self.settings.workspace or None

    @property
    def last_job(self) -> Any:
        """The job submitted (or last named) in this kernel, or None."""
        from automl_nb.notebook._state import last_job

        return last_job()

    @property
    def in_kernel(self) -> bool:
        """True in a Jupyter kernel (widgets can be shown), False in a terminal."""
        return self.shell is not None and self.shell.has_trait("kernel")


def make_parser(name: str) -> CmdParser:
    """The argument parser of verb ``name``."""
    module = get_verb(name)
    parser = CmdParser(prog=f"%automl_vision {name}", description=module.HELP.strip())
    add_shared_arguments(parser, magic=name)
    module.add_arguments(parser)
    return parser


def run_command(
    line: str, cell: str | None = None, *, shell: Any = None, errors: str = "usage"
) -> Any:
    """Run ``%automl_vision <line>`` (with an optional cell body) and return its result.

    Args:
        line: The magic line, e.g. ``"status my-job"``.
        cell: The cell body of ``%%automl_vision``.
        shell: The IPython shell, when there is one.
        errors: ``"usage"`` turns the package's own errors (bad YAML keys, unknown jobs)
            into ``UsageError`` (shown without a traceback); ``"raise"`` lets them through.

    Returns:
        The verb's result object.

    Raises:
        UsageError: Unknown verb, bad arguments, or (with ``errors="usage"``) a located
            configuration, data or job error.
    """
    tokens = split_line(line)
    name = tokens[0] if tokens else "help"
    module = get_verb(name)
    parser = make_parser(name)
    try:
        args = parser.parse_args(tokens[1:])
    except HelpRequested as exc:
        return HelpText(exc.text)
    has_cell = cell is not None and cell.strip() != ""
    if module.CELL == "none" and has_cell:
        raise UsageError(f"%automl_vision {name} takes no cell body")
    if module.CELL == "required" and not has_cell:
        raise UsageError(
            f"%automl_vision {name} needs a cell body: start the cell with %%automl_vision {name}"
        )
    ctx = Context(
        shell=shell,
        settings=settings(),
        state=STATE,
        cell=cell if has_cell else None,
        workspace_option=getattr(args, "workspace", None),
    )
    try:
        return module.run(args, ctx)
    except AutoMLError as exc:
        if errors == "raise":
            raise
        raise UsageError(str(exc)) from None


def automl_vision(line: str = "help", cell: str | None = None) -> Any:
    """Run a ``%automl_vision`` command from Python, without IPython magics.

    Errors of the package itself (``ConfigError``, ``DataError``, ``JobError``) are raised as
    they are.

    Example:
        >>> from automl_nb.notebook import automl_vision
        >>> automl_vision("new image_classification --name demo").missing[0]
        "target_column_name is required (usually 'label')"
        >>> automl_vision("config", "target_column_name: label").missing
        ['training_data is required ({path: ..., type: mltable})']
    """
    from automl_nb.notebook._state import _SETTINGS

    shell = getattr(_SETTINGS, "shell", None)
    return run_command(line, cell, shell=shell, errors="raise")
