"""The one table of training parameters: :class:`TrainingParameters`.

Each attribute of :class:`TrainingParameters` is one ``training_parameters`` key (v2 name) and
carries, in its field metadata, everything automl-nb knows about it: parser and range, the
tasks that take it, v1 aliases, the ``settings.json`` name, defaults per task and model family
(Azure's reference values) and a line of help. The job parser, the sweep's distribution checks,
the trial's resolution (:mod:`automl_nb.config._trial`), the inference settings and the
listings all read this table; nothing else restates these facts.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import replace
from typing import Any

from automl_nb.config._fields import ALL_TASKS
from automl_nb.config._fields import CLASSIFICATION
from automl_nb.config._fields import DETECTION
from automl_nb.config._fields import NON_NEGATIVE
from automl_nb.config._fields import OBJECT_DETECTION
from automl_nb.config._fields import POSITIVE
from automl_nb.config._fields import SEGMENTATION
from automl_nb.config._fields import UNIT
from automl_nb.config._fields import Field
from automl_nb.config._fields import dump_json_settings
from automl_nb.config._fields import dump_tile_grid
from automl_nb.config._fields import json_settings
from automl_nb.config._fields import one_of
from automl_nb.config._fields import real
from automl_nb.config._fields import tile_grid
from automl_nb.config._fields import to_flag
from automl_nb.config._fields import to_text
from automl_nb.tasks import Task

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULERS = ("warmup_cosine", "step", "none")
MODEL_SIZES = ("small", "medium", "large", "extra_large")
_ENABLE = one_of("enable", "disable", aliases={"true": "enable", "false": "disable"})

# Azure's per-family exceptions to the classification batch size (sized for a 12 GiB GPU).
_BATCH = {"classification": 78, "vits": 128, "vitb": 48, "vitl": 10, "detectors": 2, "yolo": 16}


def _p(
    parse: Callable[[Any], Any],
    kind: str,
    tasks: frozenset[Task] = ALL_TASKS,
    *,
    default: Any = None,
    scoped: Mapping[str, Any] | None = None,
    aliases: tuple[str, ...] = (),
    settings: str | None = None,
    dump: Callable[[Any], Any] | None = None,
    local: str | None = None,
    help: str = "",  # noqa: A002 - the field's help text
) -> Any:
    """A :class:`TrainingParameters` attribute: unset (``None``) in a job, described by a Field."""
    entry = Field(
        name="",
        parse=parse,
        kind=kind,
        tasks=tasks,
        default=default,
        scoped=dict(scoped or {}),
        aliases=aliases,
        settings_name=settings,
        local=local,
        help=help,
        **({"dump": dump} if dump is not None else {}),
    )
    return field(default=None, metadata={"parameter": entry})


@dataclass(frozen=True)
class TrainingParameters:
    """``training_parameters``: one attribute per v2 key; ``None`` means "not set".

    Unset values are resolved for each trial from the scoped defaults of this table (see
    :func:`automl_nb.config.resolve_trial_config`).
    """

    # --- model-agnostic -------------------------------------------------------------------
    model_name: str | None = _p(
        to_text,
        "text",
        scoped={
            "classification": "vitb16r224",
            "detection": "yolov5",
            "segmentation": "maskrcnn_resnet50_fpn",
        },
        help="the model to train (Azure name, timm name, ...)",
    )
    number_of_epochs: int | None = _p(
        POSITIVE, "int", default=15, scoped={"yolo": 30}, help="training epochs"
    )
    training_batch_size: int | None = _p(
        POSITIVE, "int", scoped=_BATCH, help="images per training batch"
    )
    validation_batch_size: int | None = _p(
        POSITIVE,
        "int",
        scoped={**_BATCH, "detectors": 1},
        help="images per validation batch",
    )
    gradient_accumulation_step: int | None = _p(
        POSITIVE,
        "int",
        default=1,
        aliases=("grad_accumulation_step",),
        settings="grad_accumulation_step",
        help="batches whose gradients are summed before a step",
    )
    early_stopping: bool | None = _p(
        to_flag, "flag", default=True, help="stop when the metric stalls"
    )
    early_stopping_patience: int | None = _p(
        POSITIVE, "int", default=5, help="evaluations without improvement before stopping"
    )
    early_stopping_delay: int | None = _p(
        NON_NEGATIVE, "int", default=5, help="epochs before early stopping starts watching"
    )
    learning_rate: float | None = _p(
        UNIT,
        "float",
        scoped={
            "multiclass": 0.01,
            "multiclass/vits": 0.0125,
            "multiclass/vitb": 0.0125,
            "multiclass/vitl": 0.001,
            "multilabel": 0.035,
            "multilabel/vits": 0.025,
            "multilabel/vitb": 0.025,
            "multilabel/vitl": 0.002,
            "detectors": 0.005,
            "yolo": 0.01,
        },
        help="initial learning rate",
    )
    learning_rate_scheduler: str | None = _p(
        one_of(*SCHEDULERS),
        "choice",
        default="warmup_cosine",
        aliases=("lr_scheduler",),
        settings="lr_scheduler",
        help="warmup_cosine, step or none",
    )
    step_lr_gamma: float | None = _p(UNIT, "float", default=0.5, help="step schedule factor")
    step_lr_step_size: int | None = _p(POSITIVE, "int", default=5, help="epochs per LR step")
    warmup_cosine_lr_cycles: float | None = _p(
        UNIT, "float", default=0.45, help="cosine cycles after warm-up"
    )
    warmup_cosine_lr_warmup_epochs: int | None = _p(
        NON_NEGATIVE, "int", default=2, help="linear warm-up epochs"
    )
    optimizer: str | None = _p(
        one_of(*OPTIMIZERS), "choice", default="sgd", help="sgd, adam or adamw"
    )
    momentum: float | None = _p(UNIT, "float", default=0.9, help="SGD momentum")
    weight_decay: float | None = _p(UNIT, "float", default=1e-4, help="L2 weight decay")
    nesterov: bool | None = _p(to_flag, "flag", default=True, help="Nesterov momentum (sgd)")
    beta1: float | None = _p(UNIT, "float", default=0.9, help="Adam beta1")
    beta2: float | None = _p(UNIT, "float", default=0.999, help="Adam beta2")
    ams_gradient: bool | None = _p(
        to_flag,
        "flag",
        default=False,
        aliases=("amsgrad",),
        settings="amsgrad",
        help="AMSGrad variant (adam, adamw)",
    )
    evaluation_frequency: int | None = _p(
        POSITIVE, "int", default=1, help="epochs between validations"
    )
    checkpoint_frequency: int | None = _p(
        POSITIVE, "int", help="also keep a full checkpoint every N epochs"
    )
    checkpoint_run_id: str | None = _p(
        to_text, "text", help="continue from an earlier trial or job (<job_id>[/<trial>])"
    )
    checkpoint_dataset_id: str | None = _p(
        to_text,
        "text",
        local="Azure dataset ids have no local meaning; use checkpoint_path instead",
        help="Azure v1 incremental training dataset",
    )
    checkpoint_filename: str | None = _p(
        to_text,
        "text",
        local="used with checkpoint_dataset_id only; use checkpoint_path instead",
        help="Azure v1 incremental training file",
    )
    checkpoint_path: str | None = _p(
        to_text, "text", help="continue from a local model folder or .pt file"
    )
    layers_to_freeze: int | None = _p(
        NON_NEGATIVE, "int", default=0, help="freeze the first N layer groups of the backbone"
    )
    distributed: bool | None = _p(
        to_flag,
        "flag",
        default=False,
        help="train one trial on every GPU of its slot (torchrun, one process per GPU)",
    )
    enable_onnx_normalization: bool | None = _p(
        to_flag, "flag", default=False, help="put input normalisation inside the ONNX export"
    )
    number_of_workers: int | None = _p(
        NON_NEGATIVE, "int", help="data loader workers (default: 0 on CPU, up to 4 on GPU)"
    )
    random_seed: int | None = _p(NON_NEGATIVE, "int", help="seed of splits, sampling and training")
    advanced_settings: dict[str, Any] | None = _p(
        json_settings,
        "json",
        dump=dump_json_settings,
        help="JSON switches: use_pretrained, apply_automl_train_augmentations, ...",
    )
    augmentations: str | None = _p(
        to_text,
        "text",
        local="Azure's undocumented SDK string; automl-nb uses its own per-task augmentations",
        help="Azure SDK augmentation string",
    )
    log_training_metrics: str | None = _p(
        _ENABLE,
        "choice",
        default="disable",
        help="enable: also score the training set after each evaluation (train_<metric>)",
    )
    log_validation_loss: str | None = _p(
        _ENABLE, "choice", default="enable", help="enable: log the validation loss"
    )
    # --- classification ---------------------------------------------------------------------
    weighted_loss: int | None = _p(
        one_of(0, 1, 2),
        "choice",
        CLASSIFICATION,
        default=0,
        help="0 none, 1 sqrt, 2 class weights",
    )
    validation_resize_size: int | None = _p(
        POSITIVE,
        "int",
        CLASSIFICATION,
        default=256,
        aliases=("valid_resize_size",),
        settings="valid_resize_size",
        help="resize before the validation centre crop",
    )
    validation_crop_size: int | None = _p(
        POSITIVE,
        "int",
        CLASSIFICATION,
        default=224,
        aliases=("valid_crop_size",),
        settings="valid_crop_size",
        help="validation centre crop",
    )
    training_crop_size: int | None = _p(
        POSITIVE,
        "int",
        CLASSIFICATION,
        default=224,
        aliases=("train_crop_size",),
        settings="train_crop_size",
        help="training random-resized crop",
    )
    # --- object detection and instance segmentation -------------------------------------------
    validation_metric_type: str | None = _p(
        one_of("none", "coco", "voc", "coco_voc"),
        "choice",
        DETECTION,
        default="voc",
        help="mAP style: voc, coco, coco_voc or none",
    )
    validation_iou_threshold: float | None = _p(
        real(0.1, 1.0), "float", DETECTION, default=0.5, help="IoU of a match (voc mAP)"
    )
    min_size: int | None = _p(
        POSITIVE, "int", DETECTION, default=600, help="shorter image side before the backbone"
    )
    max_size: int | None = _p(
        POSITIVE, "int", DETECTION, default=1333, help="longest image side before the backbone"
    )
    box_score_threshold: float | None = _p(
        UNIT,
        "float",
        DETECTION,
        default=0.3,
        scoped={"yolo": 0.1},
        aliases=("box_score_thresh",),
        settings="box_score_thresh",
        help="drop boxes scored below this",
    )
    nms_iou_threshold: float | None = _p(
        UNIT,
        "float",
        DETECTION,
        default=0.5,
        aliases=("box_nms_thresh", "nms_iou_thresh", "box_iou_thresh"),
        settings="nms_iou_thresh",
        help="IoU of non-maximum suppression",
    )
    box_detections_per_image: int | None = _p(
        POSITIVE,
        "int",
        DETECTION,
        default=100,
        aliases=("box_detections_per_img",),
        settings="box_detections_per_img",
        help="most boxes kept per image",
    )
    tile_grid_size: tuple[int, int] | None = _p(
        tile_grid, "grid", DETECTION, dump=dump_tile_grid, help="tiles per image, e.g. '3x2'"
    )
    tile_overlap_ratio: float | None = _p(
        real(0.0, 1.0, high_open=True),
        "float",
        DETECTION,
        default=0.25,
        help="overlap of neighbouring tiles",
    )
    tile_predictions_nms_threshold: float | None = _p(
        UNIT,
        "float",
        DETECTION,
        default=0.25,
        aliases=("tile_predictions_nms_thresh",),
        settings="tile_predictions_nms_thresh",
        help="IoU of the NMS merging tile predictions",
    )
    # --- yolov5 -----------------------------------------------------------------------------
    image_size: int | None = _p(
        POSITIVE,
        "int",
        OBJECT_DETECTION,
        default=640,
        aliases=("img_size",),
        settings="img_size",
        help="yolov5 input size",
    )
    model_size: str | None = _p(
        one_of(*MODEL_SIZES, aliases={"xlarge": "extra_large"}),
        "choice",
        OBJECT_DETECTION,
        default="medium",
        help="yolov5 small, medium, large or extra_large",
    )
    multi_scale: bool | None = _p(
        to_flag, "flag", OBJECT_DETECTION, default=False, help="yolov5: vary the size by ±50%"
    )
    # --- Mask R-CNN inference -----------------------------------------------------------------
    mask_pixel_score_threshold: float | None = _p(
        UNIT, "float", SEGMENTATION, default=0.5, help="mask pixel cut-off"
    )
    max_number_of_polygon_points: int | None = _p(
        POSITIVE, "int", SEGMENTATION, default=100, help="most points per polygon"
    )
    export_as_image: bool | None = _p(
        to_flag, "flag", SEGMENTATION, default=False, help="also write masks as images"
    )
    image_type: str | None = _p(
        one_of("jpg", "png", "bmp"), "choice", SEGMENTATION, default="jpg", help="mask image type"
    )

    def to_dict(self) -> dict[str, Any]:
        """The set keys only, v2 names, normalized values (``tile_grid_size`` as a tuple)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None
        }

    def to_yaml_dict(self) -> dict[str, Any]:
        """The set keys in their YAML form (``'3x2'``, advanced settings as a JSON string)."""
        return {k: TRAINING_FIELDS[k].dump(v) for k, v in self.to_dict().items()}


