"""The ``automl-vision`` command: the same engine as the notebook, for scripts and CI.

Each verb lives in its own module ``automl_nb/cli/_<verb>.py`` that defines:

* ``HELP``: a one-line summary shown by ``automl-vision --help``;
* ``add_arguments(parser)``: the arguments only the command line has (output formats);
* ``run(args, ctx) -> int``: does the work and returns the exit status (``ctx`` is a
  :class:`automl_nb.cli._verb_table.CommandContext`, as the magics get their ``Context``);
* optionally ``PROBLEM_STATUS``: the exit status of a located input problem (default 2).

The verbs are one :class:`automl_nb.registry.Registry` (:data:`VERBS`), keyed by the name typed
on the command line. A verb the ``%automl_vision`` magics have too declares its arguments
once, in :data:`automl_nb.cli._verb_table.VERB_TABLE`, for both parsers. A verb with
``--datastore`` gets the mapping applied before it runs
(:func:`automl_nb.cli._jobs_common.applied_datastores`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from automl_nb import __version__
from automl_nb.cli._verb_table import CommandContext
from automl_nb.cli._verb_table import add_shared_arguments
from automl_nb.errors import AutoMLError
from automl_nb.errors import LocatedError
from automl_nb.registry import Registry

# verb -> module under automl_nb.cli; order is the order shown in --help.
VERBS: Registry[str] = Registry("command", error=AutoMLError)
for _verb in (
    "validate",
    "check",
    "convert",
    "plan",
    "run",
    "submit",
    "status",
    "trials",
    "cancel",
    "resume",
    "worker",
    "predict",
    "explain",
    "serve",
    "export",
    "models",
):
    VERBS.add(_verb, f"_{_verb}")


def _available_verbs() -> dict[str, str]:
    found = {}
    for verb, module in VERBS.items():
        if importlib.util.find_spec(f"automl_nb.cli.{module}") is not None:
            found[verb] = module
    return found


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per available verb."""
    parser = argparse.ArgumentParser(
        prog="automl-vision",
        description="Azure ML AutoML-for-Images jobs on your own machine.",
    )
    parser.add_argument("--version", action="version", version=f"automl-nb {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")
    sub.required = True
    for verb, module_name in _available_verbs().items():
        module = importlib.import_module(f"automl_nb.cli.{module_name}")
        verb_parser = sub.add_parser(verb, help=module.HELP, description=module.HELP)
        add_shared_arguments(verb_parser, command=verb)
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(_module=module)
    return parser


def _datastores(args: argparse.Namespace) -> contextlib.AbstractContextManager:
    if not hasattr(args, "datastore"):
        return contextlib.nullcontext()
    from automl_nb.cli._jobs_common import applied_datastores

    return applied_datastores(args)


def _print_located(exc: LocatedError) -> None:
    if exc.header:
        print(f"error: {exc.header}", file=sys.stderr)
    for problem in exc.problems:
        print(f"{'  ' if exc.header else 'error: '}{problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``automl-vision`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _datastores(args):
            ctx = CommandContext(workspace=getattr(args, "workspace", None))
            return int(args._module.run(args, ctx) or 0)
    except LocatedError as exc:
        _print_located(exc)
        # validate reports every problem with status 1; other verbs treat them as errors.
        return int(getattr(args._module, "PROBLEM_STATUS", 2))
    except AutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
