"""One trial on several machines: torchrun's c10d rendezvous across ``node_count_per_trial``
nodes.

Node 0 is the machine whose process runs the trial (the trial's kernel under the job
controller, or ``automl-vision run``); :func:`~automl_nb.training._launch.run_distributed_trial`
starts its ``torchrun`` there, hosting the rendezvous, and publishes where it is in
``<trial>/.ranks/rendezvous.json``: the endpoint ``host:port`` (this machine's address, or
``$AUTOML_NB_NODE_ADDRESS``; a free port, or ``$AUTOML_NB_RDZV_PORT``), the rendezvous id (the
job, the trial and a token: a retried trial meets under a new id), the node count and the
processes per node. The job folder must be on a filesystem every node mounts (NFS...), as the
data must be, so the other nodes read that file: on each,
``automl-vision worker JOB --node-rank K`` (:func:`join_trial`, called by
:func:`automl_nb.runner._node_worker.serve_nodes`) claims node ``K`` of each trial that appears
(``.ranks/node-K.json``, created exclusively, so two workers never take the same place) and
starts its own ``torchrun`` with ``--node-rank K`` against that endpoint.

* Ranks are numbered as with a static rendezvous (node ``K``'s local rank ``i`` is global rank
  ``K * processes + i``; c10d itself orders nodes by host name and pid), so global rank 0 runs
  on node 0 and writes the trial folder, and the shards are those of one machine.
* A stop (cancel, pruning, timeout) reaches every node's ranks: rank 0 sees the trial's
  ``stop`` file and the ranks agree on it with an all-reduce (``_distributed.RankSync``).
* A node that dies (its worker killed, a rank failing) ends the collectives of the others:
  every ``torchrun`` fails, the trial fails on node 0 with the first error, and each node
  kills its own processes; a node whose trial ended elsewhere ends its ranks after a grace.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("automl_nb.training")

# The address other nodes reach this machine at (default: the address of its default route).
NODE_ADDRESS_ENV = "AUTOML_NB_NODE_ADDRESS"
# A fixed rendezvous port on node 0 (default: a free one per trial).
RDZV_PORT_ENV = "AUTOML_NB_RDZV_PORT"
# Seconds node 0 waits for the other nodes to join a trial.
JOIN_TIMEOUT_ENV = "AUTOML_NB_NODE_JOIN_TIMEOUT"
DEFAULT_JOIN_TIMEOUT = 600
# Set for every rank: the node it runs on (its global rank is computed from it).
NODE_RANK_ENV = "AUTOML_NB_NODE_RANK"
RENDEZVOUS_FILE = "rendezvous.json"
# How long a node's ranks may outlive the trial on node 0 before they are killed.
NODE_GRACE_SECONDS = 30.0


def node_count(spec: Any) -> int:
    """``properties.node_count_per_trial`` (1 when not set)."""
    value = (getattr(spec, "properties", None) or {}).get("node_count_per_trial")
    return max(1, int(value)) if value else 1


def node_address() -> str:
    """``$AUTOML_NB_NODE_ADDRESS``, else the address of this machine's default route."""
    configured = os.environ.get(NODE_ADDRESS_ENV, "").strip()
    if configured:
        return configured
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # a documentation address: nothing is sent
            return str(probe.getsockname()[0])
    except OSError:
        return socket.getfqdn()


def _rendezvous_port() -> int:
    configured = os.environ.get(RDZV_PORT_ENV, "").strip()
    if configured:
        return int(configured)
    with socket.socket() as sock:
        sock.bind(("", 0))
        return int(sock.getsockname()[1])


def join_timeout() -> int:
    """Seconds node 0 waits for the other nodes (``$AUTOML_NB_NODE_JOIN_TIMEOUT``, 600)."""
    text = os.environ.get(JOIN_TIMEOUT_ENV, "").strip()
    return int(float(text)) if text else DEFAULT_JOIN_TIMEOUT


def new_rendezvous(folder: Path, *, nodes: int, processes: int) -> dict[str, Any]:
    """Node 0's rendezvous for one run of the trial in ``folder`` (``<job>/trials/<n>``)."""
    host = node_address()
    return {
        "id": f"{folder.parent.parent.name}-{folder.name}-{secrets.token_hex(4)}",
        "endpoint": f"{host}:{_rendezvous_port()}",
        "nodes": nodes,
        "processes_per_node": processes,
        "job": folder.parent.parent.name,
        "trial": folder.name,
        "started": time.time(),
    }


def torchrun_arguments(record: dict[str, Any], node_rank: int) -> list[str]:
    """``torchrun`` options for node ``node_rank`` of ``record``'s rendezvous."""
    host = "1" if node_rank == 0 else "0"  # node 0 hosts the rendezvous store
    return [
        f"--nnodes={record['nodes']}",
        f"--node-rank={node_rank}",
        f"--nproc-per-node={record['processes_per_node']}",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint={record['endpoint']}",
        f"--rdzv-id={record['id']}",
        f"--rdzv-conf=is_host={host},join_timeout={join_timeout()}",
        f"--local-addr={node_address()}",
    ]


def local_ranks(record: dict[str, Any] | None, node_rank: int, processes: int) -> range:
    """The global ranks node ``node_rank`` runs."""
    per = int(record["processes_per_node"]) if record else processes
    return range(node_rank * per, (node_rank + 1) * per)


