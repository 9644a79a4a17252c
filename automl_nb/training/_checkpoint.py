"""Checkpoints of a trial and the weights of earlier models (incremental training).

A trial keeps ``trial_dir/checkpoints/``:

* ``last.pt`` - after every epoch: model, optimizer, scheduler, scaler, epoch, history,
  early-stopping and RNG state; what ``resume`` continues from;
* ``best.pt`` - the model weights of the best epoch so far (when ``checkpoint_frequency`` is
  not set, the default, this is the only extra file);
* ``epoch_N.pt`` - full checkpoints every ``checkpoint_frequency`` epochs, when set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

logger = logging.getLogger("automl_nb.training")


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Write ``state`` with ``torch.save`` atomically (temporary file, then rename).

    A trial killed mid-write therefore never leaves a truncated ``last.pt`` behind.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    torch.save(dict(state), tmp)
    os.replace(tmp, out)
    return out


def load_checkpoint(path: str | os.PathLike[str], *, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (or any ``torch.save`` dict)."""
    # Checkpoints hold tensors and plain containers, numbers and strings only, so they load as
    # weights only: a foreign file can never run code here.
    import pickle

    try:
        return torch.load(Path(path), map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ConfigError(
            Problem(
                f"cannot be opened as weights only (nothing in it was run): {first[:160]}",
                file=str(path),
            )
        ) from None


def _state_dict_of(obj: Any) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model", "model_state_dict"):
            inner = obj.get(key)
            if isinstance(inner, Mapping):
                return dict(inner)
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj)
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    raise ValueError("no model weights (a state_dict) found in the checkpoint")


def find_weights_file(source: str | os.PathLike[str]) -> Path:
    """The weights file behind ``source``: a ``.pt`` file, a model folder, a trial or job folder.

    Raises:
        ConfigError: Nothing loadable is there.
    """
    path = Path(source).expanduser()
    if path.is_file():
        return path
    candidates = [
        path / "model.pt",  # a model folder
        path / "model" / "model.pt",  # a trial folder
        path / "checkpoints" / "best.pt",  # a trial folder whose model is not written yet
        path / "best_model" / "model.pt",  # a job folder
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        Problem(
            "no model weights found there (expected a .pt file, a model folder with model.pt, "
            "a trial folder or a job folder)",
            path="training_parameters.checkpoint_path",
            value=repr(str(source)),
        )
    )


def resolve_run_id(run_id: str, workspaces: Iterable[str | os.PathLike[str]]) -> Path:
    """The folder of ``checkpoint_run_id``: a path, or ``<job_id>[/<trial>]`` in a workspace.

    Args:
        run_id: A trial/job folder path, ``job_id/trial`` (``job-123/0``) or ``job_id``.
        workspaces: Workspace roots to search (``<workspace>/<experiment>/<job_id>/...``).

    Raises:
        ConfigError: The run cannot be found.
    """
    direct = Path(run_id).expanduser()
    if direct.exists():
        return direct
    job_id, _, trial = str(run_id).strip("/").partition("/")
    searched = []
    for workspace in workspaces:
        root = Path(workspace)
        searched.append(str(root))
        if not root.is_dir():
            continue
        for job_dir in sorted(root.glob(f"*/{job_id}")):
            target = job_dir / "trials" / trial if trial else job_dir
            if target.exists():
                return target
    raise ConfigError(
        Problem(
            f"run not found (looked for a path, and for <experiment>/{job_id} in: "
            f"{', '.join(searched) or 'no workspace'})",
            path="training_parameters.checkpoint_run_id",
            value=repr(run_id),
        )
    )


def load_weights(model: torch.nn.Module, source: str | os.PathLike[str]) -> list[str]:
    """Load earlier weights into ``model`` for incremental training.

    Tensors whose shape differs (a classifier head for another number of classes) are skipped
    and logged, so a model can continue on a dataset with a different label set.

    Returns:
        The names of the parameters that were *not* loaded.
    """
    weights_file = find_weights_file(source)
    state = _state_dict_of(load_checkpoint(weights_file))
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    skipped = sorted(set(own) - set(usable))
    model.load_state_dict(usable, strict=False)
    logger.info(
        "loaded %d tensors from %s (%d left as initialised%s)",
        len(usable),
        weights_file,
        len(skipped),
        f": {', '.join(skipped[:5])}{'...' if len(skipped) > 5 else ''}" if skipped else "",
    )
    if not usable:
        raise ConfigError(
            Problem(
                "none of its weights fit this model (another model_name?)",
                path="training_parameters.checkpoint_path",
                value=repr(str(weights_file)),
            )
        )
    return skipped
