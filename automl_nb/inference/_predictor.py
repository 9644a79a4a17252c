"""Load a model folder and predict in the Azure scoring output schema."""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.inference._images import as_image_list
from automl_nb.inference._images import load_image
from automl_nb.inference._model_dir import MODEL_FILE
from automl_nb.inference._model_dir import read_model_folder
from automl_nb.inference._model_dir import restore_frozen_batchnorm
from automl_nb.inference._polygons import mask_to_polygons
from automl_nb.inference._polygons import normalise_polygons
from automl_nb.inference._settings import apply_detector_settings
from automl_nb.inference._settings import default_inference_settings
from automl_nb.inference._settings import merge_settings
from automl_nb.inference._settings import parse_tile_grid_size
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

_DEFAULT_BATCH = {True: 16, False: 1}  # classification / detection


def resolve_device(device: Any) -> Any:
    """``device`` (``cpu``, ``cuda``, ``cuda:1``, a ``torch.device`` or None: auto) checked.

    Raises:
        ConfigError: An unknown device name, or a CUDA device this machine does not have.
    """
    from automl_nb.training._device import resolve_device as resolve

    return resolve(device, field="device")


class LoadedModel:
    """A trained model ready to predict, with its labels and inference settings.

    Attributes:
        model: The ``torch.nn.Module`` in eval mode.
        model_name: Its registry name.
        task: The task.
        labels: Class names in class-index order.
        settings: Inference settings (v1 names, as in ``settings.json``).
        model_cfg: The registry's ``ModelCfg`` (input size, mean/std, ...).
        device: The torch device the model is on.
        model_dir: The folder it was loaded from (``None`` for an in-memory model).
    """

    def __init__(
        self,
        model: Any,
        *,
        model_name: str,
        task: Task | str,
        labels: Sequence[str],
        settings: Mapping[str, Any],
        model_cfg: Any,
        device: Any,
        model_dir: Path | None = None,
    ) -> None:
        self.model = model.eval()
        self.model_name = model_name
        self.task = as_task(task)
        self.labels = [str(label) for label in labels]
        self.settings = dict(settings)
        self.model_cfg = model_cfg
        self.device = device
        self.model_dir = model_dir
        self._transform: Any = None
        self._transform_key: Any = None

    @classmethod
    def from_model(
        cls,
        model: Any,
        *,
        model_name: str,
        task: Task | str,
        labels: Sequence[str],
        settings: Mapping[str, Any] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        device: Any = None,
    ) -> LoadedModel:
        """Wrap an in-memory model (for example right after training) to predict with it.

        Args:
            model: The ``torch.nn.Module`` (put in eval mode).
            model_name: Its registry name.
            task: The task.
            labels: Class names in class-index order.
            settings: Inference-setting overrides (v1 or v2 names).
            hyperparameters: Resolved hyperparameters whose inference settings apply.
            device: Move the model there (default: where it is).

        Returns:
            The wrapped model.
        """
        import torch

        from automl_nb.models import get_model_cfg

        task = as_task(task)
        resolved = default_inference_settings(task, model_name, hyperparameters)
        if settings:
            extra = {k: v for k, v in settings.items() if k not in ("model_name", "task")}
            resolved = merge_settings(resolved, extra, task)
        if device is not None:
            model = model.to(device)
        else:
            param = next(iter(model.parameters()), None)
            device = param.device if param is not None else torch.device("cpu")
        return cls(
            model,
            model_name=model_name,
            task=task,
            labels=labels,
            settings=resolved,
            model_cfg=get_model_cfg(model_name, task),
            device=torch.device(device),
        )

    # -- settings ---------------------------------------------------------------------------

    def with_settings(self, **overrides: Any) -> LoadedModel:
        """A view of this model (sharing its weights) with some inference settings changed."""
        clone = LoadedModel(
            self.model,
            model_name=self.model_name,
            task=self.task,
            labels=self.labels,
            settings=merge_settings(self.settings, overrides, self.task),
            model_cfg=self.model_cfg,
            device=self.device,
            model_dir=self.model_dir,
        )
        return clone

    # -- preprocessing ----------------------------------------------------------------------

    @property
    def data_config(self) -> Any:
        """The classifier's preprocessing (:class:`~automl_nb.data.DataConfig`) at the
        settings' ``valid_resize_size`` / ``valid_crop_size``."""
        from automl_nb.data._data_config import resolve_data_config

        return resolve_data_config(
            self.model_cfg,
            validation_resize_size=int(self.settings["valid_resize_size"]),
            validation_crop_size=int(self.settings["valid_crop_size"]),
        )

    def _classification_transform(self) -> Any:
        from automl_nb.data._transforms import data_config_transform

        key = (self.settings["valid_resize_size"], self.settings["valid_crop_size"])
        if self._transform is None or self._transform_key != key:
            # The validation pipeline of training, so predictions match the evaluated model.
            self._transform = data_config_transform(self.data_config, train=False)
            self._transform_key = key
        return self._transform

    def preprocess(self, image: Any) -> Any:
        """The model input tensor for one image (any form :func:`predict` accepts).

        Classification: resized to ``valid_resize_size``, centre-cropped to
        ``valid_crop_size`` and normalised with the model's mean/std, ``[3, crop, crop]``.
        Detection: the 0-1 RGB tensor ``[3, H, W]``; the detector resizes (``min_size``,
        ``max_size``) and normalises inside.
        """
        from torchvision.transforms.functional import pil_to_tensor

        pil = load_image(image)
        if self.task.is_classification:
            return self._classification_transform()(pil)
        return pil_to_tensor(pil).float().div_(255.0)

    # -- prediction -------------------------------------------------------------------------

    def predict(
        self, images: Any, *, batch_size: int | None = None, **overrides: Any
    ) -> list[dict[str, Any]]:
        """Predict in the Azure scoring output schema, one dict per image.

        Args:
            images: One image or a sequence of them: paths or URLs, PIL images, numpy arrays,
                encoded bytes or base64 strings.
            batch_size: Images per forward pass (default 16 for classification, 1 for
                detection).
            **overrides: Inference settings for this call only (v1 or v2 names, e.g.
                ``box_score_thresh=0.5``).

        Returns:
            Classification: ``{"probs": [...], "labels": [...]}``. Detection:
            ``{"boxes": [{"box": {"topX", "topY", "bottomX", "bottomY"}, "label",
            "score"}]}`` with coordinates normalised to the original image; instance
            segmentation adds ``"polygon": [[x1, y1, ...], ...]`` to each box.
        """
        if overrides:
            return self.with_settings(**overrides).predict(images, batch_size=batch_size)
        items = as_image_list(images)
        pils = [load_image(item, where=f"images[{i}]") for i, item in enumerate(items)]
        size = batch_size or _DEFAULT_BATCH[self.task.is_classification]
        out: list[dict[str, Any]] = []
        for start in range(0, len(pils), max(int(size), 1)):
            chunk = pils[start : start + size]
            if self.task.is_classification:
                out.extend(self._predict_classification(chunk))
            else:
                out.extend(self._predict_detection(chunk))
        return out

    def _predict_classification(self, pils: list[Any]) -> list[dict[str, Any]]:
        import torch

        transform = self._classification_transform()
        batch = torch.stack([transform(p) for p in pils]).to(self.device)
        with torch.inference_mode():
            logits = self.model(batch).float()
        if self.task is Task.CLASSIFICATION_MULTILABEL:
            probs = torch.sigmoid(logits)
        else:
            probs = torch.softmax(logits, dim=1)
        return [{"probs": row, "labels": list(self.labels)} for row in probs.cpu().tolist()]

    def _detect(self, tensors: list[Any]) -> list[dict[str, Any]]:
        import torch

        with torch.inference_mode():
            outputs = self.model([t.to(self.device) for t in tensors])
        return [{k: v.detach().cpu() for k, v in o.items()} for o in outputs]

    def _predict_detection(self, pils: list[Any]) -> list[dict[str, Any]]:
        from torchvision.transforms.functional import pil_to_tensor

        apply_detector_settings(self.model, self.settings)
        tensors = [pil_to_tensor(p).float().div_(255.0) for p in pils]
        grid = parse_tile_grid_size(self.settings.get("tile_grid_size"))
        if grid is None:
            raw = self._detect(tensors)
            parts = [[(r, (0.0, 0.0))] for r in raw]
        else:
            parts = [self._detect_tiled(t, grid) for t in tensors]
        return [self._format_detection(p, pil.width, pil.height) for p, pil in zip(parts, pils)]

    def _detect_tiled(self, tensor: Any, grid: tuple[int, int]) -> list[tuple[dict, tuple]]:
        from automl_nb.data._tiling import compute_tiles

        height, width = tensor.shape[-2:]
        tiles = compute_tiles(width, height, grid, float(self.settings["tile_overlap_ratio"]))
        crops, offsets = [tensor], [(0.0, 0.0)]
        for x0, y0, x1, y1 in tiles:
            ix0, iy0, ix1, iy1 = int(x0), int(y0), int(round(x1)), int(round(y1))
            crops.append(tensor[:, iy0:iy1, ix0:ix1])
            offsets.append((float(ix0), float(iy0)))
        raw = self._detect(crops)
        return list(zip(raw, offsets))

    def _format_detection(
        self, parts: list[tuple[dict, tuple[float, float]]], width: int, height: int
    ) -> dict[str, Any]:
        import torch
        from torchvision.ops import batched_nms

        boxes: list[Any] = []
        scores: list[Any] = []
        label_ids: list[Any] = []
        sources: list[Any] = []
        for part_index, (raw, (dx, dy)) in enumerate(parts):
            n = len(raw["scores"])
            if n == 0:
                continue
            boxes.append(raw["boxes"].float() + torch.tensor([dx, dy, dx, dy]))
            scores.append(raw["scores"].float())
            label_ids.append(raw["labels"].long())
            sources.extend((part_index, i) for i in range(n))
        if not boxes:
            return {"boxes": []}
        all_boxes, all_scores, all_labels = (
            torch.cat(boxes),
            torch.cat(scores),
            torch.cat(label_ids),
        )
        valid = (all_scores >= float(self.settings["box_score_thresh"])) & (all_labels >= 1)
        valid &= all_labels <= len(self.labels)
        index = torch.nonzero(valid).flatten()
        # Tiles overlap each other and the whole image: merge duplicates with the tile NMS,
        # then apply the usual NMS and the per-image cap (the detector did both per part).
        iou = float(self.settings["nms_iou_thresh"])
        if len(parts) > 1:
            iou = float(self.settings["tile_predictions_nms_thresh"])
        keep = batched_nms(all_boxes[index], all_scores[index], all_labels[index], iou)
        index = index[keep][: int(self.settings["box_detections_per_img"])]

        entries = []
        for i in index.tolist():
            x0, y0, x1, y1 = all_boxes[i].tolist()
            entry: dict[str, Any] = {
                "box": {
                    "topX": min(max(x0 / width, 0.0), 1.0),
                    "topY": min(max(y0 / height, 0.0), 1.0),
                    "bottomX": min(max(x1 / width, 0.0), 1.0),
                    "bottomY": min(max(y1 / height, 0.0), 1.0),
                },
                "label": self.labels[int(all_labels[i]) - 1],
                "score": float(all_scores[i]),
            }
            if self.task is Task.INSTANCE_SEGMENTATION:
                part_index, j = sources[i]
                raw, offset = parts[part_index]
                masks = raw.get("masks")
                mask = masks[j, 0].numpy() if masks is not None else None
                entry["polygon"] = self._polygons(mask, width, height, offset)
                if self.settings.get("export_as_image") and mask is not None:
                    entry["mask"] = self._mask_image(mask, width, height, offset)
            entries.append(entry)
        return {"boxes": entries}

    def _polygons(
        self, mask: Any, width: int, height: int, offset: tuple[float, float]
    ) -> list[list[float]]:
        if mask is None:
            return []
        pixel_polygons = mask_to_polygons(
            mask,
            threshold=float(self.settings["mask_pixel_score_threshold"]),
            max_points=int(self.settings["max_number_of_polygon_points"]),
        )
        return normalise_polygons(pixel_polygons, width, height, offset=offset)

    def _mask_image(self, mask: Any, width: int, height: int, offset: tuple[float, float]) -> str:
        import numpy as np
        from PIL import Image

        canvas = np.zeros((height, width), dtype=np.uint8)
        dx, dy = int(offset[0]), int(offset[1])
        binary = (mask > float(self.settings["mask_pixel_score_threshold"])).astype(np.uint8)
        h, w = binary.shape
        canvas[dy : dy + h, dx : dx + w] = binary[: height - dy, : width - dx] * 255
        fmt = {"jpg": "JPEG", "png": "PNG", "bmp": "BMP"}[self.settings.get("image_type", "jpg")]
        buffer = io.BytesIO()
        Image.fromarray(canvas, mode="L").save(buffer, format=fmt)
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    # -- display ----------------------------------------------------------------------------

    def _summary(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.settings.items() if k not in ("model_name", "task")}
        return {
            "model_name": self.model_name,
            "task": self.task.value,
            "labels": self.labels,
            "settings": shown,
            "device": str(self.device),
            "model_dir": str(self.model_dir) if self.model_dir else None,
        }

    def __repr__(self) -> str:
        labels = ", ".join(self.labels[:6]) + (", ..." if len(self.labels) > 6 else "")
        where = f", model_dir={str(self.model_dir)!r}" if self.model_dir else ""
        return (
            f"LoadedModel({self.model_name!r}, task={self.task.value!r}, "
            f"labels=[{labels}] ({len(self.labels)}), device={str(self.device)!r}{where})"
        )

    def _repr_html_(self) -> str:
        info = self._summary()
        rows = "".join(
            f"<tr><td style='text-align:left'>{html.escape(str(k))}</td>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in info["settings"].items()
        )
        labels = html.escape(", ".join(self.labels))
        where = html.escape(info["model_dir"] or "in memory")
        return (
            f"<div><b>{html.escape(self.model_name)}</b> · {html.escape(self.task.value)} · "
            f"{len(self.labels)} labels · {html.escape(info['device'])}<br>"
            f"<small>{where}</small><br><small>labels: {labels}</small>"
            f"<table><tr><th>setting</th><th>value</th></tr>{rows}</table></div>"
        )


