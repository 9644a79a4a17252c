"""The model zoo: one registry keyed by the user-facing ``model_name``.

Azure's curated names (``mobilenetv2``, ``resnet18``..``resnet152``, ``resnest50``,
``resnest101``, ``seresnext``, ``vits16r224``, ``vitb16r224``, ``vitl16r224``,
``fasterrcnn_resnet{18,34,50,101,152}_fpn``, ``retinanet_resnet50_fpn``,
``maskrcnn_resnet{18,34,50,101,152}_fpn``) come first; any other timm model name also works for
classification. ``yolov5`` (the detection default, as in Azure) is automl-nb's own
YOLOv5-style detector (:mod:`automl_nb.models.yolo`).

Importing this package does not import torch; building a cfg or a model does.
"""

from __future__ import annotations

from automl_nb.models import _timm  # noqa: F401 - registers the timm entries
from automl_nb.models import _torchvision  # noqa: F401 - registers the torchvision entries
from automl_nb.models import _yolo  # noqa: F401 - registers yolov5
from automl_nb.models._cfg import ModelCfg
from automl_nb.models._freeze import freeze_layers
from automl_nb.models._freeze import resolve_layer
from automl_nb.models._registry import create_model
from automl_nb.models._registry import default_model
from automl_nb.models._registry import get_model_cfg
from automl_nb.models._registry import get_model_defaults
from automl_nb.models._registry import is_model
from automl_nb.models._registry import list_models
from automl_nb.models._registry import register_model
from automl_nb.models._registry import registered_names

__all__ = [
    "ModelCfg",
    "create_model",
    "default_model",
    "freeze_layers",
    "get_model_cfg",
    "get_model_defaults",
    "is_model",
    "list_models",
    "register_model",
    "registered_names",
    "resolve_layer",
]
