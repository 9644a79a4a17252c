"""``help``: list the verbs, or explain one."""

from __future__ import annotations

import argparse
from typing import Any

from automl_nb.notebook._results import HelpText
from automl_nb.notebook._results import TableResult

HELP = """List the verbs, or show the help of one (same as %automl_vision VERB --help)."""
CELL = "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("verb", nargs="?", help="a verb to explain")


def run(args: argparse.Namespace, ctx: Any) -> Any:
    from automl_nb.notebook._dispatch import make_parser
    from automl_nb.notebook.verbs import CLI_VERBS
    from automl_nb.notebook.verbs import VERBS
    from automl_nb.notebook.verbs import get_verb
    from automl_nb.notebook.verbs import summary

    if args.verb:
        get_verb(args.verb)
        return HelpText(make_parser(args.verb).format_help())
    rows = [
        [
            f"%automl_vision {name}",
            summary(get_verb(name)),
            f"automl-vision {CLI_VERBS[name]}" if name in CLI_VERBS else "",
        ]
        for name in VERBS
    ]
    return TableResult(
        "AutoML for Images verbs (%automl_vision VERB --help for details)",
        ["verb", "what", "on the command line"],
        rows,
    )