def load_model(
    model_dir: str | os.PathLike[str], *, device: Any = None, **setting_overrides: Any
) -> LoadedModel:
    """Load a model folder written by training (or :func:`save_model_dir`).

    Only the model registry is used: the architecture is rebuilt with
    ``create_model(..., pretrained=False)`` and the saved weights are loaded into it.

    Args:
        model_dir: The model folder (``.../trials/0/model`` or a job's ``best_model``); a
            job folder or a trial folder stands for the model folder inside it.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... (default: CUDA when available).
        **setting_overrides: Inference settings that replace those of ``settings.json``
            (v1 or v2 names: ``box_score_thresh=0.5``, ``validation_crop_size=256``).

    Returns:
        The model, in eval mode, on ``device``.

    Raises:
        ModelError: The folder is not a model folder, or its weights do not fit the model.
        ConfigError: An override is unknown or has a bad value.

    Example:
        >>> model = load_model("automl_runs/fridge/job-1/best_model")  # doctest: +SKIP
        >>> model.predict(["fridge/1.jpg"])  # doctest: +SKIP
        [{'probs': [...], 'labels': ['can', 'carton', 'milk_bottle', 'water_bottle']}]
    """

    from automl_nb.models import create_model
    from automl_nb.models import get_model_cfg

    folder = Path(model_dir)
    if not folder.is_dir():
        raise ModelError(f"model folder {str(folder)!r} does not exist")
    # A job folder (best_model/) or a trial folder (model/) names its model folder too.
    for inner in ("best_model", "model"):
        if not (folder / "model.pt").is_file() and (folder / inner / "model.pt").is_file():
            folder = folder / inner
    payload, settings, labels = read_model_folder(folder)
    model_name, task, num_classes = payload["model_name"], payload["task"], payload["num_classes"]
    # Settings written by other tools may miss some keys: complete them with the defaults.
    base = default_inference_settings(task, model_name)
    saved = {k: v for k, v in settings.items() if k in base and k not in ("model_name", "task")}
    resolved = merge_settings(merge_settings(base, saved, task), setting_overrides, task)

    cfg = get_model_cfg(model_name, task)
    kwargs = dict(payload.get("model_kwargs") or {})
    if task.is_classification and cfg.fixed_input_size and "img_size" not in kwargs:
        crop = int(resolved["valid_crop_size"])
        if cfg.input_size is None or crop != cfg.input_size[-1]:
            kwargs["img_size"] = crop
    if task.is_detection:
        for key in ("min_size", "max_size", "box_score_thresh", "nms_iou_thresh"):
            if key in resolved:
                kwargs.setdefault(key, resolved[key])
        kwargs.setdefault("box_detections_per_img", resolved.get("box_detections_per_img"))
    try:
        model = create_model(
            model_name, task=task, num_classes=num_classes, pretrained=False, **kwargs
        )
        restore_frozen_batchnorm(model, payload["state_dict"], payload.get("frozen_batchnorm"))
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, TypeError, ValueError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise ModelError(
            f"{folder / MODEL_FILE}: the saved weights do not fit {model_name!r}: {first}"
        ) from None
    device = resolve_device(device)
    model.to(device)
    return LoadedModel(
        model,
        model_name=model_name,
        task=task,
        labels=labels,
        settings=resolved,
        model_cfg=cfg,
        device=device,
        model_dir=folder,
    )


def predict(
    model_or_dir: LoadedModel | str | os.PathLike[str],
    images: Any,
    *,
    batch_size: int | None = None,
    device: Any = None,
    **setting_overrides: Any,
) -> list[dict[str, Any]]:
    """Predict with a loaded model or a model folder, in the Azure scoring output schema.

    Args:
        model_or_dir: A :class:`LoadedModel` or a model folder path.
        images: One image or a sequence (paths, URLs, PIL images, arrays, bytes, base64).
        batch_size: Images per forward pass.
        device: Device for a model loaded from a folder.
        **setting_overrides: Inference settings for this call (v1 or v2 names).

    Returns:
        One prediction dict per image (see :meth:`LoadedModel.predict`).
    """
    if isinstance(model_or_dir, LoadedModel):
        model = model_or_dir
    else:
        model = load_model(model_or_dir, device=device)
    return model.predict(images, batch_size=batch_size, **setting_overrides)
