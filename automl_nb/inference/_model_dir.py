"""The model folder: write it after training, read it back without any training code.

Layout::

    model/
      model.pt             torch.save({"state_dict", "model_name", "task", "num_classes"
                                       [, "model_kwargs"]})
      settings.json        inference settings, v1 names as Azure writes them, plus
                           "model_name" and "task"
      labels.json          class names in class-index order
      job.yaml             the resolved job spec
      hyperparameters.json resolved hyperparameters (v2 names)
      metrics.json         final validation metrics
      plots/*.png          written by the training loop
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.inference._settings import default_inference_settings
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

MODEL_FILE = "model.pt"
SETTINGS_FILE = "settings.json"
LABELS_FILE = "labels.json"
JOB_FILE = "job.yaml"
HYPERPARAMETERS_FILE = "hyperparameters.json"
METRICS_FILE = "metrics.json"


def _jsonable(value: Any) -> Any:
    """``value`` with numpy/torch scalars, tuples, paths and enums made JSON-safe."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Task):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # numpy arrays and scalars, torch tensors
        return _jsonable(value.tolist())
    if hasattr(value, "to_dict"):
        return _jsonable(value.to_dict())
    return str(value)


def _atomic_write(path: Path, write: Any, *, binary: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if binary else "w", encoding=None if binary else "utf-8") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(_jsonable(data), indent=2, sort_keys=False) + "\n"
    _atomic_write(path, lambda fh: fh.write(text))


def _job_text(job_yaml: Any) -> str:
    if isinstance(job_yaml, str):
        return job_yaml if job_yaml.endswith("\n") else job_yaml + "\n"
    if isinstance(job_yaml, os.PathLike):
        return Path(job_yaml).read_text(encoding="utf-8")
    import yaml

    if isinstance(job_yaml, Mapping):
        return yaml.safe_dump(_jsonable(job_yaml), sort_keys=False)
    from automl_nb.config import dump_job  # a JobSpec

    return dump_job(job_yaml)


def _unwrap(model: Any) -> Any:
    # DistributedDataParallel keeps the model in .module, torch.compile in ._orig_mod.
    for attr in ("module", "_orig_mod"):
        inner = getattr(model, attr, None)
        if inner is not None and hasattr(inner, "state_dict"):
            model = inner
    return model


def frozen_batchnorm_eps(model: Any) -> dict[str, float]:
    """``{module name: eps}`` of the model's ``FrozenBatchNorm2d`` layers.

    Detectors fine-tuned from pretrained weights use frozen BatchNorm (eps 0 for torchvision's
    COCO weights) while ``create_model(pretrained=False)`` builds plain BatchNorm; recording
    them lets :func:`load_model` rebuild the trained layers exactly.
    """
    from torchvision.ops import FrozenBatchNorm2d

    return {
        name: float(module.eps)
        for name, module in model.named_modules()
        if isinstance(module, FrozenBatchNorm2d)
    }


def restore_frozen_batchnorm(
    model: Any, state_dict: Mapping[str, Any], recorded: Mapping[str, float] | None
) -> int:
    """Swap BatchNorm layers for ``FrozenBatchNorm2d`` where the saved model had them.

    Layers named in ``recorded`` get their recorded eps. Without a record, a BatchNorm whose
    ``num_batches_tracked`` is missing from ``state_dict`` (frozen BatchNorm has none) is
    swapped with torchvision's default eps.

    Returns:
        How many layers were swapped.
    """
    from torch import nn
    from torchvision.ops import FrozenBatchNorm2d

    swapped = 0
    for name, module in list(model.named_modules()):
        if not isinstance(module, nn.BatchNorm2d):
            continue
        prefix = f"{name}." if name else ""
        if recorded is not None:
            if name not in recorded:
                continue
            eps = float(recorded[name])
        elif f"{prefix}running_mean" in state_dict and (
            f"{prefix}num_batches_tracked" not in state_dict
        ):
            eps = 1e-5
        else:
            continue
        frozen = FrozenBatchNorm2d(module.num_features, eps=eps)
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, frozen)
        swapped += 1
    return swapped


