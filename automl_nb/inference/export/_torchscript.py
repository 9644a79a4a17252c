"""TorchScript export: a ``model.pt`` that ``torch.jit.load`` runs without automl-nb.

Files: ``model.pt``, ``labels.json`` (class names indexed by output label id),
``settings.json`` (the inference settings) and ``export.json`` (input and output spec).

Classification (``torch.jit.trace``): input float32 ``[N, 3, crop, crop]`` with any batch
size ``N``, the image resized to ``valid_resize_size`` (shorter side), centre-cropped to
``crop = valid_crop_size`` and normalised with the model's mean/std (listed in
``export.json``); with ``normalization=True`` the normalisation is inside the model and the
input is RGB scaled to 0-1. Output: logits ``[N, num_classes]`` (softmax for multi-class,
sigmoid for multi-label).

Object detection and instance segmentation (``torch.jit.script`` of the torchvision
detector): input a list of float32 ``[3, H, W]`` RGB 0-1 images of any size; the model
resizes (``min_size``, ``max_size``) and normalises inside. Output: the tuple
``(losses, detections)`` of scripted torchvision detectors, where ``detections[i]`` is a
dict with ``boxes`` (x0, y0, x1, y1 in the image's pixels), ``labels`` (``labels.json[id]``
is the name, 0 is the background), ``scores`` and, for instance segmentation, ``masks``
``[n, 1, H, W]``. Loading needs ``import torchvision`` first (it registers the detection
ops such as ``torchvision::nms``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.inference.export._base import classification_norm
from automl_nb.inference.export._base import classifier_input_spec
from automl_nb.inference.export._base import register_format
from automl_nb.inference.export._base import write_side_files
from automl_nb.tasks import TASK_NAMES

MODEL_FILE = "model.pt"


def _trace_classifier(loaded: Any, normalization: bool) -> tuple[Any, dict[str, Any]]:
    import torch

    from automl_nb.inference.export._modules import NormalizedClassifier

    crop = int(loaded.settings["valid_crop_size"])
    mean, std = classification_norm(loaded)
    module = NormalizedClassifier(loaded.model, mean, std) if normalization else loaded.model
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module.eval(), torch.rand(2, 3, crop, crop))
    # Tracing records shapes; check that another batch size runs too.
    with torch.no_grad():
        traced(torch.rand(3, 3, crop, crop))
    multilabel = loaded.task.value == "image_classification_multilabel"
    info = {
        "input": classifier_input_spec(loaded, normalization=normalization),
        "output": "logits [batch, num_classes]",
        "postprocess": "sigmoid" if multilabel else "softmax",
    }
    return traced, info


def _script_detector(loaded: Any) -> tuple[Any, dict[str, Any]]:
    import torch

    from automl_nb.inference._settings import apply_detector_settings
    from automl_nb.inference.export._modules import scriptable_detector

    apply_detector_settings(loaded.model, loaded.settings)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scripted = torch.jit.script(scriptable_detector(loaded.model.eval()))
    except Exception as exc:  # TorchScript raises several kinds; name the model
        raise ModelError(f"torchscript export of {loaded.model_name!r} failed: {exc}") from exc
    info = {
        "input": {
            "shape": "list of [3, H, W] tensors, any size",
            "dtype": "float32",
            "layout": "CHW RGB",
            "range": "0-1 (pixels / 255)",
            "normalization_in_model": True,
        },
        "output": "(losses, detections): detections[i] has boxes, labels, scores"
        + (", masks" if loaded.task.value == "image_instance_segmentation" else ""),
        "boxes": "x0, y0, x1, y1 in image pixels",
        "label_ids": "labels.json[id]; 0 is the background",
        "requires": "import torchvision before torch.jit.load",
    }
    return scripted, info


@register_format(
    "torchscript",
    description="TorchScript model.pt (torch.jit.load, no automl-nb needed)",
    tasks=TASK_NAMES,
    options={"normalization": "classification: normalise inside the model (0-1 RGB input)"},
)
def export_torchscript(loaded: Any, out: Path, *, normalization: bool | None = None) -> list[Path]:
    """Write ``model.pt`` (TorchScript) and its side files into ``out``."""
    import torch

    if loaded.task.is_classification:
        module, info = _trace_classifier(loaded, bool(normalization))
    else:
        if normalization is False:
            raise ModelError("torchscript export: detectors always normalise inside the model")
        module, info = _script_detector(loaded)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.save's deprecation notice
        torch.jit.save(module, str(out / MODEL_FILE))
    info = {"format": "torchscript", "task": loaded.task.value, **info}
    return [out / MODEL_FILE, *write_side_files(loaded, out, info)]
