"""Device choice and seeding."""

from __future__ import annotations

import logging
import os
import random

import numpy as np
import torch

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

logger = logging.getLogger("automl_nb.training")


def resolve_device(
    device: str | torch.device | None = None,
    compute: str | None = None,
    *,
    field: str = "compute",
) -> torch.device:
    """The device a trial or a prediction runs on.

    Args:
        device: Explicit override (``"cpu"``, ``"cuda"``, ``"cuda:1"``); wins over ``compute``.
        compute: The job's ``compute``: ``local`` (default: CUDA when available, else CPU),
            ``cpu``, ``cuda``, ``cuda:1`` or ``cuda:0,1`` (one trial uses the first listed GPU).
            Cloud targets (``azureml:gpu-cluster``) mean ``local``.
        field: The setting named in errors (``compute`` for jobs, ``device`` for options).

    Raises:
        ConfigError: Not a device, or a CUDA device this machine does not have.
    """
    if isinstance(device, torch.device):
        chosen = device
    else:
        text = str(device or compute or "local").strip().lower()
        if text.startswith("azureml:") or text in ("local", "auto", ""):
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if text.startswith("cuda:") and "," in text:
            text = text.split(",")[0]
        if text.startswith("gpu"):
            text = "cuda" + text[3:]
        try:
            chosen = torch.device(text)
        except (RuntimeError, TypeError, ValueError):
            raise ConfigError(
                Problem(
                    "must be local, cpu, cuda or cuda:N",
                    path=field,
                    value=repr(device or compute),
                )
            ) from None
    if chosen.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (chosen.index or 0) >= count:
            have = f"{count} CUDA device(s)" if count else "no CUDA device"
            raise ConfigError(
                Problem(
                    f"this machine has {have}; use local or cpu",
                    path=field,
                    value=repr(str(chosen)),
                )
            )
    return chosen


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every GPU) with ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))


def worker_init(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: derive each worker's NumPy/Python seed from torch's."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
