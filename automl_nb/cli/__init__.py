"""The ``automl-vision`` command: the same engine as the notebook, for scripts and CI.

Each verb lives in its own module ``automl_nb/cli/_<verb>.py`` that defines:

* ``HELP``: a one-line summary shown by ``automl-vision --help``;
* ``add_arguments(parser)``: fills an ``argparse`` sub-parser;
* ``run(args) -> int``: does the work and returns the exit status.

Verb modules are imported only when that verb runs, so ``automl-vision --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from automl_nb import __version__
from automl_nb.errors import AutoMLError

# verb -> module under automl_nb.cli; order is the order shown in --help.
VERBS: dict[str, str] = {
    "validate": "_validate",
    "check": "_check",
    "convert": "_convert",
    "run": "_run",
    "submit": "_submit",
    "status": "_status",
    "trials": "_trials",
    "cancel": "_cancel",
    "resume": "_resume",
    "worker": "_worker",
    "predict": "_predict",
    "explain": "_explain",
    "serve": "_serve",
    "export": "_export",
    "models": "_models",
}


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
        module.add_arguments(verb_parser)
        verb_parser.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``automl-vision`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except AutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
