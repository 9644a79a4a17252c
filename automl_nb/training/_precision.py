"""Mixed precision: the dtype a trial's forward passes run in under ``torch.autocast``.

``advanced_settings.precision`` is ``auto`` (the default), ``fp32``, ``bf16`` or ``fp16``.
``auto`` is fp16 with a gradient scaler on CUDA, and bf16 on CPUs that compute it natively
(AVX512-BF16 or AMX), where it trains about twice as fast as fp32. On the CPU ``auto`` keeps
fp32 for the torchvision detectors, whose box decoding would run in bf16's 8-bit mantissa;
classifiers and ``yolov5`` (whose head outputs are decoded in fp32) get bf16. The weights,
gradients and optimizer state stay fp32 in every case.
"""

from __future__ import annotations

import contextlib

import torch

from automl_nb.errors import ConfigError
from automl_nb.tasks import Task

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
"""The values of ``advanced_settings.precision``."""

_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX tiles)."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for name in checks:
        check = getattr(torch.cpu, name, None)
        try:
            if check is not None and check():
                return True
        except RuntimeError:
            continue
    return False


def autocast_dtype(
    precision: str, device: torch.device | str, *, task: Task, family: str
) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (``None``: plain fp32).

    Args:
        precision: ``advanced_settings.precision``.
        device: Where the trial trains.
        task: The trial's task.
        family: The model's registry family (``timm``, ``torchvision``, ``yolo``, ...).

    Raises:
        ConfigError: ``fp16`` asked for off CUDA (CPUs have no fast fp16; use ``bf16``).
    """
    device = torch.device(device)
    if precision == "auto":
        if device.type == "cuda":
            return torch.float16
        if device.type != "cpu" or not cpu_has_native_bf16():
            return None
        return torch.bfloat16 if task.is_classification or family == "yolo" else None
    if precision not in _DTYPES:
        raise ConfigError(f"advanced_settings.precision {precision!r} is not one of {PRECISIONS}")
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(
            "advanced_settings.precision 'fp16' needs a CUDA GPU; on the CPU use 'bf16' or 'fp32'"
        )
    return _DTYPES[precision]


def precision_name(dtype: torch.dtype | None) -> str:
    """``fp32``, ``bf16`` or ``fp16`` for an autocast dtype (for logs and ``hyperparameters``)."""
    return {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


def autocast(
    device: torch.device | str, dtype: torch.dtype | None
) -> contextlib.AbstractContextManager:
    """``torch.autocast`` in ``dtype`` on ``device``'s type; a no-op for ``None`` (fp32)."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype)