TRAINING_FIELDS: dict[str, Field] = {
    f.name: replace(f.metadata["parameter"], name=f.name) for f in fields(TrainingParameters)
}
"""Every ``training_parameters`` key (v2 name) -> its :class:`Field`, in table order."""

TRAINING_ALIASES: dict[str, str] = {
    alias: name for name, entry in TRAINING_FIELDS.items() for alias in entry.aliases
}
"""v1 training-parameter name -> v2 name."""

DEFAULT_MODEL: dict[Task, str] = {
    task: TRAINING_FIELDS["model_name"].default_for(task) for task in Task
}
"""The model a task trains when ``model_name`` is not given."""


def fields_for(task: Task | None) -> dict[str, Field]:
    """The training fields a task takes (all of them when the task is not known yet)."""
    if task is None:
        return TRAINING_FIELDS
    return {name: f for name, f in TRAINING_FIELDS.items() if task in f.tasks}


FAMILIES: dict[str, tuple[str, ...]] = {
    "classification": ("cnn", "vits", "vitb", "vitl"),
    "detection": ("rcnn", "yolo"),
    "segmentation": ("rcnn",),
}
"""The parameter families of each task's models (see :func:`parameter_family`)."""


def task_families(task: Task) -> tuple[str, ...]:
    """The parameter families whose models can train ``task``."""
    if task.is_classification:
        return FAMILIES["classification"]
    return FAMILIES["detection" if task is Task.OBJECT_DETECTION else "segmentation"]


