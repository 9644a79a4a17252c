"""``automl-vision serve MODEL_DIR [--host H] [--port P] [--key K | --no-auth]``: a local
endpoint that takes the Azure scoring request body."""

from __future__ import annotations

import argparse
import logging

HELP = "serve a trained model folder as a local Azure-style scoring endpoint (key auth)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Fill the ``serve`` sub-parser."""
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a trained model folder")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default 127.0.0.1; any other is reachable from other machines)",
    )
    parser.add_argument(
        "--port", type=int, default=5001, help="TCP port (default 5001; 0 picks a free one)"
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--key",
        default=None,
        help="the key clients send as 'Authorization: Bearer KEY' (default: a random one)",
    )
    auth.add_argument(
        "--no-auth",
        action="store_true",
        help="accept requests without a key (auth_mode none; loopback hosts only)",
    )
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")
    parser.add_argument(
        "--max-body-mb",
        type=float,
        default=50.0,
        help="refuse request bodies larger than this many MB with 413 (default 50)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not log one line per request on stderr"
    )


def run(args: argparse.Namespace) -> int:
    """Load the model, print the scoring URL and key, and serve until Ctrl-C."""
    from automl_nb.inference import serve

    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    serve(
        args.model_dir,
        host=args.host,
        port=args.port,
        key=args.key,
        auth_mode="none" if args.no_auth else "key",
        device=args.device,
        max_body_bytes=int(args.max_body_mb * 1024 * 1024),
    )
    return 0
