"""One trial's settings, every value resolved once: :class:`TrialConfig`.

Precedence, lowest first:

1. the parameter table's default for the task and the model's family
   (:class:`~automl_nb.config.TrainingParameters`: batch sizes, learning rates, ...);
2. the model's own input size (crop sizes of timm models, from their ``pretrained_cfg``);
3. the job's ``training_parameters``;
4. this trial's parameters (a sweep's sample, or ``--set`` values).

``advanced_settings`` is merged key by key in the same order. Training, evaluation, the model
folder's inference settings and export read attributes of the result; nothing downstream looks
a default up again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from typing import TYPE_CHECKING
from typing import Any

from automl_nb.config._fields import Invalid
from automl_nb.config._fields import parameter_family
from automl_nb.config._names import canonical_parameter_name
from automl_nb.config._parameters import DEFAULT_MODEL
from automl_nb.config._parameters import MODEL_NATIVE
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

if TYPE_CHECKING:
    from automl_nb.config._job import JobSpec
    from automl_nb.models import ModelCfg


@dataclass(frozen=True)
class AdvancedSettings:
    """``advanced_settings``: Azure's switches plus automl-nb's ``use_pretrained``.

    Attributes:
        use_pretrained: Start from pretrained weights (False trains from scratch).
        apply_automl_train_augmentations: Use the task's training augmentations.
        apply_mosaic_for_yolo: Mosaic augmentation for ``yolov5``.
        stream_image_files: Read images on demand instead of copying them first.
        model_ema: Evaluate and publish an exponential moving average of the weights (on by
            default for ``yolov5``, as in YOLOv5's own training).
        model_ema_decay: The decay that average's warm-up rises to.
        precision: The autocast dtype: ``auto`` (fp16 on CUDA, bf16 on CPUs that compute it
            natively), ``fp32``, ``bf16`` or ``fp16`` (see
            :mod:`automl_nb.training._precision`).
        extra: Keys automl-nb does not know, kept as given.
    """

    use_pretrained: bool = True
    apply_automl_train_augmentations: bool = True
    apply_mosaic_for_yolo: bool = True
    stream_image_files: bool = False
    model_ema: bool = False
    model_ema_decay: float = 0.9998
    precision: str = "auto"
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> AdvancedSettings:
        """Known keys become attributes, the rest goes to :attr:`extra`."""
        types = {f.name: f.type for f in fields(cls) if f.name != "extra"}
        convert = {"float": float, "str": str}
        given: dict[str, Any] = {
            k: convert.get(str(types[k]), bool)(v) for k, v in values.items() if k in types
        }
        return cls(**given, extra={k: v for k, v in values.items() if k not in types})

    def to_dict(self) -> dict[str, Any]:
        """The settings as one flat JSON-ready dict."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class TrialConfig:
    """Every setting of one trial, resolved (see the module docstring for the precedence).

    Attribute names are the v2 ``training_parameters`` names, plus :attr:`task` and
    :attr:`model_family` (the family whose defaults applied: ``cnn``, ``vits``, ``vitb``,
    ``vitl``, ``rcnn`` or ``yolo``). Keys that do not apply to the task keep their table
    default and are left out of :meth:`to_dict`. ``None`` means "not set" only where the
    reference has no default (``checkpoint_path``, ``tile_grid_size``, ``random_seed``, ...).
    """

    task: Task
    model_family: str
    model_name: str
    number_of_epochs: int
    training_batch_size: int
    validation_batch_size: int
    gradient_accumulation_step: int
    early_stopping: bool
    early_stopping_patience: int
    early_stopping_delay: int
    learning_rate: float
    learning_rate_scheduler: str
    step_lr_gamma: float
    step_lr_step_size: int
    warmup_cosine_lr_cycles: float
    warmup_cosine_lr_warmup_epochs: int
    optimizer: str
    momentum: float
    weight_decay: float
    nesterov: bool
    beta1: float
    beta2: float
    ams_gradient: bool
    evaluation_frequency: int
    checkpoint_frequency: int | None
    checkpoint_run_id: str | None
    checkpoint_dataset_id: str | None
    checkpoint_filename: str | None
    checkpoint_path: str | None
    layers_to_freeze: int
    distributed: bool
    enable_onnx_normalization: bool
    number_of_workers: int | None
    random_seed: int | None
    advanced_settings: AdvancedSettings
    augmentations: str | None
    log_training_metrics: str
    log_validation_loss: str
    weighted_loss: int
    validation_resize_size: int
    validation_crop_size: int
    training_crop_size: int
    validation_metric_type: str
    validation_iou_threshold: float
    min_size: int
    max_size: int
    box_score_threshold: float
    nms_iou_threshold: float
    box_detections_per_image: int
    tile_grid_size: tuple[int, int] | None
    tile_overlap_ratio: float
    tile_predictions_nms_threshold: float
    image_size: int
    model_size: str
    multi_scale: bool
    mask_pixel_score_threshold: float
    max_number_of_polygon_points: int
    export_as_image: bool
    image_type: str

    @property
    def is_yolo(self) -> bool:
        """True for the ``yolov5`` family (letterboxed input, its own size keys)."""
        return self.model_family == "yolo"

    def to_dict(self) -> dict[str, Any]:
        """The keys this task takes, v2 names, JSON-ready (``hyperparameters.json``)."""
        out: dict[str, Any] = {}
        for name, entry in TRAINING_FIELDS.items():
            if self.task not in entry.tasks:
                continue
            value = getattr(self, name)
            if isinstance(value, AdvancedSettings):
                value = value.to_dict()
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def replace(self, **changes: Any) -> TrialConfig:
        """A copy with ``changes`` (v2 names) applied; values are not re-checked."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return TrialConfig(**values)


def _parse_value(name: str, value: Any, where: str) -> Any:
    """One value checked with the table's parser (sweeps draw 600.0 for an int key)."""
    entry = TRAINING_FIELDS[name]
    if entry.kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return entry.parse(value)
    except Invalid as exc:
        raise ConfigError(
            Problem(str(exc), path=f"{where}.{name}", value=repr(value), suggestion=exc.suggestion)
        ) from None


def canonical_parameters(
    params: Mapping[str, Any] | None, *, where: str = "training_parameters"
) -> dict[str, Any]:
    """Trial parameters (v1 or v2 names, maybe strings) as checked v2 values.

    Raises:
        ConfigError: An unknown name (with the nearest valid one) or a bad value.
    """
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        text = str(key)
        if text.startswith("training_parameters."):
            text = text[len("training_parameters.") :]
        name = canonical_parameter_name(text)
        if name == "validation_data_size" or value is None:
            continue
        out[name] = _parse_value(name, value, where)
    return out


def select_model_name(spec: JobSpec, params: Mapping[str, Any] | None = None) -> str:
    """The model a trial trains: the trial's ``model_name``, else the job's, else the default."""
    sampled = canonical_parameters({k: v for k, v in (params or {}).items() if k == "model_name"})
    return str(
        sampled.get("model_name")
        or spec.training_parameters.model_name
        or DEFAULT_MODEL[Task(spec.task)]
    )


def resolve_trial_config(
    spec: JobSpec, params: Mapping[str, Any] | None = None, *, model_cfg: ModelCfg | None = None
) -> TrialConfig:
    """Every setting of one trial of ``spec``, resolved once.

    Args:
        spec: The job.
        params: This trial's parameters (a sweep's sample or ``--set`` overrides; v1 or v2
            names), over the job's ``training_parameters``.
        model_cfg: The model's registry record; looked up from the resolved ``model_name``
            when not given (that imports the model registry).

    Returns:
        The frozen :class:`TrialConfig`.

    Raises:
        ConfigError: An unknown parameter (naming the nearest one) or a bad value.
        ModelError: An unknown model name.

    Example:
        >>> from automl_nb.config import load_job
        >>> spec = load_job(
        ...     {
        ...         "task": "image_classification",
        ...         "target_column_name": "label",
        ...         "training_data": {"path": "train.jsonl", "type": "uri_file"},
        ...         "training_parameters": {"model_name": "resnet18", "learning_rate": 0.02},
        ...     }
        ... )
        >>> cfg = resolve_trial_config(spec, {"number_of_epochs": 3})
        >>> cfg.learning_rate, cfg.number_of_epochs, cfg.optimizer, cfg.training_batch_size
        (0.02, 3, 'sgd', 78)
    """
    task = Task(spec.task)
    sampled = canonical_parameters(params)
    job = spec.training_parameters.to_dict()
    if model_cfg is None:
        from automl_nb.models import get_model_cfg

        model_cfg = get_model_cfg(select_model_name(spec, params), task)
    family = parameter_family(model_cfg.name, model_cfg.family)
    values = {name: entry.default_for(task, family) for name, entry in TRAINING_FIELDS.items()}
    values.update({k: v for k, v in model_cfg.defaults.items() if k in MODEL_NATIVE})
    # The family's own switches, under what the job and the trial set.
    advanced: dict[str, Any] = {"model_ema": True} if family == "yolo" else {}
    for layer in (job, sampled):
        for key, value in layer.items():
            if key == "advanced_settings":
                advanced.update(value)
            elif value is not None:
                values[key] = value
    values["model_name"] = model_cfg.name
    values["advanced_settings"] = AdvancedSettings.from_mapping(advanced)
    return TrialConfig(task=task, model_family=family, **values)


def trial_config_fields() -> list[str]:
    """The attribute names of :class:`TrialConfig` (for tests and listings)."""
    return [f.name for f in fields(TrialConfig)]


__all__ = [
    "AdvancedSettings",
    "TrialConfig",
    "canonical_parameters",
    "resolve_trial_config",
    "select_model_name",
]
