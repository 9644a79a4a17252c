"""``automl-vision serve MODEL_DIR [--host H] [--port P] [--key K | --no-auth]``: a local
endpoint that takes the Azure scoring request body."""

from __future__ import annotations

import argparse
import logging

from automl_nb.cli._jobs_common import resolve_model_source
from automl_nb.cli._verb_table import CommandContext
from automl_nb.cli._verb_table import scoring_limits

HELP = "serve a trained model folder as a local Azure-style scoring endpoint (key auth)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` (the rest is :func:`automl_nb.cli._verb_table.serve_arguments`)."""
    parser.add_argument(
        "--quiet", action="store_true", help="do not log one line per request on stderr"
    )


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Load the model, print the scoring URL and key, and serve until Ctrl-C."""
    from automl_nb.inference import serve

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    serve(
        resolve_model_source(args, ctx),
        host=args.host,
        port=args.port,
        key=args.key,
        auth_mode="none" if args.no_auth else "key",
        device=args.device,
        limits=scoring_limits(args),
    )
    return 0
