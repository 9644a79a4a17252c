"""Checks of a job that need the model registry or files, made before any training.

:func:`automl_nb.config.load_job` checks every key and value on its own; :func:`preflight`
checks what only the models and the disk can say: that each ``model_name`` (of the job and of
every ``search_space`` sub-space, ``choice`` values included) exists for the task and can be
built, that values fit the chosen model (``layers_to_freeze``, a ViT's crop sizes), that
``checkpoint_path`` / ``checkpoint_run_id`` name a weights file that opens as weights only,
and which Azure keys automl-nb accepts without acting on them (warnings). ``validate``,
``submit``, ``run`` and the notebook's verbs call it, so nothing fails late inside a trial.

Importing this module imports neither torch nor timm; checking does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.config import JobSpec
from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Distribution
from automl_nb.config._load import read_source
from automl_nb.config._parameters import DEFAULT_MODEL
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.config._report import Reporter
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

Path = tuple

# MMDetection config names (Azure's "mmdetection" model family): atss_r50_fpn_1x_coco, ...
_MMDET = re.compile(r".*_(\d+x|\d+e)_(coco|voc|lvis).*|.*_coco$")
_MMDET_NEAREST = (
    ("mask_rcnn", "maskrcnn_resnet50_fpn"),
    ("retinanet", "retinanet_resnet50_fpn"),
    ("yolo", "yolov5"),
    ("faster_rcnn", "fasterrcnn_resnet50_fpn"),
)
# Keys of one detector family that others ignore.
_YOLO_ONLY = ("image_size", "model_size", "multi_scale")
_RCNN_ONLY = ("min_size", "max_size")


@dataclass
class PreflightReport:
    """What :func:`preflight` found: problems that stop the job, and warnings."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def raise_for_errors(self) -> None:
        """Raise a :class:`ConfigError` with every error, if there is one."""
        if self.errors:
            count = len(self.errors)
            raise ConfigError(
                self.errors, header=f"the job cannot run ({count} problem{'s' * (count > 1)}):"
            )


def _reporter(spec: JobSpec) -> Reporter:
    """A reporter whose paths point at lines of the job's YAML file (when it has one)."""
    if spec.source_path:
        try:
            located, path = read_source(spec.source_path)
            return Reporter(located.values, located.keys, file=path)
        except (ConfigError, OSError):
            pass
    return Reporter(file=spec.source_path)


def _model_candidates(spec: JobSpec) -> Iterator[tuple[Path, str, dict[str, Any]]]:
    """``(path of the name, model name, fixed parameters)`` for every model the job may train."""
    job = spec.training_parameters.to_dict()
    if not spec.search_space or "model_name" in job:
        yield (
            ("training_parameters", "model_name"),
            str(job.get("model_name") or DEFAULT_MODEL[spec.task]),
            {},
        )
    for index, sub in enumerate(spec.search_space):
        fixed = {k: v for k, v in sub.items() if not isinstance(v, Distribution)}
        fixed.pop("model_name", None)
        name = sub.get("model_name")
        base: Path = ("search_space", index, "model_name")
        if isinstance(name, Choice):
            for j, value in enumerate(name.values):
                yield (*base, "values", j), str(value), {**fixed, "_sub": index}
        elif name is not None and not isinstance(name, Distribution):
            yield base, str(name), {**fixed, "_sub": index}
        elif name is None:
            model = str(job.get("model_name") or DEFAULT_MODEL[spec.task])
            yield ("training_parameters", "model_name"), model, {**fixed, "_sub": index}


def _mmdet_hint(name: str, task: Any) -> str | None:
    if not _MMDET.match(name.lower()):
        return None
    nearest = next((m for prefix, m in _MMDET_NEAREST if name.lower().startswith(prefix)), None)
    return nearest or DEFAULT_MODEL[task]


def _check_model(rep: Reporter, path: Path, name: str, spec: JobSpec) -> Any:
    """The model's cfg, or ``None`` after recording why it cannot be trained."""
    from automl_nb.errors import ModelError
    from automl_nb.models import get_model_cfg

    hint = _mmdet_hint(name, spec.task)
    if hint is not None:
        rep.error(
            path,
            "is an MMDetection model; automl-nb trains its own and torchvision's detectors "
            "(see `automl-vision models`)",
            value=name,
            suggestion=hint,
        )
        return None
    try:
        cfg = get_model_cfg(name, spec.task)
    except ModelError as exc:
        rep.error(path, str(exc), value=name)
        return None
    if not cfg.available:
        rep.error(
            path,
            f"{name} is not available yet in automl-nb (see `automl-vision models`)",
            value=name,
            suggestion=DEFAULT_MODEL[spec.task],
        )
        return None
    return cfg


def _values_of(spec: JobSpec, fixed: dict[str, Any], key: str) -> list[tuple[Path, Any]]:
    """Every value ``key`` can take in a candidate: sub-space choices, else the job's value."""
    sub = fixed.get("_sub")
    if sub is not None and key in spec.search_space[sub]:
        value = spec.search_space[sub][key]
        if isinstance(value, Choice):
            return [
                (("search_space", sub, key, "values", j), v) for j, v in enumerate(value.values)
            ]
        if not isinstance(value, Distribution):
            return [(("search_space", sub, key), value)]
        return []
    value = getattr(spec.training_parameters, key)
    return [] if value is None else [(("training_parameters", key), value)]


