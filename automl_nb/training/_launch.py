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
folders under ``<trial>/.ranks/``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("automl_nb.training")

RANKS_DIR = ".ranks"
RANKS_LOG = "ranks.log"
# How long stopped ranks may take to write the kept model before they are killed (the
# controller's own grace is 30 s).
STOP_GRACE_SECONDS = 25.0
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


def _threads_per_rank(processes: int) -> str:
    import torch

    return str(max(1, torch.get_num_threads() // processes))


def run_distributed_trial(
    spec: Any,
    params: dict[str, Any],
    trial_dir: Path,
    *,
    processes: int,
    device: Any = None,
    resume: bool = False,
    time_budget: float | None = None,
) -> Any:
    """Run the trial on ``processes`` ranks under ``torchrun``; return rank 0's result.

    Raises:
        DistributedTrialError: A rank failed (its error is in the message) or died.
        KeyboardInterrupt: The trial was stopped (the ``stop`` file, or an interrupt here).
    """
    from automl_nb.config import resolve_trial_config
    from automl_nb.config._load import dump_job
    from automl_nb.training._builtin_callbacks import json_default
    from automl_nb.training._distributed import TRIAL_DIR_ENV

    if resolve_trial_config(spec, params).random_seed is None:
        # Every rank must start from the same weights and draw the same shuffles.
        import random

        params = {**params, "random_seed": random.SystemRandom().randrange(2**31)}
    folder = Path(trial_dir).resolve()
    ranks = folder / RANKS_DIR
    if ranks.exists():
        for stale in ranks.glob("*.json"):
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
    env.setdefault("OMP_NUM_THREADS", _threads_per_rank(processes))
    command = [
        sys.executable,
        "-m",
        _RANK_ENTRY,
        "agent",
        "--standalone",
        "--nnodes=1",
        f"--nproc-per-node={processes}",
        "--max-restarts=0",
        "--monitor-interval=0.5",
        "-m",
        _RANK_ENTRY,
        "rank",
        str(ranks / "request.json"),
    ]
    log.info("starting %d processes with torchrun (output in %s)", processes, RANKS_LOG)
    wrote_stop = False
    with open(folder / RANKS_LOG, "ab") as output:
        agent = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            code = agent.wait()
        except KeyboardInterrupt:
            wrote_stop = _ask_ranks_to_stop(folder)
            _wait_quietly(agent, STOP_GRACE_SECONDS)
            raise
        finally:
            _end_every_process(agent, ranks)
            if wrote_stop:
                (folder / "stop").unlink(missing_ok=True)
    return _outcome(folder, ranks, code)


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


def _is_rank_process(pid: int) -> bool:
    try:
        return _RANK_ENTRY.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _end_every_process(agent: subprocess.Popen, ranks: Path) -> None:
    """Kill ``torchrun``'s process group and any rank still alive (they have their own)."""
    if agent.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(agent.pid, signal.SIGTERM)  # torchrun ends its ranks on SIGTERM
        _wait_quietly(agent, 10.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(agent.pid, signal.SIGKILL)
    agent.poll()
    for pid_file in ranks.glob("pid-*"):
        try:
            pid = int(pid_file.read_text())
        except (OSError, ValueError):
            continue
        if _is_rank_process(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _outcome(folder: Path, ranks: Path, code: int) -> Any:
    """Rank 0's result, or the error of the rank that failed."""
    from automl_nb.training._result import TrialResult

    result_file = ranks / "result.json"
    if code == 0 and result_file.is_file():
        data = json.loads(result_file.read_text())
        if data.get("stopped"):
            raise KeyboardInterrupt("the trial's ranks stopped")
        model_dir = data.get("model_dir")
        data["model_dir"] = Path(model_dir) if model_dir else None
        data["trial_dir"] = folder
        return TrialResult(**data)
    errors = sorted(ranks.glob("error-*.json"))
    if errors:
        first = json.loads(errors[0].read_text())
        raise DistributedTrialError(
            f"rank {first['rank']} failed: {first['type']}: {first['message']}"
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

    _die_with_parent(signal.SIGKILL)
    request = json.loads(Path(request_file).read_text())
    folder = Path(request["trial_dir"])
    ranks = folder / RANKS_DIR
    rank = int(os.environ["RANK"])
    (ranks / f"pid-{rank}").write_text(str(os.getpid()))
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
