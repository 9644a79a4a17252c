"""Start one trial on several processes with ``torchrun``, from the trial's own process.

:func:`~automl_nb.training.run_trial` calls :func:`run_distributed_trial` when the trial asks
for more than one process (see :func:`automl_nb.training._distributed.processes_per_trial`).
The ranks never run inside a Jupyter kernel (where DDP hangs or kills the kernel): the kernel
starts ``python -m torch.distributed.run`` as a child in its own session and process group,
and waits for it:

* ``torchrun --standalone`` (c10d rendezvous on a free local port) starts the ranks, each
  ``python -m automl_nb.training._rank rank REQUEST``; their output goes to
  ``<trial>/ranks.log``;
* an interrupt of the kernel (cancel, pruning, timeout: the controller writes ``stop`` first)
  reaches every rank through the ``stop`` file; the ranks stop at the same batch, rank 0 keeps
  the best model, and the interrupt is raised again here once they are gone;
* a rank that fails or dies makes ``torchrun`` end the others; the trial then fails with the
  rank's error, and every process of the group is killed before this function returns;
* ``torchrun`` and every rank die with their parent (``PR_SET_PDEATHSIG``), so a kernel that
  is killed leaves no process behind.

Rank 0 writes the trial folder as a single-process trial would; ranks 1.. write scratch
folders under ``<trial>/.ranks/``. With ``properties.node_count_per_trial`` > 1 this machine is
node 0 of a c10d rendezvous that the other machines join (:mod:`automl_nb.training._nodes`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("automl_nb.training")

RANKS_DIR = ".ranks"
RANKS_LOG = "ranks.log"
# How long stopped ranks may take to write the kept model before they are killed (the
# controller's own grace is 30 s).
STOP_GRACE_SECONDS = 25.0
# How long node 0's torchrun may outlive its ranks once rank 0 wrote the trial's result.
DONE_GRACE_SECONDS = 10.0
# The module each process runs (not imported by the package, so ``-m`` runs it cleanly).
_RANK_ENTRY = "automl_nb.training._rank"


class DistributedTrialError(RuntimeError):
    """A rank of a multi-process trial failed or died."""


def _die_with_parent(sig: int) -> None:
    """Ask Linux to send ``sig`` to this process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    # Without prctl the launcher's pid files still let it end the ranks.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(sig))  # PR_SET_PDEATHSIG


