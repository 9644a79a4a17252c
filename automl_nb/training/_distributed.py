"""One trial on several processes: what each ``torchrun`` rank does.

:mod:`automl_nb.training._launch` starts the ranks; each runs the ordinary
:func:`~automl_nb.training.run_trial` with ``torch.distributed`` initialised (NCCL on GPU,
gloo on CPU), and :func:`make_distributed` turns the trial's fit into a DDP fit:

* the training loader draws its batches through a ``DistributedSampler`` (each rank a shard;
  ``training_batch_size`` is per process, so the global batch is ``world_size`` times it);
* the model trains inside ``DistributedDataParallel`` (gradients averaged across ranks);
  everything else (evaluation, checkpoints, the model folder) uses the plain module, so
  checkpoints load in a single-process run;
* every rank evaluates the whole validation set with the same weights (BatchNorm statistics
  are broadcast from rank 0 after each epoch), so every rank takes the same early-stopping
  and best-model decisions; rank 0 writes the trial folder, the other ranks a scratch folder;
* the epoch row's ``train_loss`` is averaged and ``images_per_second`` summed over the ranks;
* the ``stop`` file of the trial folder (cancel, pruning, timeout) is checked by every rank
  after every batch and agreed on with an all-reduce, so all ranks stop at the same step.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

# advanced_settings key: how many processes (GPUs, or CPU processes) one trial runs on.
PROCESSES_KEY = "processes_per_trial"
# Set by the launcher for every rank: the trial folder that rank 0 writes (and where ``stop``
# appears).
TRIAL_DIR_ENV = "AUTOML_NB_DISTRIBUTED_TRIAL_DIR"


def processes_per_trial(cfg: Any) -> int:
    """How many processes a trial asks for.

    ``advanced_settings.processes_per_trial`` when given (on a GPU machine each process takes
    one GPU; on CPU they are gloo processes sharing the cores); else, with
    ``distributed: true``, every GPU the trial can see; else 1.
    """
    explicit = cfg.advanced_settings.extra.get(PROCESSES_KEY)
    if explicit:
        return int(explicit)
    if cfg.distributed and torch.cuda.is_available():
        return max(1, torch.cuda.device_count())
    return 1


def is_rank() -> bool:
    """True inside a rank of a multi-process trial (``torch.distributed`` initialised)."""
    return dist.is_available() and dist.is_initialized()


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` outside a multi-process trial."""
    if not is_rank():
        return 0, 1
    return dist.get_rank(), dist.get_world_size()


def shard_loader(loader: Any, seed: int) -> Any:
    """The same ``DataLoader`` drawing this rank's shard through a ``DistributedSampler``."""
    from torch.utils.data import DataLoader
    from torch.utils.data.distributed import DistributedSampler

    sampler: DistributedSampler[Any] = DistributedSampler(
        loader.dataset, shuffle=True, seed=seed, drop_last=True
    )
    return DataLoader(
        loader.dataset,
        batch_size=loader.batch_size,
        sampler=sampler,
        drop_last=loader.drop_last,
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        persistent_workers=loader.persistent_workers,
        worker_init_fn=loader.worker_init_fn,
    )


def _stop_requested(folder: Path) -> bool:
    return (folder / "stop").exists()


class RankSync:
    """First of a rank's callbacks: stop together, share BatchNorm statistics, reduce rows.

    Args:
        trial_dir: The trial folder rank 0 writes (where the ``stop`` file appears).
        model: The plain (unwrapped) model.
        device: This rank's device (collectives need tensors there with NCCL).
    """

    state_key = "distributed"

    def __init__(self, trial_dir: Path, model: torch.nn.Module, device: torch.device) -> None:
        self.trial_dir = trial_dir
        self.model = model
        self.device = device

    def _any(self, flag: bool) -> bool:
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)

    def on_train_batch_end(self, state: Any, index: int, total: int, loss: float) -> None:
        """Stop every rank at this batch when any of them sees the ``stop`` file."""
        if self._any(_stop_requested(self.trial_dir)):
            raise KeyboardInterrupt("stop requested")
        if index + 1 == total:
            for buffer in self.model.buffers():
                dist.broadcast(buffer, src=0)

    def on_epoch_end(self, state: Any, row: dict[str, Any]) -> None:
        """Average ``train_loss`` and sum ``images_per_second`` over the ranks."""
        world = dist.get_world_size()
        values = torch.tensor(
            [float(row.get("train_loss") or 0.0), float(row.get("images_per_second") or 0.0)],
            device=self.device,
            dtype=torch.float64,
        )
        dist.all_reduce(values)
        row["train_loss"] = float(values[0]) / world
        row["images_per_second"] = float(values[1])
        row["processes"] = world

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


class RankAgree:
    """Last of a rank's callbacks: all ranks end after the same epoch (time budget, early
    stopping) and honour a ``stop`` that came during evaluation."""

    state_key = "distributed_agree"

    def __init__(self, sync: RankSync) -> None:
        self.sync = sync

    def on_epoch_end(self, state: Any, row: dict[str, Any]) -> None:
        """Agree on ``should_stop`` and on a requested stop."""
        if self.sync._any(_stop_requested(self.sync.trial_dir)):
            raise KeyboardInterrupt("stop requested")
        state.should_stop = self.sync._any(bool(state.should_stop))

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


def make_distributed(fit: Any, trial_dir: Path | None = None) -> None:
    """Turn a single-process fit into this rank's DDP fit (see the module doc); its training
    loader is already sharded (:func:`shard_loader`)."""
    from torch.nn.parallel import DistributedDataParallel

    folder = Path(trial_dir or os.environ.get(TRIAL_DIR_ENV) or ".")
    ids = [fit.device.index] if fit.device.type == "cuda" else None
    # Detectors do not use every head on every batch.
    unused = not fit.cfg.task.is_classification
    fit.train_model = DistributedDataParallel(
        fit.model, device_ids=ids, find_unused_parameters=unused
    )
    from automl_nb.training._builtin_callbacks import StopRequest

    sync = RankSync(folder, fit.model, fit.device)
    # The ranks stop together (RankSync, RankAgree): one rank leaving on its own would leave
    # the others waiting in a collective (and, across machines, torchrun in its exit barrier).
    own = [b for b in fit.builtins if not isinstance(b, StopRequest)]
    fit.builtins = [sync, *own, RankAgree(sync)]
