"""Where trials run: one slot per GPU (or per CPU share) and how many run at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem


@dataclass(frozen=True)
class Slot:
    """A place for one trial.

    Attributes:
        name: ``gpu:0``, ``gpu:1``, … or ``cpu:0``, ``cpu:1``, …
        cuda_devices: ``CUDA_VISIBLE_DEVICES`` for the trial's kernel (``""`` hides GPUs).
        threads: CPU threads for the trial, so parallel CPU trials don't oversubscribe cores.
    """

    name: str
    cuda_devices: str
    threads: int | None = None


def visible_gpus(compute: str | None) -> list[str]:
    """GPU ids the job may use, from its ``compute`` value and the machine.

    ``compute`` may be ``local`` (all visible GPUs), ``cpu``, ``cuda``/``gpu`` or
    ``cuda:0,1``; cloud values such as ``azureml:gpu-cluster`` mean ``local``.
    """
    value = (compute or "local").strip().lower()
    if value == "cpu":
        return []
    if value.startswith(("cuda:", "gpu:")):
        return [part.strip() for part in value.split(":", 1)[1].split(",") if part.strip()]
    try:
        import torch

        count = torch.cuda.device_count()
    except Exception:  # noqa: BLE001 - no usable torch/CUDA means CPU
        count = 0
    return [str(i) for i in range(count)]


def gpus_per_trial(spec: Any) -> int:
    """GPUs one trial of ``spec`` takes: ``advanced_settings.processes_per_trial`` when given;
    with ``distributed: true``, every visible GPU (0 stands for that); else 1."""
    params = spec.training_parameters.to_dict()
    processes = (params.get("advanced_settings") or {}).get("processes_per_trial")
    if processes:
        return int(processes)
    return 0 if params.get("distributed") else 1


def plan_slots(
    *, max_trials: int, max_concurrent_trials: int, compute: str | None, gpus_per_trial: int = 1
) -> list[Slot]:
    """The slots for a job.

    Concurrency is ``max_concurrent_trials`` capped by ``max_trials`` and, on GPU machines, by
    the number of GPUs (no two trials share a GPU). On a CPU-only machine the job gets one slot
    unless ``max_concurrent_trials`` asks for more; the cores are then shared out evenly.
    A multi-process trial takes ``gpus_per_trial`` GPUs (0: all of them) in its slot.
    """
    wanted = max(1, min(max_concurrent_trials, max_trials))
    gpus = visible_gpus(compute)
    if gpus:
        per = len(gpus) if gpus_per_trial <= 0 else gpus_per_trial
        if per > len(gpus):
            raise ConfigError(
                Problem(
                    f"a trial asks for {per} processes (one per GPU) but {len(gpus)} GPUs are "
                    "visible",
                    path="training_parameters.advanced_settings",
                )
            )
        groups = [",".join(gpus[i : i + per]) for i in range(0, len(gpus) - per + 1, per)]
        return [Slot(f"gpu:{g}", g) for g in groups[:wanted]]
    cores = os.cpu_count() or 1
    threads = max(1, cores // wanted)
    return [Slot(f"cpu:{i}", "", threads) for i in range(wanted)]