def threads_per_rank(processes: int) -> str:
    """``OMP_NUM_THREADS`` for each of ``processes`` ranks sharing this machine's threads."""
    import torch

    return str(max(1, torch.get_num_threads() // processes))


def rank_command(torchrun_arguments: list[str], request: Path) -> list[str]:
    """The ``torchrun`` command line (dying with its parent) whose ranks run ``request``."""
    return [
        sys.executable,
        "-m",
        _RANK_ENTRY,
        "agent",
        *torchrun_arguments,
        "--max-restarts=0",
        "--monitor-interval=0.5",
        "-m",
        _RANK_ENTRY,
        "rank",
        str(request),
    ]


def run_distributed_trial(
    spec: Any,
    params: dict[str, Any],
    trial_dir: Path,
    *,
    processes: int,
    nodes: int = 1,
    device: Any = None,
    resume: bool = False,
    time_budget: float | None = None,
) -> Any:
    """Run the trial on ``processes`` ranks under ``torchrun``; return rank 0's result.

    With ``nodes`` > 1 this is node 0 of a rendezvous of ``nodes`` machines, each running
    ``processes`` ranks (see :mod:`automl_nb.training._nodes`).

    Raises:
        DistributedTrialError: A rank failed (its error is in the message) or died.
        KeyboardInterrupt: The trial was stopped (the ``stop`` file, or an interrupt here).
    """
    from automl_nb.config import resolve_trial_config
    from automl_nb.config._load import dump_job
    from automl_nb.training import _nodes
    from automl_nb.training._builtin_callbacks import json_default
    from automl_nb.training._distributed import TRIAL_DIR_ENV

    if resolve_trial_config(spec, params).random_seed is None:
        # Every rank must start from the same weights and draw the same shuffles.
        import random

        params = {**params, "random_seed": random.SystemRandom().randrange(2**31)}
    folder = Path(trial_dir).resolve()
    ranks = folder / RANKS_DIR
    if ranks.exists():
        for stale in [*ranks.glob("*.json"), *ranks.glob("pid-*")]:
            stale.unlink()
    ranks.mkdir(parents=True, exist_ok=True)
    request = {
        "job_yaml": dump_job(spec),
        "params": params,
        "trial_dir": str(folder),
        "resume": resume,
        "device": None if device is None else str(device),
        "time_budget": time_budget,
        "cwd": os.getcwd(),
    }
    (ranks / "request.json").write_text(json.dumps(request, default=json_default))
    env = dict(os.environ, **{TRIAL_DIR_ENV: str(folder)})
    env.setdefault("OMP_NUM_THREADS", threads_per_rank(processes))
    record = None
    if nodes > 1:
        record = _nodes.new_rendezvous(folder, nodes=nodes, processes=processes)
        env[_nodes.NODE_RANK_ENV] = "0"
        arguments = _nodes.torchrun_arguments(record, 0)
    else:
        arguments = ["--standalone", "--nnodes=1", f"--nproc-per-node={processes}"]
    command = rank_command(arguments, ranks / "request.json")
    log.info("starting %d processes with torchrun (output in %s)", processes, RANKS_LOG)
    mine = _nodes.local_ranks(record, 0, processes)
    wrote_stop = False
    with open(folder / RANKS_LOG, "ab") as output:
        agent = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            if record is not None:
                _nodes.publish_rendezvous(ranks, record)
                _nodes.log_waiting(folder, record)
                code = _wait_for_node_zero(agent, ranks, mine)
            else:
                code = agent.wait()
        except KeyboardInterrupt:
            wrote_stop = _ask_ranks_to_stop(folder)
            if not any((ranks / f"pid-{rank}").exists() for rank in mine):
                pass  # still waiting for the other nodes: nothing to keep
            elif record is not None:
                with contextlib.suppress(KeyboardInterrupt):
                    _wait_for_node_zero(agent, ranks, mine, STOP_GRACE_SECONDS)
            else:
                _wait_quietly(agent, STOP_GRACE_SECONDS)
            raise
        finally:
            if record is not None:
                _nodes.withdraw_rendezvous(ranks, record)
            end_processes(agent, ranks, mine)
            if wrote_stop:
                (folder / "stop").unlink(missing_ok=True)
    return _outcome(folder, ranks, code, record)


def _wait_for_node_zero(
    agent: subprocess.Popen, ranks: Path, mine: range, timeout: float | None = None
) -> int | None:
    """Wait for node 0's ``torchrun`` (at most ``timeout`` s); once rank 0 wrote its result
    and this machine's ranks are gone, give it a grace only: it would wait minutes in its
    exit barrier for a node whose rank failed after rank 0 was done."""
    done_at: float | None = None
    end = None if timeout is None else time.monotonic() + timeout
    while end is None or time.monotonic() < end:
        try:
            return agent.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            pass
        if done_at is None and _ranks_done(ranks, mine):
            done_at = time.monotonic()
        if done_at is not None and time.monotonic() - done_at > DONE_GRACE_SECONDS:
            log.warning(
                "torchrun still waits for the other nodes after the trial ended; ending it"
            )
            return None
    return None


def _ranks_done(ranks: Path, mine: range) -> bool:
    """Rank 0 wrote the result and none of this machine's ranks is alive."""
    request = ranks / "request.json"
    if not (ranks / "result.json").is_file():
        return False
    return not any(_is_rank_process(pid, request) for pid in _pids(ranks, mine))


def _pids(ranks: Path, mine: range) -> list[int]:
    pids = []
    for rank in mine:
        with contextlib.suppress(OSError, ValueError):
            pids.append(int((ranks / f"pid-{rank}").read_text()))
    return pids


def _ask_ranks_to_stop(folder: Path) -> bool:
    """Write ``stop`` unless the controller already did; True when this call wrote it."""
    stop = folder / "stop"
    if stop.exists():
        return False
    stop.write_text("canceled", encoding="utf-8")
    return True


def _wait_quietly(agent: subprocess.Popen, timeout: float) -> None:
    with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):
        agent.wait(timeout=timeout)


def _is_rank_process(pid: int, request: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return _RANK_ENTRY.encode() in cmdline and str(request).encode() in cmdline


def end_processes(agent: subprocess.Popen, ranks: Path, mine: range) -> None:
    """Kill ``torchrun``'s process group and any of this machine's ranks (``mine``) still
    alive (they have their own)."""
    if agent.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(agent.pid, signal.SIGTERM)  # torchrun ends its ranks on SIGTERM
        _wait_quietly(agent, 10.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(agent.pid, signal.SIGKILL)
    agent.poll()
    for pid in _pids(ranks, mine):
        if _is_rank_process(pid, ranks / "request.json"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _outcome(folder: Path, ranks: Path, code: int | None, record: dict[str, Any] | None) -> Any:
    """Rank 0's result, or the error of the rank that failed first."""
    from automl_nb.training._result import TrialResult

    result_file = ranks / "result.json"
    # Rank 0 wrote its result: the trial ended there (a rank elsewhere may have failed after).
    if result_file.is_file():
        data = json.loads(result_file.read_text())
        if data.get("stopped"):
            raise KeyboardInterrupt("the trial's ranks stopped")
        model_dir = data.get("model_dir")
        data["model_dir"] = Path(model_dir) if model_dir else None
        data["trial_dir"] = folder
        return TrialResult(**data)
    errors = sorted(ranks.glob("error-*.json"), key=lambda p: p.stat().st_mtime)
    if errors:
        # The first to fail is the cause; the others lost their peer.
        first = json.loads(errors[0].read_text())
        where = ""
        if record is not None:
            logs = ", ".join(f"ranks-node-{k}.log" for k in range(1, int(record["nodes"])))
            where = f" (a trial on {record['nodes']} machines; the other nodes' output: {logs})"
        raise DistributedTrialError(
            f"rank {first['rank']} failed: {first['type']}: {first['message']}{where}"
        )
    if record is not None:
        from automl_nb.training import _nodes

        missing = _nodes.missing_nodes(ranks, record)
        if missing:
            raise DistributedTrialError(
                f"node(s) {', '.join(map(str, missing))} of {record['nodes']} did not join "
                f"within {_nodes.join_timeout()} s; run `{_nodes.worker_command(folder)}` on "
                "each other machine"
            )
    lines = (folder / RANKS_LOG).read_text(encoding="utf-8", errors="replace").splitlines()
    tail = "\n".join(lines[-15:])
    raise DistributedTrialError(
        f"a rank process died (torchrun exited with {code}); last lines of {RANKS_LOG}:\n{tail}"
    )


# ------------------------------------------------------------------------------ rank side
def _rank_device(requested: str | None) -> str:
    import torch

    wants_cpu = requested is not None and requested.startswith("cpu")
    if torch.cuda.is_available() and not wants_cpu:
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return "cpu"


def _rank_folder(folder: Path, rank: int, resume: bool) -> Path:
    """Rank 0 writes the trial folder; the others a scratch folder (with the resume point)."""
    if rank == 0:
        return folder
    scratch = folder / RANKS_DIR / f"rank-{rank}"
    last = folder / "checkpoints" / "last.pt"
    if resume and last.is_file():
        (scratch / "checkpoints").mkdir(parents=True, exist_ok=True)
        copy = scratch / "checkpoints" / "last.pt"
        copy.unlink(missing_ok=True)
        os.link(last, copy)
    return scratch


def _result_dict(result: Any) -> dict[str, Any]:
    from dataclasses import fields

    out = {f.name: getattr(result, f.name) for f in fields(result)}
    out["model_dir"] = str(result.model_dir) if result.model_dir else None
    out.pop("trial_dir", None)
    return out


def rank_main(request_file: str) -> int:
    """What each rank runs: the trial, with ``torch.distributed`` initialised."""
    import torch
    import torch.distributed as dist

    from automl_nb.config import load_job
    from automl_nb.training import run_trial
    from automl_nb.training._builtin_callbacks import json_default
    from automl_nb.training._nodes import global_rank_from_env

    _die_with_parent(signal.SIGKILL)
    request = json.loads(Path(request_file).read_text())
    # The folder as this machine sees it (another node may mount the job folder elsewhere).
    ranks = Path(request_file).resolve().parent
    folder = ranks.parent
    rank = global_rank_from_env()
    os.environ["RANK"] = str(rank)  # what init_process_group reads
    (ranks / f"pid-{rank}").write_text(str(os.getpid()))
    with contextlib.suppress(OSError):
        os.chdir(request.get("cwd") or os.getcwd())
    device = _rank_device(request.get("device"))
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    outcome: dict[str, Any]
    try:
        spec = load_job(request["job_yaml"])
        result = run_trial(
            spec,
            request.get("params") or {},
            _rank_folder(folder, rank, bool(request.get("resume"))),
            device=device,
            resume=bool(request.get("resume")),
            time_budget=request.get("time_budget"),
        )
        outcome = _result_dict(result)
    except KeyboardInterrupt:
        outcome = {"stopped": True}
    except BaseException as exc:  # noqa: BLE001 - reported to the launcher, then exit 1
        error = {"rank": rank, "type": type(exc).__name__, "message": str(exc)[:4000]}
        (ranks / f"error-{rank}.json").write_text(json.dumps(error))
        return 1
    if rank == 0:
        temp = ranks / "result.json.tmp"
        temp.write_text(json.dumps(outcome, default=json_default))
        temp.replace(ranks / "result.json")
    dist.destroy_process_group()
    return 0


def agent_main(arguments: list[str]) -> None:
    """``torchrun``, dying with its parent (the trial's kernel) and ending its ranks then."""
    _die_with_parent(signal.SIGTERM)
    os.execv(sys.executable, [sys.executable, "-m", "torch.distributed.run", *arguments])
