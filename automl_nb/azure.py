"""The Azure ML SDK v2 names that Azure's AutoML-for-Images notebooks import, from one module.

Azure's notebooks import from ``azure.ai.ml``, ``azure.ai.ml.automl``, ``azure.ai.ml.sweep`` and
``azure.ai.ml.constants``; here every one of those names comes from ``automl_nb.azure``, so
the job cells run unchanged once the import lines read::

    from automl_nb.azure import SearchSpace, ClassificationPrimaryMetrics
    from automl_nb.azure import Choice, Uniform, BanditPolicy
    from automl_nb.azure import automl
    from automl_nb.azure import AssetTypes, InputOutputModes
    from automl_nb.azure import Input

``automl.image_classification(...)`` and its siblings are the builders of
:mod:`automl_nb.config`; the enums carry Azure's own values (``"Accuracy"``, ``"IOU"``,
``"MeanAveragePrecision"``), which the job spec accepts. Importing this module does not import
torch.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from enum import Enum
from typing import Any

from automl_nb.config import BanditPolicy
from automl_nb.config import Choice
from automl_nb.config import ImageClassificationSearchSpace
from automl_nb.config import ImageObjectDetectionSearchSpace
from automl_nb.config import Input
from automl_nb.config import LogNormal
from automl_nb.config import LogUniform
from automl_nb.config import MedianStoppingPolicy
from automl_nb.config import Normal
from automl_nb.config import QLogNormal
from automl_nb.config import QLogUniform
from automl_nb.config import QNormal
from automl_nb.config import QUniform
from automl_nb.config import Randint
from automl_nb.config import TruncationSelectionPolicy
from automl_nb.config import Uniform
from automl_nb.config import image_classification
from automl_nb.config import image_classification_multilabel
from automl_nb.config import image_instance_segmentation
from automl_nb.config import image_object_detection
from automl_nb.config._builders import _SearchSpace
from automl_nb.tasks import Task


class SearchSpace(_SearchSpace):
    """A sub-space for any image task (Azure ``azure.ai.ml.automl.SearchSpace``).

    Example:
        >>> sorted(SearchSpace(model_name=Choice(["seresnext"]), min_size=600).to_dict())
        ['min_size', 'model_name']
    """

    _tasks = frozenset(Task)


class ClassificationPrimaryMetrics(str, Enum):
    """Azure's multi-class primary metrics; image jobs take ``ACCURACY`` only."""

    AUC_WEIGHTED = "AUCWeighted"
    ACCURACY = "Accuracy"
    NORM_MACRO_RECALL = "NormMacroRecall"
    AVERAGE_PRECISION_SCORE_WEIGHTED = "AveragePrecisionScoreWeighted"
    PRECISION_SCORE_WEIGHTED = "PrecisionScoreWeighted"


class ClassificationMultilabelPrimaryMetrics(str, Enum):
    """Azure's multi-label primary metrics; image jobs take ``IOU`` only."""

    AUC_WEIGHTED = "AUCWeighted"
    ACCURACY = "Accuracy"
    NORM_MACRO_RECALL = "NormMacroRecall"
    AVERAGE_PRECISION_SCORE_WEIGHTED = "AveragePrecisionScoreWeighted"
    PRECISION_SCORE_WEIGHTED = "PrecisionScoreWeighted"
    IOU = "IOU"


class ObjectDetectionPrimaryMetrics(str, Enum):
    """Azure's object detection primary metric."""

    MEAN_AVERAGE_PRECISION = "MeanAveragePrecision"


class InstanceSegmentationPrimaryMetrics(str, Enum):
    """Azure's instance segmentation primary metric."""

    MEAN_AVERAGE_PRECISION = "MeanAveragePrecision"


class AssetTypes:
    """Azure's ``azure.ai.ml.constants.AssetTypes`` (the ``type`` of an :func:`Input`)."""

    URI_FILE = "uri_file"
    URI_FOLDER = "uri_folder"
    MLTABLE = "mltable"
    MLFLOW_MODEL = "mlflow_model"
    TRITON_MODEL = "triton_model"
    CUSTOM_MODEL = "custom_model"


class InputOutputModes:
    """Azure's ``azure.ai.ml.constants.InputOutputModes`` (the ``mode`` of an :func:`Input`)."""

    MOUNT = "mount"
    DOWNLOAD = "download"
    UPLOAD = "upload"
    RO_MOUNT = "ro_mount"
    RW_MOUNT = "rw_mount"
    EVAL_MOUNT = "eval_mount"
    EVAL_DOWNLOAD = "eval_download"
    DIRECT = "direct"


def _taking_enums(builder: Callable[..., Any]) -> Callable[..., Any]:
    """``builder`` with enum arguments (``primary_metric=...PrimaryMetrics.IOU``) as values."""

    @functools.wraps(builder)
    def wrapper(**kwargs: Any) -> Any:
        return builder(**{k: v.value if isinstance(v, Enum) else v for k, v in kwargs.items()})

    return wrapper


# ``from azure.ai.ml import automl`` -> ``from automl_nb.azure import automl``.
automl = types.SimpleNamespace(
    image_classification=_taking_enums(image_classification),
    image_classification_multilabel=_taking_enums(image_classification_multilabel),
    image_object_detection=_taking_enums(image_object_detection),
    image_instance_segmentation=_taking_enums(image_instance_segmentation),
    SearchSpace=SearchSpace,
    ImageClassificationSearchSpace=ImageClassificationSearchSpace,
    ImageObjectDetectionSearchSpace=ImageObjectDetectionSearchSpace,
    ClassificationPrimaryMetrics=ClassificationPrimaryMetrics,
    ClassificationMultilabelPrimaryMetrics=ClassificationMultilabelPrimaryMetrics,
    ObjectDetectionPrimaryMetrics=ObjectDetectionPrimaryMetrics,
    InstanceSegmentationPrimaryMetrics=InstanceSegmentationPrimaryMetrics,
)

__all__ = [
    "AssetTypes",
    "BanditPolicy",
    "Choice",
    "ClassificationMultilabelPrimaryMetrics",
    "ClassificationPrimaryMetrics",
    "ImageClassificationSearchSpace",
    "ImageObjectDetectionSearchSpace",
    "Input",
    "InputOutputModes",
    "InstanceSegmentationPrimaryMetrics",
    "LogNormal",
    "LogUniform",
    "MedianStoppingPolicy",
    "Normal",
    "ObjectDetectionPrimaryMetrics",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "Randint",
    "SearchSpace",
    "TruncationSelectionPolicy",
    "Uniform",
    "automl",
]
