"""``automl-vision worker JOB``: join a job from another machine.

* ``--storage URL``: run trials of a sweep whose study is in a shared Optuna storage;
* ``--node-rank K``: be node ``K`` of each trial of a job with
  ``properties.node_count_per_trial`` > 1 (the job folder shared with the controller's machine).
"""

from __future__ import annotations

import argparse
import logging
import os

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.cli._verb_table import CommandContext
from automl_nb.errors import JobError

HELP = (
    "join a job from another machine: run sweep trials (--storage) or be node K of each "
    "multi-machine trial (--node-rank)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``worker``."""
    add_datastore_argument(parser)
    parser.add_argument("job", help="job id (the study name in the shared storage)")
    parser.add_argument("--storage", default=None, help="database URL shared by the workers")
    parser.add_argument(
        "--node-rank",
        type=int,
        default=None,
        help="be node K (1, 2, ...) of each trial of the job (node_count_per_trial > 1); the "
        "workspace must be the controller's, on a shared filesystem",
    )
    parser.add_argument(
        "--node-address",
        default=None,
        help="the address the other nodes reach this machine at (default: "
        "$AUTOML_NB_NODE_ADDRESS, else the address of the default route)",
    )
    add_workspace_argument(parser)


def run(args: argparse.Namespace, ctx: CommandContext) -> int:
    """Run trials (or nodes of trials) of the job here until it ends."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.node_rank is not None:
        from automl_nb.runner._node_worker import serve_nodes
        from automl_nb.training._nodes import NODE_ADDRESS_ENV

        if args.storage:
            raise JobError("--node-rank joins trials through the job folder: no --storage")
        if args.node_address:
            os.environ[NODE_ADDRESS_ENV] = args.node_address
        final = serve_nodes(args.job, node_rank=args.node_rank, workspace=args.workspace)
        print(f"{args.job}: node {args.node_rank} finished (job {final})")
        return 0
    if not args.storage:
        raise JobError("give --storage URL (a sweep's shared storage) or --node-rank K")
    from automl_nb.runner._worker_join import join_sweep

    final = join_sweep(args.job, storage=args.storage, workspace=args.workspace)
    print(f"{args.job}: worker finished ({final})")
    return 0
