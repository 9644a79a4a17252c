"""ONNX export, with Azure's conventions.

Files: ``model.onnx``, ``labels.json`` (class names indexed by output label id),
``settings.json`` (the inference settings) and ``export.json`` (input and output spec).

Classification: input ``input`` float32 ``[N, 3, crop, crop]`` (``crop`` is
``valid_crop_size``) with a dynamic batch axis ``N`` unless ``batch_size`` fixes it; output
``logits`` ``[N, num_classes]`` (softmax for multi-class, sigmoid for multi-label). The
image is resized to ``valid_resize_size`` (shorter side), centre-cropped to ``crop`` and, by
default, normalised with the model's mean/std. With ``normalization=True`` (Azure's
``enable_onnx_normalization``) that normalisation is inside the model and the input is RGB
scaled to 0-1 (pixel values / 255).

Object detection and instance segmentation: Azure generates a fixed-batch model, and so does
this: input ``input`` float32 ``[batch_size, 3, height, width]``, RGB 0-1 (the detector
normalises inside); images are resized to ``height`` x ``width`` (defaults: ``min_size`` and
``min(max_size, 4/3 * min_size)``, 600 x 800 for Azure's default sizes). Outputs per image
``i``: ``boxes_i`` ``[n, 4]`` (x0, y0, x1, y1 in input pixels; divide by width/height for
Azure's normalised coordinates), ``labels_i`` ``[n]`` (int64; ``labels.json[id]`` is the
name, 0 is the background), ``scores_i`` ``[n]`` and, for instance segmentation,
``masks_i`` ``[n, 1, height, width]`` (0-1 probabilities). ``box_score_thresh``,
``nms_iou_thresh`` and ``box_detections_per_img`` of the settings are built in.

The model is exported with torch's TorchScript-based ONNX exporter (``dynamo=False``),
which needs no packages beyond ``onnx``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.inference.export._base import classification_norm
from automl_nb.inference.export._base import classifier_input_spec
from automl_nb.inference.export._base import missing_package_error
from automl_nb.inference.export._base import register_format
from automl_nb.inference.export._base import write_side_files
from automl_nb.tasks import TASK_NAMES

MODEL_FILE = "model.onnx"
DEFAULT_OPSET = 17


def _default_normalization(loaded: Any) -> bool:
    """The job's ``enable_onnx_normalization`` hyperparameter, when the folder records it."""
    folder = loaded.model_dir
    path = Path(folder) / "hyperparameters.json" if folder else None
    if path is None or not path.is_file():
        return False
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("enable_onnx_normalization")
    except (OSError, ValueError, AttributeError):
        return False
    return str(value).strip().lower() in ("1", "true", "yes")


def _positive(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ModelError(f"onnx export: {name} must be an integer (got {value!r})") from None
    if number < 1:
        raise ModelError(f"onnx export: {name} must be >= 1 (got {value!r})")
    return number


def detection_input_size(loaded: Any, height: Any, width: Any) -> tuple[int, int]:
    """The fixed ``(height, width)`` of a detection export (yolov5: ``img_size`` square)."""
    if "img_size" in loaded.settings:  # yolov5
        size = int(loaded.settings["img_size"])
        h = _positive("height", height) if height is not None else size
        return h, _positive("width", width) if width is not None else size
    min_size = int(loaded.settings.get("min_size", 600))
    max_size = int(loaded.settings.get("max_size", 1333))
    h = _positive("height", height) if height is not None else min_size
    w = _positive("width", width) if width is not None else min(max_size, round(h * 4 / 3))
    return h, w


def _export(module: Any, example: Any, path: Path, **kwargs: Any) -> None:
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), dynamo=False, **kwargs)