def save_model_dir(
    model_dir: str | os.PathLike[str],
    *,
    model: Any,
    model_name: str,
    task: Task | str,
    labels: Sequence[str],
    settings: Mapping[str, Any] | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
    job_yaml: Any = None,
    metrics: Mapping[str, Any] | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model folder that :func:`load_model` reads back.

    Args:
        model_dir: The folder (created if needed; files in it are replaced).
        model: The trained ``torch.nn.Module`` (DDP / compiled wrappers are unwrapped).
        model_name: Its registry name (``resnet18``, ``fasterrcnn_resnet50_fpn``).
        task: The task.
        labels: Class names in class-index order.
        settings: Inference settings (v1 or v2 names) that override the defaults.
        hyperparameters: Resolved hyperparameters (v2 names); written to
            ``hyperparameters.json``, and the inference settings among them (crop sizes,
            thresholds, tiling, ...) go into ``settings.json``.
        job_yaml: The resolved job spec: YAML text, a mapping, a ``JobSpec`` or a path.
        metrics: Final validation metrics for ``metrics.json``.
        model_kwargs: Extra ``create_model`` keywords the model was built with
            (``{"img_size": 64}`` for a ViT trained at 64 px), needed to rebuild it.

    Returns:
        The model folder path.
    """
    import torch

    from automl_nb.inference._settings import merge_settings

    task = as_task(task)
    folder = Path(model_dir)
    folder.mkdir(parents=True, exist_ok=True)
    labels = [str(label) for label in labels]
    state = {k: v.detach().cpu() for k, v in _unwrap(model).state_dict().items()}
    payload: dict[str, Any] = {
        "state_dict": state,
        "model_name": model_name,
        "task": task.value,
        "num_classes": len(labels),
    }
    if model_kwargs:
        payload["model_kwargs"] = _jsonable(dict(model_kwargs))
    frozen = frozen_batchnorm_eps(_unwrap(model))
    if frozen:
        payload["frozen_batchnorm"] = frozen
    _atomic_write(folder / MODEL_FILE, lambda fh: torch.save(payload, fh), binary=True)

    resolved = default_inference_settings(task, model_name, hyperparameters)
    if settings:
        extra = {k: v for k, v in settings.items() if k not in ("model_name", "task")}
        resolved = merge_settings(resolved, extra, task)
    _write_json(folder / SETTINGS_FILE, resolved)
    _write_json(folder / LABELS_FILE, labels)
    if hyperparameters is not None:
        _write_json(folder / HYPERPARAMETERS_FILE, dict(hyperparameters))
    if metrics is not None:
        _write_json(folder / METRICS_FILE, dict(metrics))
    if job_yaml is not None:
        text = _job_text(job_yaml)
        _atomic_write(folder / JOB_FILE, lambda fh: fh.write(text))
    return folder


def read_json(path: Path, what: str) -> Any:
    """Read one JSON file of a model folder, with an error that names it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(
            f"{path.parent}: not a model folder ({what} {path.name} is missing)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ModelError(
            f"{path}: not UTF-8 JSON text ({exc.reason} at byte {exc.start})"
        ) from None
    except RecursionError:
        raise ModelError(f"{path}: invalid JSON (nested too deeply)") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path}: invalid JSON ({exc})") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


def read_model_file(model_dir: Path, map_location: Any = "cpu") -> dict[str, Any]:
    """Read ``model.pt`` with ``weights_only=True``: tensors and plain containers only.

    A file that needs anything else to load (pickled classes or functions, as a tampered
    or foreign file may hold) is refused before any of it runs.

    Raises:
        ModelError: The file is missing, not a torch file, holds objects other than weights,
            or is not the dict :func:`save_model_dir` writes.
    """
    import pickle

    import torch

    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"{model_dir}: not a model folder ({MODEL_FILE} is missing)")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{path}: refused to load: the file holds objects other than weights, which "
            f"could run code ({first[:200]})"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(
            f"{path}: not a model file written by automl-nb (torch cannot read it: {first[:200]})"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("state_dict"), dict):
        raise ModelError(f"{path}: expected a dict with 'state_dict', 'model_name', 'task'")
    if not all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values()):
        raise ModelError(f"{path}: 'state_dict' must map parameter names to tensors")
    return payload


def _check_settings(path: Path, settings: dict[str, Any]) -> None:
    """Every inference setting of ``settings.json`` has its type and range; unknown keys warn."""
    from automl_nb.errors import ConfigError
    from automl_nb.inference._settings import IDENTITY_KEYS
    from automl_nb.inference._settings import coerce_setting

    for key, value in settings.items():
        if key in IDENTITY_KEYS:
            continue
        try:
            coerce_setting(key, value)
        except ConfigError as exc:
            problem = exc.problems[0]
            if problem.message == "is not an inference setting":
                hint = f"; did you mean {problem.suggestion!r}?" if problem.suggestion else ""
                warnings.warn(f"{path}: {key}: not an inference setting, ignored{hint}",
                              stacklevel=3)  # fmt: skip
                continue
            raise ModelError(f"{path}: {problem}") from None


def read_model_folder(folder: Path) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``(payload, settings, labels)`` of a model folder, each checked for its shape.

    ``payload["model_name"]``, ``payload["task"]`` and ``payload["num_classes"]`` are
    filled from ``settings.json`` where ``model.pt`` lacks them.

    Raises:
        ModelError: A missing, unreadable or inconsistent file, named in the message.
    """
    payload = read_model_file(folder)
    settings = read_json(folder / SETTINGS_FILE, "settings")
    labels = read_json(folder / LABELS_FILE, "labels")
    if not isinstance(settings, dict):
        raise ModelError(f"{folder / SETTINGS_FILE}: expected a JSON object of settings")
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) for x in labels):
        raise ModelError(f"{folder / LABELS_FILE}: expected a non-empty JSON list of class names")
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    if repeated:
        raise ModelError(f"{folder / LABELS_FILE}: class names repeated: {', '.join(repeated)}")
    _check_settings(folder / SETTINGS_FILE, settings)
    model_name = payload.get("model_name") or settings.get("model_name")
    if not isinstance(model_name, str) or not model_name.strip():
        raise ModelError(f"{folder / MODEL_FILE}: no model_name (nor in {SETTINGS_FILE})")
    try:
        task = as_task(str(payload.get("task") or settings.get("task")))
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{folder / MODEL_FILE}: task: {exc}") from None
    num_classes = payload.get("num_classes") or len(labels)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ModelError(
            f"{folder / MODEL_FILE}: num_classes must be a positive integer (got {num_classes!r})"
        )
    if num_classes != len(labels):
        raise ModelError(
            f"{folder}: {LABELS_FILE} has {len(labels)} labels but the model has "
            f"{num_classes} classes"
        )
    for key in ("model_kwargs", "frozen_batchnorm"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            raise ModelError(f"{folder / MODEL_FILE}: {key} must be a mapping")
    from automl_nb.models import get_model_cfg

    try:
        get_model_cfg(model_name, task)
    except (ModelError, ValueError, KeyError) as exc:
        raise ModelError(f"{folder / MODEL_FILE}: {exc}") from None
    payload = {**payload, "model_name": model_name, "task": task, "num_classes": num_classes}
    return payload, settings, labels
