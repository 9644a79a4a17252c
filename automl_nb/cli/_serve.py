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
        "--max-images",
        type=int,
        default=32,
        help="refuse requests with more images than this with 413 (default 32)",
    )
    parser.add_argument(
        "--max-n-steps",
        type=int,
        default=200,
        help="largest xai_parameters n_steps and internal_batch_size (default 200)",
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="answer 503 to a request still running after this (default 120)",
    )
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=16,
        help="scoring requests served at once; more get 503 (default 16)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not log one line per request on stderr"
    )


def run(args: argparse.Namespace) -> int:
    """Load the model, print the scoring URL and key, and serve until Ctrl-C."""
    from automl_nb.inference import ScoringLimits
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
        limits=ScoringLimits(
            max_body_bytes=max(1, int(args.max_body_mb * 1024 * 1024)),
            max_images=args.max_images,
            max_n_steps=args.max_n_steps,
            request_timeout_s=args.request_timeout,
            max_concurrent_requests=args.max_concurrent,
        ),
    )
    return 0
