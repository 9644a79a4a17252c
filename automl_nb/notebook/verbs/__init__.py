"""The ``%automl_vision`` verbs, one module each.

A verb module defines ``HELP`` (its description; the first line is the summary), ``CELL``
(``"none"``, ``"optional"`` or ``"required"``: whether it takes a cell body),
``add_arguments(parser)`` and ``run(args, ctx) -> object``. The object renders itself.
"""

from __future__ import annotations

import difflib
import importlib
from types import ModuleType

from IPython.core.error import UsageError

# The user-facing verb names, in the order ``help`` lists them.
VERBS: tuple[str, ...] = (
    "new",
    "config",
    "show",
    "data",
    "check",
    "builder",
    "sweep",
    "submit",
    "jobs",
    "status",
    "trials",
    "dashboard",
    "cancel",
    "resume",
    "best",
    "predict",
    "explain",
    "deploy",
    "export",
    "models",
    "help",
)


def get_verb(name: str) -> ModuleType:
    """The module of verb ``name``.

    Raises:
        UsageError: Unknown verb, with the closest names.
    """
    if name not in VERBS:
        close = difflib.get_close_matches(name, VERBS, n=3)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise UsageError(
            f"unknown verb {name!r}{hint}\nverbs: {', '.join(VERBS)} "
            "(%automl_vision help VERB for details)"
        )
    return importlib.import_module(f"automl_nb.notebook.verbs._{name}")


def summary(module: ModuleType) -> str:
    """The first line of a verb's help."""
    return module.HELP.strip().splitlines()[0]