def global_rank_from_env() -> int:
    """This rank's global rank: ``node * processes + local rank`` on a multi-node trial
    (c10d numbers nodes in its own order), else torchrun's ``RANK``."""
    node = os.environ.get(NODE_RANK_ENV)
    if node is None:
        return int(os.environ["RANK"])
    return int(node) * int(os.environ["LOCAL_WORLD_SIZE"]) + int(os.environ["LOCAL_RANK"])


def worker_command(folder: Path) -> str:
    """What to run on another machine (node ``K``) to join the trial in ``folder``."""
    job = folder.parent.parent
    return f"automl-vision worker {job.name} --node-rank K --workspace {job.parent.parent}"


def missing_nodes(ranks: Path, record: dict[str, Any]) -> list[int]:
    """Nodes of ``record`` no worker claimed."""
    missing = []
    for node in range(1, int(record["nodes"])):
        claim = _read(ranks / f"node-{node}.json")
        if not claim or claim.get("id") != record["id"]:
            missing.append(node)
    return missing


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_rendezvous(ranks: Path) -> dict[str, Any] | None:
    """The rendezvous of the trial run now in progress (``None`` once it ended)."""
    return _read(ranks / RENDEZVOUS_FILE)


def _claim(ranks: Path, record: dict[str, Any], node_rank: int) -> bool:
    """Take node ``node_rank`` of the rendezvous; False when another worker has it."""
    claim = ranks / f"node-{node_rank}.json"
    data = json.dumps({"id": record["id"], "host": socket.gethostname(), "pid": os.getpid()})
    try:
        fd = os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(data)
    return True


def join_trial(
    trial_dir: Path,
    record: dict[str, Any],
    node_rank: int,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    poll: float = 0.5,
) -> str:
    """Run node ``node_rank`` of the trial in ``trial_dir`` until its ranks end.

    Returns ``"taken"`` (another worker is that node), ``"done"`` (the ranks ended cleanly)
    or ``"failed (...)"``. Every process started here is gone when it returns.
    """
    from automl_nb.training._distributed import TRIAL_DIR_ENV
    from automl_nb.training._launch import RANKS_DIR
    from automl_nb.training._launch import end_processes
    from automl_nb.training._launch import rank_command
    from automl_nb.training._launch import threads_per_rank

    folder = Path(trial_dir).resolve()
    ranks = folder / RANKS_DIR
    if not _claim(ranks, record, node_rank):
        return "taken"
    processes = int(record["processes_per_node"])
    env = dict(os.environ, **{TRIAL_DIR_ENV: str(folder), NODE_RANK_ENV: str(node_rank)})
    env.setdefault("OMP_NUM_THREADS", threads_per_rank(processes))
    command = rank_command(torchrun_arguments(record, node_rank), ranks / "request.json")
    log.info("trial %s: joining as node %d (%s)", record["trial"], node_rank, record["endpoint"])
    with open(folder / f"ranks-node-{node_rank}.log", "ab") as output:
        agent = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            code = _watch(agent, ranks, record, should_stop, poll)
        finally:
            end_processes(agent, ranks, local_ranks(record, node_rank, processes))
    return "done" if code == 0 else f"failed (torchrun exited with {code})"


def _watch(
    agent: subprocess.Popen,
    ranks: Path,
    record: dict[str, Any],
    should_stop: Callable[[], bool],
    poll: float,
) -> int | None:
    """Wait for this node's ``torchrun``; end it once the trial ended on node 0 (after a
    grace, for the ranks to finish with the others) or the worker is asked to stop."""
    ended_at: float | None = None
    while True:
        try:
            return agent.wait(timeout=poll)
        except subprocess.TimeoutExpired:
            pass
        current = read_rendezvous(ranks)
        if ended_at is None and (current is None or current.get("id") != record["id"]):
            ended_at = time.monotonic()
        overdue = ended_at is not None and time.monotonic() - ended_at > NODE_GRACE_SECONDS
        if overdue or should_stop():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(agent.pid, signal.SIGTERM)
            return None


def publish_rendezvous(ranks: Path, record: dict[str, Any]) -> None:
    """Write ``rendezvous.json`` atomically (the other nodes poll it)."""
    temp = ranks / f".{RENDEZVOUS_FILE}.tmp"
    temp.write_text(json.dumps(record), encoding="utf-8")
    temp.replace(ranks / RENDEZVOUS_FILE)


def withdraw_rendezvous(ranks: Path, record: dict[str, Any]) -> None:
    """Remove ``rendezvous.json`` (the trial ended here): no node joins it any more."""
    current = read_rendezvous(ranks)
    if current is not None and current.get("id") == record["id"]:
        (ranks / RENDEZVOUS_FILE).unlink(missing_ok=True)


def log_waiting(folder: Path, record: dict[str, Any]) -> None:
    """Say, in the trial log and on stderr, how to start the other nodes."""
    others = ", ".join(str(k) for k in range(1, int(record["nodes"])))
    hint = f"waiting for node(s) {others}: on each, run `{worker_command(folder)}`"
    log.info("%s (rendezvous %s, id %s)", hint, record["endpoint"], record["id"])
    print(f"trial {folder.name}: {hint}", file=sys.stderr, flush=True)