def default_training_parameters(task: Task | str, model_name: str | None = None) -> dict:
    """Azure's training defaults (v2 names) that hold for every model of ``task``.

    Values a model family changes (batch sizes, learning rates, ``yolov5``'s epochs) and
    values read from the model itself (crop sizes) are left out: they are resolved per trial.

    Args:
        task: The task (``Task`` or its name).
        model_name: The model; defaults to the task's default model.

    Returns:
        A new dict of v2 name -> default value, including ``model_name``.
    """
    from automl_nb.tasks import as_task

    task = as_task(task)
    out: dict[str, Any] = {"model_name": model_name or DEFAULT_MODEL[task]}
    for name, entry in fields_for(task).items():
        if name == "model_name" or name in MODEL_NATIVE:
            continue
        values = {repr(entry.default_for(task, family)) for family in task_families(task)}
        value = entry.default_for(task)
        if value is not None and len(values) == 1:
            out[name] = value
    return out


MODEL_NATIVE = frozenset({"training_crop_size", "validation_crop_size", "validation_resize_size"})
"""Keys whose default is the model's own input size (timm ``pretrained_cfg``) when it has one."""


def family_defaults(task: Task, family: str) -> dict[str, Any]:
    """The defaults of a model family for ``task`` that listings show with each model."""
    out = {}
    for name, entry in fields_for(task).items():
        value = entry.default_for(task, family)
        if name == "model_name" or value is None:
            continue
        listed = _YOLO_KEYS if family == "yolo" else _PER_MODEL_KEYS
        if name in listed or value != entry.default_for(task):
            out[name] = value
    return out


# Shown with each model in listings, besides what its family changes.
_PER_MODEL_KEYS = frozenset(
    {
        "number_of_epochs",
        "training_batch_size",
        "validation_batch_size",
        "learning_rate",
        "min_size",
        "max_size",
        "box_score_threshold",
        "nms_iou_threshold",
        "box_detections_per_image",
        "validation_metric_type",
        "validation_iou_threshold",
    }
)
_YOLO_KEYS = (_PER_MODEL_KEYS - {"min_size", "max_size", "box_detections_per_image"}) | {
    "image_size",
    "model_size",
}
