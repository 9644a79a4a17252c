"""Checkpoints of a trial and the weights of earlier models (incremental training).

Every file is read with ``torch.load(weights_only=True)``, so checkpoints hold only tensors and
plain values (``save_checkpoint`` converts the rest). A trial keeps ``trial_dir/checkpoints/``:

* ``last.pt`` - after every epoch: model, optimizer, scheduler, scaler, epoch, history,
  early-stopping and RNG state; what ``resume`` continues from;
* ``best.pt`` - the model weights of the best epoch so far (when ``checkpoint_frequency`` is
  not set, the default, this is the only extra file);
* ``epoch_N.pt`` - full checkpoints every ``checkpoint_frequency`` epochs, when set.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import enum
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

# A checkpoint being written; one left behind by a killed trial is stale.
TMP_SUFFIX = ".tmp"

_PLAIN_TYPES = (bool, int, float, complex, str, bytes)
_TORCH_TYPES = (torch.Tensor, torch.Size, torch.dtype, torch.device)


def save_checkpoint(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path | None:
    """Write ``state`` with ``torch.save`` atomically (temporary file, flush, then rename).

    Values are first made plain (:func:`plain_state`) so that the file loads with
    ``weights_only=True``. A write that fails (disk full, a read-only folder) removes its
    temporary file, keeps the previous checkpoint as it was and logs a warning; training goes
    on. A trial killed mid-write leaves only a stale ``<name>.tmp`` next to the previous,
    still loadable checkpoint (the runner removes those on resume).

    Returns:
        The checkpoint path, or None when the write failed.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + TMP_SUFFIX)
    payload = plain_state(dict(state))
    try:
        # A path, not a file object: torch then writes from C++, so a SIGINT (pruning,
        # cancel) surfaces as KeyboardInterrupt after the write instead of inside it.
        torch.save(payload, str(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, out)
    except (OSError, RuntimeError) as exc:  # torch wraps write errors in RuntimeError
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc.__context__, KeyboardInterrupt) or "KeyboardInterrupt" in str(exc):
            raise KeyboardInterrupt from exc  # an interrupt, not a failed write
        kept = "the previous one is kept and still loadable" if out.exists() else "none kept"
        logger.warning("could not write checkpoint %s (%s); %s", out, exc, kept)
        return None
    return out


def plain_state(value: Any) -> Any:
    """``value`` with everything ``torch.load(weights_only=True)`` refuses made plain.

    Tensors, ``torch.Size``/dtype/device, numbers, strings, bytes and None stay; mappings,
    lists, tuples and sets are walked; numpy scalars become Python numbers, numpy arrays
    tensors, paths strings, enums their value, dataclasses dicts, anything else its ``str``.
    """
    # Exact types: numpy.float64 and IntEnum subclass float/int but would not load.
    if value is None or type(value) in _PLAIN_TYPES or isinstance(value, _TORCH_TYPES):
        return value
    if isinstance(value, collections.OrderedDict):
        ordered = collections.OrderedDict(
            (plain_state(k), plain_state(v)) for k, v in value.items()
        )
        metadata = getattr(value, "_metadata", None)  # a state_dict's module versions
        if metadata is not None:
            ordered._metadata = plain_state(metadata)  # type: ignore[attr-defined]
        return ordered
    if isinstance(value, Mapping):
        return {plain_state(k): plain_state(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain_state(v) for v in value]
        return set(items) if isinstance(value, (set, frozenset)) else type(value)(items)
    if isinstance(value, enum.Enum):
        return plain_state(value.value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain_state(dataclasses.asdict(value))
    module = type(value).__module__
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray):
            return torch.from_numpy(value.copy())
        if isinstance(value, np.generic):
            return value.item()
    logger.debug("checkpoint value of type %s stored as text", type(value).__name__)
    return str(value)


def load_checkpoint(path: str | os.PathLike[str], *, map_location: Any = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (or any ``torch.save`` dict of
    tensors and plain values).

    Nothing in the file runs: it is read with ``weights_only=True``.

    Raises:
        ConfigError: The file is not a checkpoint of plain values (a foreign or tampered
            pickle, a truncated file); the message names the file.
    """
    source = Path(path)
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001 - unpickling, zip and truncation errors alike
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            Problem(
                "not a loadable checkpoint: it holds something other than tensors and plain "
                f"values, or it is damaged; it was refused, not run ({reason[:300]})",
                file=str(source),
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
