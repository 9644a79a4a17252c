"""``layers_to_freeze``: stop training the first N entries of a model's layer map."""

from __future__ import annotations

from typing import Any

from automl_nb.errors import ModelError
from automl_nb.models._cfg import ModelCfg


def freeze_layers(model: Any, cfg: ModelCfg, n: int) -> list[str]:
    """Freeze the parameters of the first ``n`` entries of ``cfg.layer_groups``.

    Args:
        model: The model built by ``create_model`` for ``cfg``.
        cfg: Its :class:`ModelCfg` (the map lives in ``cfg.layer_groups``).
        n: How many entries to freeze, 0 to ``len(cfg.layer_groups)``.

    Returns:
        The names of the parameters that were frozen (``requires_grad`` set to False).

    Raises:
        ModelError: When ``n`` is out of range or the model has no layer map.

    Example:
        >>> cfg = get_model_cfg("resnet18", "image_classification")  # doctest: +SKIP
        >>> freeze_layers(
        ...     create_model("resnet18", task=cfg.task, num_classes=3, pretrained=False), cfg, 2
        ... )[:2]  # doctest: +SKIP
        ['conv1.weight', 'bn1.weight']
    """
    n = int(n)
    if n == 0:
        return []
    if not cfg.layer_groups:
        raise ModelError(f"model {cfg.name!r} has no layers_to_freeze map")
    if not 0 <= n <= len(cfg.layer_groups):
        raise ModelError(
            f"layers_to_freeze for {cfg.name!r} must be in 0..{len(cfg.layer_groups)} (got {n})"
        )
    prefixes = tuple(p for group in cfg.layer_groups[:n] for p in group)
    frozen = []
    for name, param in model.named_parameters():
        if name.startswith(prefixes):
            param.requires_grad_(False)
            frozen.append(name)
    return frozen


def resolve_layer(model: Any, path: str) -> Any:
    """The submodule at a dotted ``path`` such as ``cfg.gradcam_layer``.

    Parts are attribute names or integer indices into sequential containers; negative
    indices count from the end (``blocks.-1.norm1`` is the last ViT block's first norm).

    Raises:
        ModelError: When a part does not exist.
    """
    module = model
    for part in path.split("."):
        try:
            if part.lstrip("-").isdigit():
                module = list(module.children())[int(part)]
            else:
                module = getattr(module, part)
        except (AttributeError, IndexError) as exc:
            raise ModelError(f"model has no layer {path!r} (failed at {part!r})") from exc
    return module