def _export_classification(
    loaded: Any, out: Path, batch_size: int | None, normalization: bool, opset: int
) -> dict[str, Any]:
    import torch

    from automl_nb.inference.export._modules import NormalizedClassifier

    crop = int(loaded.settings["valid_crop_size"])
    mean, std = classification_norm(loaded)
    module = NormalizedClassifier(loaded.model, mean, std) if normalization else loaded.model
    example = torch.rand(batch_size or 2, 3, crop, crop)
    dynamic = None if batch_size else {"input": {0: "batch"}, "logits": {0: "batch"}}
    _export(
        module.eval(),
        example,
        out / MODEL_FILE,
        input_names=["input"],
        output_names=["logits"],
        dynamic_axes=dynamic,
        opset_version=opset,
    )
    multilabel = loaded.task.value == "image_classification_multilabel"
    return {
        "input": {
            "name": "input",
            **classifier_input_spec(
                loaded, normalization=normalization, batch=batch_size or "batch"
            ),
        },
        "outputs": [{"name": "logits", "shape": [batch_size or "batch", len(loaded.labels)]}],
        "postprocess": "sigmoid" if multilabel else "softmax",
    }


def _export_detection(
    loaded: Any, out: Path, batch_size: int, height: int, width: int, opset: int
) -> dict[str, Any]:
    import torch

    from automl_nb.inference._settings import apply_detector_settings
    from automl_nb.inference.export._modules import BatchDetector
    from automl_nb.inference.export._modules import detection_output_names

    apply_detector_settings(loaded.model, loaded.settings)
    with_masks = loaded.task.value == "image_instance_segmentation"
    module = BatchDetector(loaded.model, batch_size, with_masks).eval()
    names = detection_output_names(batch_size, with_masks)
    try:
        _export(
            module,
            torch.rand(batch_size, 3, height, width),
            out / MODEL_FILE,
            input_names=["input"],
            output_names=names,
            opset_version=opset,
        )
    except Exception as exc:  # the exporter raises many kinds; name the model
        raise ModelError(f"onnx export of {loaded.model_name!r} failed: {exc}") from exc
    return {
        "input": {
            "name": "input",
            "shape": [batch_size, 3, height, width],
            "dtype": "float32",
            "layout": "NCHW RGB",
            "range": "0-1 (pixels / 255)",
            "normalization_in_model": True,
        },
        "outputs": [{"name": n} for n in names],
        "boxes": "x0, y0, x1, y1 in input pixels",
        "label_ids": "labels.json[id]; 0 is the background",
    }


@register_format(
    "onnx",
    description="ONNX model (model.onnx + labels.json), as Azure exports",
    tasks=TASK_NAMES,
    options={
        "batch_size": "fixed batch size (detection: default 1; classification: dynamic)",
        "normalization": "classification: normalise inside the model (0-1 RGB input)",
        "height": "detection: input height (default min_size)",
        "width": "detection: input width (default min(max_size, 4/3 height))",
        "opset": f"ONNX opset (default {DEFAULT_OPSET})",
    },
    requires=("onnx",),
)
def export_onnx(
    loaded: Any,
    out: Path,
    *,
    batch_size: int | None = None,
    normalization: bool | None = None,
    height: int | None = None,
    width: int | None = None,
    opset: int = DEFAULT_OPSET,
) -> list[Path]:
    """Write ``model.onnx`` and its side files into ``out`` (see the module docstring)."""
    try:
        import onnx
    except ImportError:
        raise missing_package_error("onnx", "onnx") from None

    batch = _positive("batch_size", batch_size) if batch_size is not None else None
    opset = _positive("opset", opset)
    if loaded.task.is_classification:
        if height is not None or width is not None:
            raise ModelError(
                "onnx export: height/width are for detection; classification uses valid_crop_size"
            )
        if normalization is None:
            normalization = _default_normalization(loaded)
        info = _export_classification(loaded, out, batch, bool(normalization), opset)
    else:
        if normalization is False:
            raise ModelError("onnx export: detectors always normalise inside the model")
        h, w = detection_input_size(loaded, height, width)
        info = _export_detection(loaded, out, batch or 1, h, w, opset)
    onnx.checker.check_model(str(out / MODEL_FILE))
    info = {"format": "onnx", "opset": opset, "task": loaded.task.value, **info}
    return [out / MODEL_FILE, *write_side_files(loaded, out, info)]
