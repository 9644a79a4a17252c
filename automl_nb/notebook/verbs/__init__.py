"""The ``%automl_vision`` verbs, one module each.

A verb module defines ``HELP`` (its description; the first line is the summary), ``CELL``
(``"none"``, ``"optional"`` or ``"required"``: whether it takes a cell body),
``add_arguments(parser)`` and ``run(args, ctx) -> object``. The object renders itself.

The verbs are one :class:`automl_nb.registry.Registry` (:data:`VERB_MODULES`). Where a verb
also exists on the command line, its arguments are declared once for both, in
:data:`automl_nb.cli._verb_table.VERB_TABLE`, and the module's ``add_arguments`` adds only what
the notebook shows differently; :data:`CLI_VERBS` names the ``automl-vision`` command of each
magic verb.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from IPython.core.error import UsageError

from automl_nb.cli._verb_table import magic_verbs
from automl_nb.registry import Registry

# The user-facing verb names, in the order ``help`` lists them.
VERBS: tuple[str, ...] = (
    "new",
    "config",
    "show",
    "data",
    "check",
    "builder",
    "sweep",
    "plan",
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

# verb -> module under automl_nb.notebook.verbs.
VERB_MODULES: Registry[str] = Registry("verb", error=UsageError)
for _verb in VERBS:
    VERB_MODULES.add(_verb, f"automl_nb.notebook.verbs._{_verb}")

# magic verb -> the automl-vision command doing the same work (one table for both).
CLI_VERBS: dict[str, str] = magic_verbs()


def get_verb(name: str) -> ModuleType:
    """The module of verb ``name``.

    Raises:
        UsageError: Unknown verb, with the closest names.
    """
    if name not in VERB_MODULES:
        raise UsageError(
            f"{VERB_MODULES.unknown_message(name)}\nverbs: {', '.join(VERBS)} "
            "(%automl_vision help VERB for details)"
        )
    return importlib.import_module(VERB_MODULES.get(name))


def summary(module: ModuleType) -> str:
    """The first sentence of a verb's help, whole even when it runs over several lines.

    Example:
        >>> summary(get_verb("predict")).endswith("output schema, each drawn on its image.")
        True
    """
    paragraph = " ".join(module.HELP.strip().split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]
