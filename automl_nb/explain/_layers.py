"""Grad-CAM layer choice, and the token-to-grid view that lets Grad-CAM run on a ViT."""

from __future__ import annotations

import contextlib
import math
import re
import weakref
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from automl_nb.errors import ModelError

_PART = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")

# model -> {(requested path, input shape): (resolved path, output ndim)}. Finding the layer and
# its output rank takes a forward pass; caching it keeps repeated explanations at captum's cost.
_PROBES: weakref.WeakKeyDictionary[nn.Module, dict[tuple[Any, ...], tuple[str, int]]] = (
    weakref.WeakKeyDictionary()
)


def resolve_module(model: nn.Module, path: str) -> nn.Module:
    """The sub-module at a dotted ``path``: ``layer4.-1``, ``blocks[-1].norm1``, ``stages.3``."""
    module: Any = model
    for name, index in _PART.findall(path):
        key = name or index
        try:
            if re.fullmatch(r"-?\d+", key):
                module = module[int(key)]
            else:
                module = getattr(module, key)
        except (AttributeError, IndexError, TypeError, KeyError):
            raise ModelError(
                f"Grad-CAM layer {path!r} does not exist in {type(model).__name__} "
                f"(no {key!r} under it)"
            ) from None
    if not isinstance(module, nn.Module):
        raise ModelError(f"Grad-CAM layer {path!r} is not a module")
    return module


def _parent_and_name(model: nn.Module, target: nn.Module) -> tuple[nn.Module, str]:
    for parent in model.modules():
        for name, child in parent.named_children():
            if child is target:
                return parent, name
    raise ModelError("the Grad-CAM layer is not part of the model")


def default_gradcam_layer(model: nn.Module, inputs: torch.Tensor) -> str:
    """A Grad-CAM layer for a model the registry has no entry for.

    Vision transformers (a ``blocks`` list and ``num_prefix_tokens``, as in timm) use the last
    block's first norm: the final norm only passes gradient to the class token, so a CAM there
    is empty. Other models use the last module (in execution order) that outputs a spatial map
    ``[N, C, H, W]`` with ``H, W > 1``: the last stage of a CNN.
    """
    if hasattr(model, "blocks") and hasattr(model, "num_prefix_tokens"):
        return "blocks.-1.norm1"
    names = {module: name for name, module in model.named_modules() if name}
    last: list[str] = []

    def hook(module: nn.Module, _inp: Any, out: Any) -> None:
        if isinstance(out, torch.Tensor) and out.dim() == 4 and min(out.shape[2:]) > 1:
            last.append(names[module])

    handles = [m.register_forward_hook(hook) for m in names]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for handle in handles:
            handle.remove()
    if not last:
        raise ModelError(
            f"no layer of {type(model).__name__} outputs a spatial feature map; "
            "pass gradcam_layer= explicitly"
        )
    return last[-1]


class _GridTarget(nn.Module):
    """The module Grad-CAM hooks: the patch tokens as a ``[N, C, h, w]`` map (identity)."""

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return grid


class _TokenGridView(nn.Module):
    """Runs ``inner`` and routes its patch tokens through a grid-shaped identity module."""

    def __init__(self, inner: nn.Module, num_prefix_tokens: int) -> None:
        super().__init__()
        self.inner = inner
        self.num_prefix_tokens = num_prefix_tokens
        self.grid = _GridTarget()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        tokens = self.inner(*args, **kwargs)
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 3:
            return tokens
        prefix = tokens[:, : self.num_prefix_tokens]
        patches = tokens[:, self.num_prefix_tokens :]
        n, count, channels = patches.shape
        side = math.isqrt(count)
        if side * side != count:
            raise ModelError(
                f"cannot lay {count} patch tokens on a square grid "
                f"({self.num_prefix_tokens} prefix tokens assumed)"
            )
        grid = patches.transpose(1, 2).reshape(n, channels, side, side)
        grid = self.grid(grid)
        patches = grid.flatten(2).transpose(1, 2)
        return torch.cat([prefix, patches], dim=1)


def _prefix_tokens(model: nn.Module, count: int | None) -> int:
    if count is not None:
        return int(count)
    return int(getattr(model, "num_prefix_tokens", 1 if hasattr(model, "cls_token") else 0))


def _probe(model: nn.Module, path: str | None, inputs: torch.Tensor) -> tuple[str, int]:
    path = path or default_gradcam_layer(model, inputs)
    layer = resolve_module(model, path)
    shapes: list[int] = []
    probe = layer.register_forward_hook(
        lambda _m, _i, out: shapes.append(out.dim() if isinstance(out, torch.Tensor) else 0)
    )
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        probe.remove()
    if not shapes or shapes[-1] not in (3, 4):
        raise ModelError(f"Grad-CAM layer {path!r} must output [N, C, H, W] or [N, T, C] tensors")
    return path, shapes[-1]


@contextlib.contextmanager
def gradcam_target(
    model: nn.Module,
    path: str | None,
    inputs: torch.Tensor,
    *,
    num_prefix_tokens: int | None = None,
) -> Iterator[nn.Module]:
    """Yield the module Grad-CAM should hook, with ``[N, C, h, w]`` output.

    For a CNN layer that is the layer itself. For a transformer layer whose output is tokens
    ``[N, T, C]``, the layer is swapped in place for a view that splits off the prefix
    (class/register) tokens, reshapes the patch tokens to their ``h x w`` grid, passes them
    through an identity module (yielded, so Grad-CAM hooks it) and back; the model computes
    exactly what it did, and the original layer is restored on exit.
    """
    key = (path, tuple(inputs.shape[1:]))
    cache = _PROBES.setdefault(model, {})
    if key not in cache:
        cache[key] = _probe(model, path, inputs)
    path, ndim = cache[key]
    layer = resolve_module(model, path)
    if ndim == 4:
        yield layer
        return
    parent, name = _parent_and_name(model, layer)
    view = _TokenGridView(layer, _prefix_tokens(model, num_prefix_tokens))
    setattr(parent, name, view)
    try:
        yield view.grid
    finally:
        setattr(parent, name, layer)
