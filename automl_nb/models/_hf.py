"""Hugging Face ``transformers`` image classifiers as ``model_name`` (optional extra ``hf``).

Any image-classification model of the Hugging Face Hub works by its id
(``google/vit-base-patch16-224``, ``microsoft/beit-base-patch16-224-pt22k-ft22k``, as in Azure's
notebooks), by a local folder written with ``save_pretrained``, or with the ``hf:`` prefix
(``hf:google/vit-base-patch16-224``, ``hf:./my-model``). The cfg reads input size and
normalisation from the model's image processor config (``preprocessor_config.json``) and its
layer map and Grad-CAM layer from the architecture, built on the ``meta`` device; the model is
``AutoModelForImageClassification`` with a new head of ``num_classes`` outputs, wrapped so that
``model(images)`` returns the logits ``[N, num_classes]`` like every other classifier.

Nothing here imports ``transformers`` (or torch) until a Hugging Face name is resolved.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.models._cfg import CLASSIFICATION_TASKS
from automl_nb.models._cfg import ModelCfg
from automl_nb.models._cfg import classification_defaults
from automl_nb.models._registry import NameResolver
from automl_nb.models._registry import add_name_resolver
from automl_nb.models._weights import hf_cache_dir
from automl_nb.models._weights import host_reachable
from automl_nb.models._weights import hub_host
from automl_nb.models._weights import is_offline
from automl_nb.tasks import Task

FAMILY = "hf"
PREFIX = "hf:"
INSTALL_HINT = "pip install automl-nb[hf]"

# A Hub repository id: ``owner/name``.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")
# PIL resample codes in ``preprocessor_config.json`` -> torchvision interpolation names.
_RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
# transformers' default image processor statistics (IMAGENET_STANDARD_MEAN / _STD).
_DEFAULT_MEAN = (0.5, 0.5, 0.5)
_DEFAULT_STD = (0.5, 0.5, 0.5)


def _strip(name: str) -> str:
    name = str(name).strip()
    return name[len(PREFIX) :].strip() if name.startswith(PREFIX) else name


def _local_folder(name: str) -> Path | None:
    path = Path(_strip(name)).expanduser()
    return path.resolve() if (path / "config.json").is_file() else None


def is_hf_name(name: str) -> bool:
    """True for ``hf:`` names, folders holding a ``config.json`` and Hub ids (``owner/name``)."""
    name = str(name).strip()
    if name.startswith(PREFIX):
        return True
    return _local_folder(name) is not None or bool(_HUB_ID.fullmatch(name))


def _transformers() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise ModelError(
            "Hugging Face models need the optional `transformers` package; install it with "
            f"`{INSTALL_HINT}`"
        ) from exc
    return transformers


def _source(name: str) -> tuple[str, bool]:
    """(what ``from_pretrained`` loads, whether it is a local folder)."""
    folder = _local_folder(name)
    return (str(folder), True) if folder is not None else (_strip(name), False)


def _local_only() -> bool:
    """No download is tried offline, or when the Hub cannot be reached (fails in seconds)."""
    return is_offline() or not host_reachable(hub_host())


def _why_offline() -> str:
    return "HF_HUB_OFFLINE is set" if is_offline() else f"{hub_host()} cannot be reached"


def _config_unavailable(name: str, repo: str, cause: BaseException) -> ModelError:
    text = str(cause).strip().splitlines()[0][:160] if str(cause).strip() else type(cause).__name__
    local = Path(_strip(name)).expanduser()
    folder_note = "" if local.exists() else f" There is no local folder {str(local)!r} either."
    return ModelError(
        f"the Hugging Face model {name!r} cannot be had: its config.json is not in the "
        f"Hugging Face cache ({hf_cache_dir(repo)}) and cannot be downloaded "
        f"({_why_offline() if _local_only() else text})."
        f"{folder_note} To go on, on a machine with internet access save it with "
        f"`AutoModelForImageClassification.from_pretrained({repo!r}).save_pretrained(FOLDER)` "
        "(and the image processor likewise) and give that folder as model_name, or copy the "
        "Hub cache over. With only its config.json in the cache or the folder, "
        "training_parameters.advanced_settings: '{\"use_pretrained\": false}' builds the "
        "architecture from the config and trains it from scratch."
    )


def _load_config(name: str) -> tuple[Any, str, bool]:
    transformers = _transformers()
    source, local = _source(name)
    try:
        config = transformers.AutoConfig.from_pretrained(
            source, local_files_only=local or _local_only()
        )
    except (OSError, ValueError) as exc:
        if local:
            raise ModelError(f"{source}: not a Hugging Face model folder: {exc}") from exc
        raise _config_unavailable(name, source, exc) from exc
    return config, source, local


def _processor_config(source: str, local: bool) -> dict[str, Any]:
    """``preprocessor_config.json`` as a dict, or ``{}`` when the model has none."""
    if local:
        path: Path | None = Path(source) / "preprocessor_config.json"
    else:
        from transformers.utils import cached_file

        try:
            found = cached_file(
                source,
                "preprocessor_config.json",
                local_files_only=_local_only(),
                _raise_exceptions_for_missing_entries=False,
                _raise_exceptions_for_connection_errors=False,
            )
        except OSError:
            found = None
        path = Path(found) if found else None
    if path is None or not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable image processor config: {exc}") from exc


def _side(value: Any) -> int | None:
    """One side of a processor ``size`` / ``crop_size`` (int, or height/width/shortest_edge)."""
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, dict):
        for key in ("height", "shortest_edge", "width"):
            if value.get(key):
                return int(value[key])
    return None


def _sizes(config: Any, proc: dict[str, Any]) -> tuple[int, int]:
    """(crop, resize) of the processor recipe; config ``image_size`` when there is none."""
    size = _side(proc.get("size"))
    crop = _side(proc.get("crop_size")) if proc.get("do_center_crop") else None
    image_size = getattr(config, "image_size", None)
    if isinstance(image_size, (list, tuple)):
        image_size = image_size[0]
    if crop is None:
        crop = size or int(image_size or 224)
    return crop, max(crop, size or crop)


# Inspections by (config JSON, input side): building even on ``meta`` takes a moment.
_INSPECTED: dict[tuple[str, int], dict[str, Any]] = {}


def _inspect(config: Any, side: int) -> dict[str, Any]:
    """Layer map, Grad-CAM layer and token layout, read from the model built on ``meta``."""
    key = (config.to_json_string(use_diff=False), side)
    if key not in _INSPECTED:
        _INSPECTED[key] = _inspect_uncached(config, side)
    return _INSPECTED[key]


def _inspect_uncached(config: Any, side: int) -> dict[str, Any]:
    import torch
    import transformers

    with torch.device("meta"):
        model = transformers.AutoModelForImageClassification.from_config(config)
    info: dict[str, Any] = {"groups": (), "gradcam": None, "tokens": False, "prefix": 0}
    base = getattr(model, "base_model_prefix", "") or ""
    lists = [
        (n, m)
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.ModuleList) and len(m) >= 2 and n.startswith(base)
    ]
    if not lists:
        return info
    blocks_name, blocks = min(lists, key=lambda item: item[0].count("."))
    embeds = [
        f"model.{base}.{n}." for n, _ in getattr(model, base).named_children() if "embed" in n
    ]
    groups = [tuple(embeds)] if embeds else []
    groups += [(f"model.{blocks_name}.{i}.",) for i in range(len(blocks))]
    info["groups"] = tuple(groups)
    last = f"model.{blocks_name}.{len(blocks) - 1}"
    try:
        channels = int(getattr(config, "num_channels", 3) or 3)
        pixels = torch.empty(1, channels, side, side, device="meta")
        hidden = model(pixel_values=pixels, output_hidden_states=True).hidden_states[-1]
    except Exception:  # noqa: BLE001 - some models can't run on meta; Grad-CAM is then off
        return info
    if hidden.dim() == 3:  # transformer tokens [N, T, D]
        norms = [n for n, m in blocks[-1].named_modules() if isinstance(m, torch.nn.LayerNorm)]
        patch = getattr(config, "patch_size", None)
        patches = (side // int(patch)) ** 2 if isinstance(patch, int) and patch else None
        info["tokens"] = True
        info["prefix"] = max(0, int(hidden.shape[1]) - patches) if patches else 0
        info["gradcam"] = f"{last}.{norms[0]}" if norms else last
    elif hidden.dim() == 4:
        info["gradcam"] = last
    return info


def hf_cfg(name: str, task: Task) -> ModelCfg:
    """The :class:`ModelCfg` of a Hugging Face image classifier.

    Raises:
        ModelError: ``transformers`` is missing (naming ``pip install automl-nb[hf]``), the
            task is not classification, or the config cannot be had (offline, not cached).
    """
    name = str(name).strip()
    if not task.is_classification:
        raise ModelError(
            f"model_name {name!r} is a Hugging Face image classifier; {task.value} needs one "
            "of the detection models (`automl-vision models --task "
            f"{task.value}`)"
        )
    config, source, local = _load_config(name)
    proc = _processor_config(source, local)
    crop, resize = _sizes(config, proc)
    info = _inspect(config, crop)
    # ViT-like models (patch tokens, no stages) only take their trained size.
    fixed = bool(info["tokens"]) and not hasattr(config, "depths")
    defaults = classification_defaults(
        "vitb16r224" if fixed else name, task, crop_size=crop, resize_size=resize
    )
    channels = int(getattr(config, "num_channels", 3) or 3)
    resample = proc.get("resample")
    return ModelCfg(
        name=name,
        task=task,
        tasks=CLASSIFICATION_TASKS,
        family=FAMILY,
        arch=source,
        input_size=(channels, crop, crop),
        mean=tuple(float(v) for v in proc.get("image_mean") or _DEFAULT_MEAN),
        std=tuple(float(v) for v in proc.get("image_std") or _DEFAULT_STD),
        interpolation=_RESAMPLE.get(resample, "bilinear")
        if isinstance(resample, int)
        else ("bilinear"),
        crop_pct=round(crop / resize, 4) if resize else None,
        fixed_input_size=fixed,
        defaults=defaults,
        layer_groups=info["groups"],
        gradcam_layer=info["gradcam"],
        vit_tokens=bool(info["tokens"]),
        num_prefix_tokens=int(info["prefix"]),
        weights=source,
        weights_source=source if local else f"hf-hub:{source}",
        description=f"Hugging Face {config.model_type} ({source})",
    )


def _wrapper_class() -> type:
    import torch

    class HFImageClassifier(torch.nn.Module):
        """A ``transformers`` image classifier whose forward returns plain logits."""

        def __init__(self, model: Any, *, interpolate_pos_encoding: bool = False):
            super().__init__()
            self.model = model
            self.interpolate_pos_encoding = interpolate_pos_encoding

        def forward(self, images: Any) -> Any:
            """Logits ``[N, num_classes]`` for images ``[N, C, H, W]``."""
            if self.interpolate_pos_encoding:
                out = self.model(pixel_values=images, interpolate_pos_encoding=True)
            else:
                out = self.model(pixel_values=images)
            return out.logits

    return HFImageClassifier


def _weights_unavailable(cfg: ModelCfg, cause: BaseException) -> ModelError:
    text = str(cause).strip().splitlines()[0][:160] if str(cause).strip() else type(cause).__name__
    return ModelError(
        f"the pretrained weights of the Hugging Face model {cfg.name!r} cannot be had "
        f"({_why_offline() if _local_only() else text}); they would be cached in "
        f"{hf_cache_dir(cfg.arch)}. To go on, either train from scratch with "
        "training_parameters.advanced_settings: '{\"use_pretrained\": false}' (the "
        "architecture is built from its config), give a folder saved with save_pretrained "
        "as model_name, or copy the weights into that cache from a machine with internet "
        "access."
    )


def build_hf_model(
    cfg: ModelCfg,
    *,
    num_classes: int,
    pretrained: bool,
    checkpoint_path: str | None = None,
    img_size: int | None = None,
    **kwargs: Any,
) -> Any:
    """Build a Hugging Face classifier with a ``num_classes`` head, wrapped to return logits.

    Args:
        cfg: Its cfg (``cfg.arch`` is the Hub id or the folder).
        num_classes: Outputs of the new head (a mismatched saved head is re-initialised).
        pretrained: Load the weights (Hub cache, downloaded when online); False builds the
            architecture from its config with random weights.
        checkpoint_path: A folder saved with ``save_pretrained`` to load instead.
        img_size: Training crop other than the model's own size: ViT-like models then
            interpolate their position embeddings.
        **kwargs: Passed to ``from_pretrained`` / ``from_config``.
    """
    transformers = _transformers()
    labels = {i: f"LABEL_{i}" for i in range(num_classes)}
    # id2label sets num_labels; ignore_mismatched_sizes re-initialises a saved head.
    heads = {
        "id2label": labels,
        "label2id": {v: k for k, v in labels.items()},
    }
    auto = transformers.AutoModelForImageClassification
    source = cfg.arch
    if checkpoint_path is not None:
        if not (Path(checkpoint_path).expanduser() / "config.json").is_file():
            raise ModelError(
                f"checkpoint_path {checkpoint_path!r} is not a folder saved with save_pretrained"
            )
        source, pretrained = str(Path(checkpoint_path).expanduser()), True
    local = Path(source).is_dir()
    if pretrained:
        try:
            model = auto.from_pretrained(
                source,
                ignore_mismatched_sizes=True,
                local_files_only=local or _local_only(),
                **heads,
                **kwargs,
            )
        except OSError as exc:
            raise _weights_unavailable(cfg, exc) from exc
    else:
        config = transformers.AutoConfig.from_pretrained(
            source, local_files_only=local or _local_only(), **heads
        )
        model = auto.from_config(config, **kwargs)
    interpolate = False
    if img_size is not None and cfg.input_size is not None and img_size != cfg.input_size[-1]:
        if "interpolate_pos_encoding" not in inspect.signature(model.forward).parameters:
            raise ModelError(
                f"model {cfg.name!r} only takes {cfg.input_size[-1]} px input; set "
                f"training_crop_size and validation_crop_size to {cfg.input_size[-1]}"
            )
        interpolate = True
    return _wrapper_class()(model, interpolate_pos_encoding=interpolate)


add_name_resolver(NameResolver(family=FAMILY, claims=is_hf_name, cfg=hf_cfg, build=build_hf_model))
