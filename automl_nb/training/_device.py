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
    device: str | torch.device | None = None, compute: str | None = None
) -> torch.device:
    """The device a trial runs on.

    Args:
        device: Explicit override (``"cpu"``, ``"cuda"``, ``"cuda:1"``); wins over ``compute``.
        compute: The job's ``compute``: ``local`` (default: CUDA when available, else CPU),
            ``cpu``, ``cuda``, ``cuda:1`` or ``cuda:0,1`` (one trial uses the first listed GPU).
            Cloud targets (``azureml:gpu-cluster``) mean ``local``.

    Raises:
        ConfigError: CUDA was asked for but is not available.
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
        except RuntimeError:
            raise ConfigError(
                Problem(
                    "must be local, cpu, cuda or cuda:N",
                    path="compute",
                    value=repr(device or compute),
                )
            ) from None
    if chosen.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            Problem(
                "CUDA is not available on this machine; use compute: local or cpu",
                path="compute",
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
