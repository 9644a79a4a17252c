"""Guided Grad-CAM (captum) on the architecture's Grad-CAM layer, CNNs and ViTs alike."""

from __future__ import annotations

import numpy as np

from automl_nb.explain._base import Explainer
from automl_nb.explain._base import register_explainer
from automl_nb.explain._guided_backprop import guided_backprop
from automl_nb.explain._inputs import AttributionInput
from automl_nb.explain._layers import gradcam_target


@register_explainer("guided_gradcam")
class GuidedGradCamExplainer(Explainer):
    """Grad-CAM on the model's Grad-CAM layer, upsampled (bilinear), times guided backprop.

    The layer comes from the model registry (``ModelCfg.gradcam_layer``) or, for other models,
    from ``default_gradcam_layer``. On a transformer the layer's tokens are viewed as their
    patch grid (prefix tokens dropped) so that Grad-CAM sees ``[N, C, h, w]``; see
    ``gradcam_target``. No parameters.
    """

    def attribute(self, inputs: AttributionInput, target: int) -> np.ndarray:
        from captum.attr import GuidedGradCam

        model = inputs.model
        with gradcam_target(
            model,
            inputs.gradcam_layer,
            inputs.inputs,
            num_prefix_tokens=inputs.num_prefix_tokens,
        ) as layer:
            explainer = GuidedGradCam(model, layer)
            explainer.guided_backprop = guided_backprop(model)
            attributions = explainer.attribute(
                inputs.inputs, target=target, interpolate_mode="bilinear"
            )
        return attributions[0].detach().cpu().numpy().astype(np.float32)
