"""The export-format registry and :func:`export_model`.

Each format lives in its own module and registers one function
``export(loaded, out, **options) -> list[Path]`` under its user-facing name with
:func:`register_format`. Format modules import torch (and onnx, mlflow) only inside their
functions, so importing this package stays cheap.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.registry import Registry
from automl_nb.registry import did_you_mean

ExportFn = Callable[..., list[Path]]

# Written beside every exported model: how to feed it and what it returns.
EXPORT_INFO_FILE = "export.json"
BACKGROUND_LABEL = "--bg--"


@dataclass(frozen=True)
class ExportFormat:
    """One registered export format.

    Attributes:
        name: The user-facing name (``onnx``, ``torchscript``, ``mlflow``).
        description: One line for listings and ``--help``.
        tasks: The task names it supports.
        options: The keyword options it accepts, with a short description each.
        requires: Extra packages it needs (``pip install automl-nb[export]``).
        fn: ``fn(loaded, out, **options) -> list[Path]`` writing into the folder ``out``.
    """

    name: str
    description: str
    tasks: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    fn: ExportFn | None = None


_FORMATS: Registry[ExportFormat] = Registry("export format", error=ModelError)


def register_format(
    name: str,
    *,
    description: str,
    tasks: Sequence[str],
    options: dict[str, str] | None = None,
    requires: Sequence[str] = (),
) -> Callable[[ExportFn], ExportFn]:
    """Register the decorated function as export format ``name``."""

    def wrap(fn: ExportFn) -> ExportFn:
        _FORMATS.add(
            name,
            ExportFormat(
                name=name,
                description=description,
                tasks=tuple(tasks),
                options=dict(options or {}),
                requires=tuple(requires),
                fn=fn,
            ),
        )
        return fn

    return wrap


def list_export_formats() -> list[str]:
    """The registered export format names (``["mlflow", "onnx", "torchscript"]``)."""
    return sorted(_FORMATS.names())


def get_export_format(name: str) -> ExportFormat:
    """The registered format ``name``.

    Raises:
        ModelError: Unknown format, with the closest names.
    """
    if name not in _FORMATS:
        hint = did_you_mean(str(name).strip().lower(), _FORMATS.names(), n=2)
        raise ModelError(
            f"unknown export format {name!r}{hint} (formats: {', '.join(list_export_formats())})"
        )
    return _FORMATS.get(name)


def missing_package_error(package: str, fmt: str) -> ModelError:
    """The error raised when an optional package of a format is not installed."""
    return ModelError(
        f"exporting to {fmt} needs the {package!r} package, which is not installed; "
        "install it with: pip install automl-nb[export]"
    )


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON and return ``path``."""
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def export_labels(loaded: Any) -> list[str]:
    """Class names indexed by the label ids the exported model outputs.

    Classification outputs one score per class, so this is ``labels.json`` of the model
    folder. Detectors output ids starting at 1 (0 is the background class), so the list
    starts with ``"--bg--"``: ``labels[label_id]`` is always the class name.
    """
    if loaded.task.is_detection:
        return [BACKGROUND_LABEL, *loaded.labels]
    return list(loaded.labels)


def write_side_files(loaded: Any, out: Path, info: dict[str, Any]) -> list[Path]:
    """Write ``labels.json``, ``settings.json`` and ``export.json`` into ``out``."""
    settings = {"model_name": loaded.model_name, "task": loaded.task.value, **loaded.settings}
    return [
        write_json(out / "labels.json", export_labels(loaded)),
        write_json(out / "settings.json", settings),
        write_json(out / EXPORT_INFO_FILE, info),
    ]


def classification_norm(loaded: Any) -> tuple[list[float], list[float]]:
    """The mean and std (for 0-1 RGB input) the classifier was trained with: those of its
    data config, the one training and prediction use too."""
    config = loaded.data_config
    return list(config.mean), list(config.std)


def classifier_input_spec(
    loaded: Any, *, normalization: bool, batch: int | str = "batch"
) -> dict[str, Any]:
    """The ``input`` entry of ``export.json`` for an exported classifier."""
    mean, std = classification_norm(loaded)
    crop = int(loaded.settings["valid_crop_size"])
    return {
        "shape": [batch, 3, crop, crop],
        "dtype": "float32",
        "layout": "NCHW RGB",
        "range": "0-1 (pixels / 255)" if normalization else "normalised: (x/255 - mean) / std",
        "resize": int(loaded.settings["valid_resize_size"]),
        "crop": crop,
        "mean": mean,
        "std": std,
        "normalization_in_model": normalization,
    }


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ModelError(f"export folder {str(out)!r} is a file")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ModelError(
            f"export folder {str(out)!r} is not empty; choose a new folder or pass overwrite"
        )


def export_model(
    model_dir: str | os.PathLike[str],
    format: str,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    **options: Any,
) -> Path:
    """Export a trained model folder to ONNX, TorchScript or an MLflow model folder.

    Args:
        model_dir: A model folder (or a job / trial folder holding one), as for
            :func:`automl_nb.inference.load_model`.
        format: ``onnx``, ``torchscript`` or ``mlflow`` (see :func:`list_export_formats`).
        out: The folder to write; created, and it must be empty unless ``overwrite``.
        overwrite: Write into a non-empty folder (files of the same name are replaced;
            an MLflow export replaces the whole folder).
        **options: Format options; ``None`` values are ignored. ``onnx``: ``batch_size``,
            ``normalization``, ``height``, ``width``, ``opset``. ``torchscript``:
            ``normalization``. ``mlflow``: ``include_code``.

    Returns:
        The export folder.

    Raises:
        ModelError: Unknown format or option, a task the format does not support, a
            missing optional package, or a model that cannot be exported.

    Example:
        >>> export_model("runs/job-1/best_model", "onnx", "exported/onnx")  # doctest: +SKIP
        PosixPath('exported/onnx')
    """
    from automl_nb.inference import load_model

    fmt = get_export_format(format)
    options = {k: v for k, v in options.items() if v is not None}
    unknown = sorted(set(options) - set(fmt.options))
    if unknown:
        accepted = ", ".join(sorted(fmt.options)) or "none"
        raise ModelError(
            f"{fmt.name} export: unknown option(s) {', '.join(unknown)} (accepted: {accepted})"
        )
    target = Path(out)
    _check_out(target, overwrite)
    loaded = load_model(model_dir, device="cpu")
    if loaded.task.value not in fmt.tasks:
        raise ModelError(
            f"{fmt.name} export does not support {loaded.task.value} yet "
            f"(supported: {', '.join(fmt.tasks)})"
        )
    if fmt.name != "mlflow":
        target.mkdir(parents=True, exist_ok=True)
    assert fmt.fn is not None
    fmt.fn(loaded, target, **options)
    return target


def written_files(out: str | os.PathLike[str]) -> list[Path]:
    """The files of an export folder, sorted, relative to it."""
    root = Path(out)
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
