"""Guided backpropagation (captum), extended to GELU activations."""

from __future__ import annotations

from typing import Any

import numpy as np
from captum._utils.common import _register_backward_hook
from captum.attr import GuidedBackprop
from torch import nn

from automl_nb.explain._base import Explainer
from automl_nb.explain._base import register_explainer
from automl_nb.explain._inputs import AttributionInput

# Activation modules whose backward pass is "guided" (negative gradients zeroed). captum hooks
# only nn.ReLU; on a ViT (nn.GELU) that would silently give the plain input gradient.
GUIDED_ACTIVATIONS: tuple[type[nn.Module], ...] = (nn.ReLU, nn.GELU)


class GuidedBackpropAll(GuidedBackprop):
    """captum's ``GuidedBackprop`` whose hooks also cover ``nn.GELU`` modules.

    The rule is captum's ReLU rule applied to the activation's own input gradient:
    ``grad_in = relu(act'(x) * grad_out)``. Activations called as functions (``F.relu``,
    ``F.gelu``) are not modules and stay unguided, as in captum.
    """

    def _register_hooks(self, module: nn.Module) -> None:
        if isinstance(module, GUIDED_ACTIVATIONS):
            self.backward_hooks.extend(_register_backward_hook(module, self._backward_hook, self))


def guided_backprop(model: nn.Module) -> Any:
    """A guided-backprop attribution object for ``model`` (ReLU and GELU)."""
    return GuidedBackpropAll(model)


@register_explainer("guided_backprop")
class GuidedBackpropExplainer(Explainer):
    """Guided backpropagation of the target's logit; no parameters."""

    def attribute(self, inputs: AttributionInput, target: int) -> np.ndarray:
        attributions = guided_backprop(inputs.model).attribute(inputs.inputs, target=target)
        return attributions[0].detach().cpu().numpy().astype(np.float32)
