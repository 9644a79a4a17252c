"""Classifiers from timm: Azure's curated classification names and any other timm model.

Every entry pins arguments of :func:`_timm_cfg`; :func:`build_timm_model` builds them all.
Input size, mean/std, interpolation and crop fraction are read from timm's ``pretrained_cfg``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.models._cfg import CLASSIFICATION_TASKS
from automl_nb.models._cfg import ModelCfg
from automl_nb.models._cfg import classification_defaults
from automl_nb.models._registry import register_model
from automl_nb.models._weights import hf_cache_dir
from automl_nb.models._weights import host_reachable
from automl_nb.models._weights import hub_host
from automl_nb.models._weights import hub_offline
from automl_nb.models._weights import is_offline
from automl_nb.models._weights import torch_hub_file
from automl_nb.models._weights import url_host
from automl_nb.models._weights import weights_unavailable
from automl_nb.tasks import Task

# layers_to_freeze maps (reference "Layer maps"), written with timm's module names.
RESNET_GROUPS: tuple[tuple[str, ...], ...] = (
    ("conv1.", "bn1."),
    ("layer1.",),
    ("layer2.",),
    ("layer3.",),
    ("layer4.",),
)
# Azure's seresnext map is layer0..layer4 (the pretrainedmodels names); timm's stem is
# conv1/bn1, so the map is the ResNet one.
SERESNEXT_GROUPS = RESNET_GROUPS

# timm's mobilenetv2_100 blocks per stage; torchvision's features.1..17 are these 17 blocks.
_MOBILENETV2_STAGES = (1, 2, 3, 4, 3, 3, 1)


def _mobilenetv2_groups() -> tuple[tuple[str, ...], ...]:
    """Azure's ``features.0.``..``features.18.`` map in timm's names.

    ``features.0`` is the stem (``conv_stem``/``bn1``), ``features.1..17`` are the inverted
    residual blocks ``blocks.<stage>.<i>``, ``features.18`` is the 1x1 head conv
    (``conv_head``/``bn2``).
    """
    groups: list[tuple[str, ...]] = [("conv_stem.", "bn1.")]
    for stage, depth in enumerate(_MOBILENETV2_STAGES):
        groups += [(f"blocks.{stage}.{i}.",) for i in range(depth)]
    groups.append(("conv_head.", "bn2."))
    return tuple(groups)


def _vit_groups(depth: int) -> tuple[tuple[str, ...], ...]:
    """Azure's ViT map ``patch_embed``, ``blocks.0.``..; the first entry also holds the
    class token and position embedding, which belong to the patch embedding stage."""
    first = ("patch_embed.", "cls_token", "reg_token", "pos_embed")
    return (first, *((f"blocks.{i}.",) for i in range(depth)))


def _pretrained_cfg(arch: str) -> Any:
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(arch)
    if cfg is None:  # pragma: no cover - every timm architecture has a default cfg
        raise ModelError(f"timm has no config for {arch!r}")
    return cfg


def _weights_fields(arch: str, pcfg: Any) -> tuple[str | None, str | None]:
    if not (pcfg.hf_hub_id or pcfg.url or pcfg.file):
        return None, None
    base = arch.split(".")[0]
    weights = f"{base}.{pcfg.tag}" if pcfg.tag else base
    source = f"hf-hub:{pcfg.hf_hub_id}" if pcfg.hf_hub_id else (pcfg.url or pcfg.file)
    return weights, source


def _timm_cfg(
    name: str,
    arch: str,
    task: Task,
    *,
    layer_groups: tuple[tuple[str, ...], ...],
    gradcam_layer: str | None,
    vit: bool = False,
    num_prefix_tokens: int | None = None,
    azure: bool = True,
    description: str = "",
) -> ModelCfg:
    """The shared cfg builder of every timm entry."""
    pcfg = _pretrained_cfg(arch)
    input_size = tuple(int(v) for v in pcfg.input_size)
    crop_pct = float(pcfg.crop_pct) if pcfg.crop_pct else None
    if azure:
        defaults = classification_defaults(name, task)
    else:
        # Other timm models keep their own trained resolution.
        crop = input_size[-1]
        resize = int(round(crop / crop_pct)) if crop_pct else crop
        defaults = classification_defaults(name, task, crop_size=crop, resize_size=resize)
    weights, source = _weights_fields(arch, pcfg)
    return ModelCfg(
        name=name,
        task=task,
        tasks=CLASSIFICATION_TASKS,
        family="timm",
        arch=arch,
        input_size=input_size,  # type: ignore[arg-type]
        mean=tuple(float(v) for v in pcfg.mean),
        std=tuple(float(v) for v in pcfg.std),
        interpolation=str(pcfg.interpolation or "bilinear"),
        crop_pct=crop_pct,
        fixed_input_size=bool(pcfg.fixed_input_size),
        defaults=defaults,
        layer_groups=layer_groups,
        gradcam_layer=gradcam_layer,
        vit_tokens=vit,
        num_prefix_tokens=(1 if vit else 0) if num_prefix_tokens is None else num_prefix_tokens,
        weights=weights,
        weights_source=source,
        description=description or f"timm {arch}",
    )


# --- Azure's curated classification models -------------------------------------------------


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def mobilenetv2(task: Task) -> ModelCfg:
    """MobileNetV2 1.0 (timm ``mobilenetv2_100``)."""
    return _timm_cfg(
        "mobilenetv2",
        "mobilenetv2_100",
        task,
        layer_groups=_mobilenetv2_groups(),
        gradcam_layer="bn2",
        description="MobileNetV2 1.0 (timm mobilenetv2_100), 2.2 M params",
    )


def _resnet(name: str, task: Task, params: str) -> ModelCfg:
    return _timm_cfg(
        name,
        name,
        task,
        layer_groups=RESNET_GROUPS,
        gradcam_layer="layer4",
        description=f"ResNet-{name[6:]} (timm {name}), {params} params",
    )


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnet18(task: Task) -> ModelCfg:
    """ResNet-18 (timm ``resnet18``)."""
    return _resnet("resnet18", task, "11 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnet34(task: Task) -> ModelCfg:
    """ResNet-34 (timm ``resnet34``)."""
    return _resnet("resnet34", task, "21 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnet50(task: Task) -> ModelCfg:
    """ResNet-50 (timm ``resnet50``)."""
    return _resnet("resnet50", task, "24 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnet101(task: Task) -> ModelCfg:
    """ResNet-101 (timm ``resnet101``)."""
    return _resnet("resnet101", task, "43 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnet152(task: Task) -> ModelCfg:
    """ResNet-152 (timm ``resnet152``)."""
    return _resnet("resnet152", task, "58 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnest50(task: Task) -> ModelCfg:
    """ResNeSt-50 (timm ``resnest50d``; timm has no plain ``resnest50``)."""
    return _timm_cfg(
        "resnest50",
        "resnest50d",
        task,
        layer_groups=RESNET_GROUPS,
        gradcam_layer="layer4",
        description="ResNeSt-50 (timm resnest50d), 25 M params",
    )


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def resnest101(task: Task) -> ModelCfg:
    """ResNeSt-101 (timm ``resnest101e``)."""
    return _timm_cfg(
        "resnest101",
        "resnest101e",
        task,
        layer_groups=RESNET_GROUPS,
        gradcam_layer="layer4",
        description="ResNeSt-101 (timm resnest101e), 46 M params",
    )


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def seresnext(task: Task) -> ModelCfg:
    """SE-ResNeXt-50 32x4d (timm ``seresnext50_32x4d``)."""
    return _timm_cfg(
        "seresnext",
        "seresnext50_32x4d",
        task,
        layer_groups=SERESNEXT_GROUPS,
        gradcam_layer="layer4",
        description="SE-ResNeXt-50 32x4d (timm seresnext50_32x4d), 26 M params",
    )


def _vit(name: str, arch: str, task: Task, depth: int, params: str) -> ModelCfg:
    return _timm_cfg(
        name,
        arch,
        task,
        layer_groups=_vit_groups(depth),
        gradcam_layer="blocks.-1.norm1",
        vit=True,
        description=f"ViT (timm {arch}), {params} params",
    )


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def vits16r224(task: Task) -> ModelCfg:
    """ViT-S/16 at 224 px (timm ``vit_small_patch16_224``)."""
    return _vit("vits16r224", "vit_small_patch16_224", task, 12, "22 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def vitb16r224(task: Task) -> ModelCfg:
    """ViT-B/16 at 224 px (timm ``vit_base_patch16_224``)."""
    return _vit("vitb16r224", "vit_base_patch16_224", task, 12, "86 M")


@register_model(tasks=CLASSIFICATION_TASKS, family="timm")
def vitl16r224(task: Task) -> ModelCfg:
    """ViT-L/16 at 224 px (timm ``vit_large_patch16_224``)."""
    return _vit("vitl16r224", "vit_large_patch16_224", task, 24, "303 M")


# --- any other timm model -----------------------------------------------------------------


def _prefix_groups(groups: list[list[str]], all_names: list[str]) -> tuple[tuple[str, ...], ...]:
    """Turn groups of parameter names into short name prefixes.

    Each parameter is represented by its shortest dotted prefix whose parameters all belong to
    the same group, so ``layer1.0.conv1.weight`` collapses to ``layer1.``.
    """
    owner = {n: gi for gi, names in enumerate(groups) for n in names}
    out: list[tuple[str, ...]] = []
    for gi, names in enumerate(groups):
        prefixes: list[str] = []
        for pname in names:
            if any(pname.startswith(p) or pname == p for p in prefixes):
                continue
            parts = pname.split(".")
            chosen = pname
            for k in range(1, len(parts)):
                cand = ".".join(parts[:k]) + "."
                if all(owner.get(n) == gi for n in all_names if n.startswith(cand)):
                    chosen = cand
                    break
            prefixes.append(chosen)
        out.append(tuple(prefixes))
    return tuple(out)


def generic_timm_cfg(name: str, task: Task) -> ModelCfg:
    """The cfg of a timm model that is not one of Azure's names.

    The ``layers_to_freeze`` map comes from timm's own coarse parameter grouping (stem, then
    each stage; the classifier is never frozen), and the GradCAM layer from its
    ``feature_info`` (the last feature stage), read from a model built on the ``meta`` device
    so no memory or time is spent on weights.
    """
    groups, gradcam, vit, prefix_tokens = _inspect_timm_model(name)
    return _timm_cfg(
        name,
        name,
        task,
        layer_groups=groups,
        gradcam_layer=gradcam,
        vit=vit,
        num_prefix_tokens=prefix_tokens,
        azure=False,
        description=f"timm {name}",
    )


@lru_cache(maxsize=64)
def _inspect_timm_model(name: str) -> tuple[tuple[tuple[str, ...], ...], str | None, bool, int]:
    import timm
    import torch
    from timm.models import group_parameters

    groups: tuple[tuple[str, ...], ...] = ()
    gradcam: str | None = None
    vit = False
    prefix_tokens = 0
    try:
        with torch.device("meta"):
            model: Any = timm.create_model(name, pretrained=False)
        names = [n for n, _ in model.named_parameters()]
        grouped = group_parameters(model, model.group_matcher(coarse=True))
        classifier = str(model.pretrained_cfg.get("classifier") or "")
        heads = {c.strip() for c in classifier.split(",")} if classifier else set()
        ordered = [
            v
            for _, v in sorted(grouped.items(), key=lambda kv: float(kv[0]))
            if not any(n.startswith(h + ".") for n in v for h in heads)
        ]
        groups = _prefix_groups(ordered, names)
        if hasattr(model, "blocks") and getattr(model, "num_prefix_tokens", None) is not None:
            vit = True
            prefix_tokens = int(model.num_prefix_tokens)
            gradcam = "blocks.-1.norm1"
        elif getattr(model, "feature_info", None):
            gradcam = str(model.feature_info[-1]["module"]) or None
    except Exception:  # noqa: BLE001 - some exotic models can't be built on meta; maps are optional
        pass
    return groups, gradcam, vit, prefix_tokens


# --- the shared builder -------------------------------------------------------------------


def build_timm_model(
    cfg: ModelCfg,
    *,
    num_classes: int,
    pretrained: bool,
    checkpoint_path: str | None = None,
    **kwargs: Any,
) -> Any:
    """Build any timm entry: pretrained from the caches or a local file, else from scratch."""
    import timm

    if checkpoint_path is not None:
        path = Path(checkpoint_path).expanduser()
        if not path.is_file():
            raise ModelError(f"checkpoint_path {str(path)!r} does not exist")
        overlay = dict(kwargs.pop("pretrained_cfg_overlay", None) or {}, file=str(path))
        try:
            return timm.create_model(
                cfg.arch,
                pretrained=True,
                num_classes=num_classes,
                pretrained_cfg_overlay=overlay,
                **kwargs,
            )
        except (OSError, RuntimeError, KeyError, ValueError) as exc:
            raise ModelError(
                f"could not load weights for {cfg.name!r} from {str(path)!r}: {exc}"
            ) from exc
    if not pretrained:
        return timm.create_model(cfg.arch, pretrained=False, num_classes=num_classes, **kwargs)
    overlay = kwargs.get("pretrained_cfg_overlay") or {}
    if overlay.get("file"):
        return timm.create_model(cfg.arch, pretrained=True, num_classes=num_classes, **kwargs)
    if cfg.weights is None:
        raise ModelError(
            f"timm has no pretrained weights for {cfg.name!r}; train from scratch with "
            "advanced_settings: '{\"use_pretrained\": false}' or give checkpoint_path"
        )
    pcfg = _pretrained_cfg(cfg.weights)
    reason: str | None = None
    if pcfg.hf_hub_id:
        cache: Path | str = hf_cache_dir(pcfg.hf_hub_id)
        if not is_offline() and not host_reachable(hub_host()):
            reason = f"{hub_host()} cannot be reached"
    else:
        cache = torch_hub_file(pcfg.url or "")
        if not Path(cache).is_file():
            if is_offline():
                raise weights_unavailable(cfg.name, cfg.weights, cache, "HF_HUB_OFFLINE is set")
            if not host_reachable(url_host(pcfg.url or "")):
                raise weights_unavailable(
                    cfg.name, cfg.weights, cache, f"{url_host(pcfg.url or '')} cannot be reached"
                )
    try:
        if reason is None:
            return timm.create_model(
                cfg.weights, pretrained=True, num_classes=num_classes, **kwargs
            )
        with hub_offline():  # no network: load from the cache or fail at once
            return timm.create_model(
                cfg.weights, pretrained=True, num_classes=num_classes, **kwargs
            )
    except OSError as exc:  # covers the Hub's offline/HTTP errors and urllib's URLError
        raise weights_unavailable(cfg.name, cfg.weights, cache, reason or exc) from exc
