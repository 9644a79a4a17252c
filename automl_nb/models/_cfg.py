"""The per-model configuration record and the Azure per-model hyperparameter defaults."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.tasks import Task

CLASSIFICATION_TASKS: tuple[Task, ...] = (Task.CLASSIFICATION, Task.CLASSIFICATION_MULTILABEL)
DETECTION_TASKS: tuple[Task, ...] = (Task.OBJECT_DETECTION,)
SEGMENTATION_TASKS: tuple[Task, ...] = (Task.INSTANCE_SEGMENTATION,)


@dataclass(frozen=True)
class ModelCfg:
    """Everything the rest of automl-nb needs to know about one model, for one task.

    The data pipeline reads the input size and normalisation from here (they come from timm's
    ``pretrained_cfg``, never copied by hand), the training loop reads the hyperparameter
    defaults and the ``layers_to_freeze`` map, and the explainers read ``gradcam_layer``.

    Attributes:
        name: The user-facing ``model_name`` (``resnet50``, ``fasterrcnn_resnet50_fpn``, or any
            timm model name).
        task: The task these defaults are resolved for.
        tasks: Every task the model can be trained for.
        family: ``"timm"`` (classifiers), ``"torchvision"`` (Faster R-CNN, RetinaNet,
            Mask R-CNN) or ``"yolo"`` (``yolov5``).
        arch: The timm architecture (``resnest50d``) or, for torchvision detectors, the
            detector kind (``fasterrcnn``, ``maskrcnn``, ``retinanet``).
        backbone: The torchvision ResNet under a detector's FPN (``resnet50``); ``None`` for
            classifiers.
        input_size: ``(C, H, W)`` the pretrained weights were trained at. ``None`` for
            detectors, which resize by ``min_size`` / ``max_size`` themselves.
        mean: Per-channel normalisation mean for 0-1 RGB input. ``None`` for detectors: they
            normalise inside the model (torchvision's ``GeneralizedRCNNTransform``), so feed
            them plain 0-1 RGB tensors.
        std: Per-channel normalisation std; ``None`` for detectors (see ``mean``).
        interpolation: Resize interpolation of the pretrained recipe (``bicubic``, ...).
        crop_pct: Centre-crop fraction of the pretrained recipe (timm), or ``None``.
        fixed_input_size: True when the model only takes its trained input size (ViTs): the
            validation crop must then equal the training crop.
        defaults: Per-model hyperparameter defaults for ``task``, v2 names
            (``training_batch_size``, ``learning_rate``, ...).
        layer_groups: The ``layers_to_freeze`` map: entry ``i`` is a tuple of parameter name
            prefixes; ``layers_to_freeze: n`` freezes the parameters of the first ``n`` entries.
        gradcam_layer: Dotted path of the module whose output GradCAM uses (its last feature
            block). Parts are attribute names or integer indices; ``-1`` means the last child.
            ``None`` where GradCAM does not apply (detectors).
        vit_tokens: True when ``gradcam_layer`` outputs transformer tokens ``[N, T, D]`` that
            must be reshaped to ``[N, D, h, w]`` after dropping ``num_prefix_tokens`` tokens.
        num_prefix_tokens: Class/register tokens in front of the patch tokens (ViTs).
        weights: What ``pretrained=True`` loads: the timm ``arch.tag`` or the torchvision
            weights enum (``FasterRCNN_ResNet50_FPN_Weights.COCO_V1``); ``None`` when the model
            has no pretrained weights.
        weights_source: Where those weights are downloaded from (``hf-hub:timm/...`` or a URL).
        available: False for names that are known but not implemented yet (``yolov5``).
        description: One line for listings.
    """

    name: str
    task: Task
    tasks: tuple[Task, ...]
    family: str
    arch: str
    backbone: str | None = None
    input_size: tuple[int, int, int] | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    interpolation: str = "bilinear"
    crop_pct: float | None = None
    fixed_input_size: bool = False
    defaults: dict[str, Any] = field(default_factory=dict)
    layer_groups: tuple[tuple[str, ...], ...] = ()
    gradcam_layer: str | None = None
    vit_tokens: bool = False
    num_prefix_tokens: int = 0
    weights: str | None = None
    weights_source: str | None = None
    available: bool = True
    description: str = ""

    def __hash__(self) -> int:
        # ``defaults`` is a dict, so hash the identity of the cfg: its name and task.
        return hash((self.name, self.task))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field (tuples become lists, the task its name)."""
        out: dict[str, Any] = {}
        for key in self.__dataclass_fields__:
            value = getattr(self, key)
            if isinstance(value, Task):
                value = value.value
            elif key == "tasks":
                value = [t.value for t in value]
            elif key == "layer_groups":
                value = [list(g) for g in value]
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            out[key] = value
        return out


def classification_defaults(
    name: str, task: Task, *, crop_size: int = 224, resize_size: int = 256
) -> dict[str, Any]:
    """A classifier's defaults for listings and trials: its family's values from the parameter
    table (:mod:`automl_nb.config._parameters`) and its own input size.

    Args:
        name: The user-facing model name (Azure's ViTs are families of their own).
        task: Multi-class or multi-label classification.
        crop_size: The model's native input size (224 for Azure's curated models).
        resize_size: Validation resize size before the centre crop (256 for Azure's models).

    Returns:
        The defaults keyed by v2 hyperparameter names.
    """
    from automl_nb.config._fields import parameter_family
    from automl_nb.config._parameters import family_defaults

    out = family_defaults(task, parameter_family(name, "timm"))
    out.update(
        training_crop_size=crop_size,
        validation_crop_size=crop_size,
        validation_resize_size=resize_size,
    )
    return out


def detection_defaults(task: Task) -> dict[str, Any]:
    """The table's defaults for Faster R-CNN, RetinaNet and Mask R-CNN (v2 names)."""
    from automl_nb.config._parameters import family_defaults

    return family_defaults(task, "rcnn")


def yolo_defaults() -> dict[str, Any]:
    """The table's defaults for ``yolov5`` (v2 names)."""
    from automl_nb.config._parameters import family_defaults

    return family_defaults(Task.OBJECT_DETECTION, "yolo")