def _check_fit(
    rep: Reporter, spec: JobSpec, cfg: Any, fixed: dict[str, Any], notes: list[Problem]
) -> None:
    """Values that do not fit the chosen model (keys it ignores go to ``notes``)."""
    from automl_nb.config import resolve_trial_config

    groups = len(cfg.layer_groups)
    for path, value in _values_of(spec, fixed, "layers_to_freeze"):
        if groups and int(value) > groups:
            rep.error(path, f"{cfg.name} has {groups} layer groups to freeze", value=value)
    params = {k: v for k, v in fixed.items() if k != "_sub" and k in TRAINING_FIELDS}
    if cfg.fixed_input_size and spec.task.is_classification:
        trial = resolve_trial_config(spec, params, model_cfg=cfg)
        if trial.validation_crop_size != trial.training_crop_size:
            rep.error(
                ("training_parameters", "validation_crop_size"),
                f"{cfg.name} takes one input size: validation_crop_size must equal "
                f"training_crop_size ({trial.training_crop_size})",
                value=trial.validation_crop_size,
            )
    yolo = cfg.family == "yolo"
    for key in _RCNN_ONLY if yolo else _YOLO_ONLY if spec.task.is_detection else ():
        for path, _ in _values_of(spec, fixed, key):
            notes.append(rep.problem(path, f"has no effect on {cfg.name}", at_key=True))


def _check_checkpoint(rep: Reporter, spec: JobSpec) -> None:
    """``checkpoint_path`` / ``checkpoint_run_id`` exist and open as weights only."""
    from automl_nb.runner._layout import default_workspace
    from automl_nb.training._checkpoint import find_weights_file
    from automl_nb.training._checkpoint import resolve_run_id

    params = spec.training_parameters
    for key, value in (
        ("checkpoint_path", params.checkpoint_path),
        ("checkpoint_run_id", params.checkpoint_run_id),
    ):
        if not value:
            continue
        path = ("training_parameters", key)
        try:
            if key == "checkpoint_path":
                source = spec.resolve_path(value)
            else:
                source = str(resolve_run_id(value, [default_workspace()]))
            weights = find_weights_file(source)
        except ConfigError as exc:
            rep.error(path, exc.problems[0].message, value=value)
            continue
        problem = _weights_problem(weights)
        if problem:
            rep.error(path, problem, value=str(weights))


def _weights_problem(path: Any) -> str | None:
    """Why ``path`` is not a weights file that opens safely, or ``None``."""
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot be opened as weights only (nothing in it was run): {first[:160]}"
    tensors = state
    if isinstance(state, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if isinstance(state.get(key), dict):
                tensors = state[key]
                break
    if not isinstance(tensors, dict) or not any(
        isinstance(v, torch.Tensor) for v in tensors.values()
    ):
        return "holds no model weights (a state_dict)"
    return None


def _warnings(rep: Reporter, spec: JobSpec) -> list[Problem]:
    """Keys automl-nb accepts from Azure jobs without acting on them."""
    notes: list[Problem] = []
    params = spec.training_parameters.to_dict()
    spaces = [(("search_space", i), sub) for i, sub in enumerate(spec.search_space)]
    for base, values in [(("training_parameters",), params), *spaces]:
        for key in values:
            local = TRAINING_FIELDS[key].local if key in TRAINING_FIELDS else None
            if local:
                notes.append(
                    rep.problem((*base, key), f"accepted, not acted on: {local}", at_key=True)
                )
    advanced = params.get("advanced_settings") or {}
    from automl_nb.config._fields import ADVANCED_SETTINGS

    for key in advanced:
        if key not in ADVANCED_SETTINGS:
            notes.append(
                rep.problem(
                    ("training_parameters", "advanced_settings"),
                    f"{key}: not an advanced setting automl-nb knows; ignored",
                )
            )
    nodes = spec.properties.get("node_count_per_trial")
    if nodes and int(nodes) > 1:
        notes.append(
            rep.problem(
                ("properties", "node_count_per_trial"),
                f"each trial runs on {nodes} machines: start `automl-vision worker JOB "
                "--node-rank K` on the others (the workspace on a shared filesystem)",
            )
        )
    if spec.compute.startswith("azureml:"):
        notes.append(
            rep.problem(("compute",), "an Azure compute target; runs here on local GPUs or CPU")
        )
    if "best_model" in spec.outputs:
        notes.append(
            rep.problem(
                ("outputs", "best_model"),
                "the best model is written to the job folder's best_model/ (an MLflow model "
                "with `automl-vision export --format mlflow`)",
            )
        )
    return notes


def preflight(spec: JobSpec, *, check_files: bool = True) -> PreflightReport:
    """Check ``spec`` against the model registry and the disk (see the module docstring).

    Args:
        spec: A loaded job.
        check_files: Also open ``checkpoint_path`` / ``checkpoint_run_id``.

    Returns:
        The :class:`PreflightReport`; its ``raise_for_errors()`` raises a located
        :class:`ConfigError` naming file, line and key of each problem.
    """
    rep = _reporter(spec)
    notes: list[Problem] = []
    seen: set[tuple[Path, str]] = set()
    for path, name, fixed in _model_candidates(spec):
        if (path, name) in seen:
            continue
        seen.add((path, name))
        cfg = _check_model(rep, path, name, spec)
        if cfg is not None:
            _check_fit(rep, spec, cfg, fixed, notes)
    if check_files:
        _check_checkpoint(rep, spec)
    errors = list(dict.fromkeys(rep.errors))
    warnings = list(dict.fromkeys([*notes, *_warnings(rep, spec)]))
    return PreflightReport(errors=errors, warnings=warnings)


def check_job(spec: JobSpec, *, check_files: bool = True) -> list[Problem]:
    """Raise :class:`ConfigError` when :func:`preflight` finds an error; return its warnings."""
    report = preflight(spec, check_files=check_files)
    report.raise_for_errors()
    return report.warnings
