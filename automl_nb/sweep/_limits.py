"""How many trials run at once, on which GPUs, and for how long (``limits``)."""

from __future__ import annotations

from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

DEFAULT_TIMEOUT_MINUTES = 10080
DEFAULT_TRIAL_TIMEOUT_MINUTES = 43200


def _limit(limits: Any, name: str, default: int) -> int:
    value = getattr(limits, name, None) if limits is not None else None
    return int(value) if value is not None else default


def effective_concurrency(
    limits: Any,
    *,
    gpu_count: int,
    gpus_per_trial: float = 1,
    user_cpu_slots: int | None = None,
) -> int:
    """The number of trials to run at the same time.

    ``max_concurrent_trials`` is capped by ``max_trials`` and, on a GPU machine, by the GPU
    slots (``floor(gpu_count / gpus_per_trial)``; no two trials share a GPU unless
    ``gpus_per_trial < 1`` asks for it). On a CPU-only machine trials share the cores, so the
    job gets one slot unless the user asks for more: ``max_concurrent_trials`` (default 1) is
    that request, and ``user_cpu_slots`` (for example a command-line option) replaces it.

    Example:
        .. testcode::

            from types import SimpleNamespace
            from automl_nb.sweep import effective_concurrency

            limits = SimpleNamespace(max_trials=8, max_concurrent_trials=4)
            assert effective_concurrency(limits, gpu_count=2) == 2

    Args:
        limits: A ``Limits`` (``max_trials``, ``max_concurrent_trials``; missing -> 1).
        gpu_count: Visible GPUs (0 on a CPU-only machine).
        gpus_per_trial: GPUs each trial uses; a fraction shares GPUs (0.5 -> two per GPU).
        user_cpu_slots: Trial slots the user grants on a CPU-only machine.

    Returns:
        An ``int >= 1``.

    Raises:
        ConfigError: A trial needs more GPUs than the machine has, or a non-positive count.
    """
    max_trials = max(1, _limit(limits, "max_trials", 1))
    wanted = max(1, min(_limit(limits, "max_concurrent_trials", 1), max_trials))
    if gpu_count and gpu_count > 0:
        if gpus_per_trial <= 0:
            raise ConfigError(Problem("gpus per trial must be > 0", value=repr(gpus_per_trial)))
        slots = int(gpu_count // gpus_per_trial)
        if slots < 1:
            raise ConfigError(
                Problem(
                    f"a trial needs {gpus_per_trial} GPUs but this machine has {gpu_count}",
                    path="properties.node_count_per_trial",
                )
            )
        return min(wanted, slots)
    if user_cpu_slots is not None:
        if user_cpu_slots < 1:
            raise ConfigError(Problem("CPU slots must be >= 1", value=repr(user_cpu_slots)))
        return min(max_trials, int(user_cpu_slots))
    return wanted


def gpu_slots(gpu_count: int, gpus_per_trial: float = 1) -> list[str]:
    """The ``CUDA_VISIBLE_DEVICES`` value of each trial slot.

    Args:
        gpu_count: Visible GPUs (0: one CPU slot, ``""``).
        gpus_per_trial: GPUs per trial; below 1, slots share GPUs, spread over all GPUs first.

    Returns:
        One string per slot, e.g. ``["0", "1"]``, ``["0,1", "2,3"]`` or ``["0", "1", "0", "1"]``.
    """
    if not gpu_count or gpu_count <= 0:
        return [""]
    if gpus_per_trial >= 1:
        per = int(gpus_per_trial)
        return [
            ",".join(str(g) for g in range(i * per, (i + 1) * per))
            for i in range(gpu_count // per)
        ]
    share = max(1, int(round(1 / gpus_per_trial)))
    return [str(g) for _ in range(share) for g in range(gpu_count)]


def timeout_seconds(limits: Any) -> tuple[float, float]:
    """``(job, trial)`` time limits in seconds from ``timeout_minutes`` and
    ``trial_timeout_minutes`` (defaults 7 and 30 days)."""
    job = _limit(limits, "timeout_minutes", DEFAULT_TIMEOUT_MINUTES)
    trial = _limit(limits, "trial_timeout_minutes", DEFAULT_TRIAL_TIMEOUT_MINUTES)
    return job * 60.0, trial * 60.0
