"""Integrated gradients (captum), from a black image to the input."""

from __future__ import annotations

import numpy as np

from automl_nb.explain._base import Explainer
from automl_nb.explain._base import register_explainer
from automl_nb.explain._inputs import AttributionInput


def integrated_gradients(
    inputs: AttributionInput,
    target: int,
    baselines: object,
    *,
    n_steps: int,
    method: str,
    internal_batch_size: int,
) -> object:
    """captum IG of ``target``'s logit for each baseline in ``baselines`` ``[B, 3, H, W]``.

    The input is repeated once per baseline so that all baselines share one captum call (and
    its internal batching). Returns a ``[B, 3, H, W]`` tensor in normalised-input units.
    """
    from captum.attr import IntegratedGradients

    batch = inputs.inputs.expand(baselines.shape[0], -1, -1, -1)  # type: ignore[attr-defined]
    return IntegratedGradients(inputs.model).attribute(
        batch,
        baselines=baselines,
        target=target,
        n_steps=n_steps,
        method=method,
        internal_batch_size=internal_batch_size,
    )


@register_explainer("integrated_gradients")
class IntegratedGradientsExplainer(Explainer):
    """Integrated gradients along the straight path from a black image to the input.

    The baseline is the black image (pixel value 0) in the model's normalised input space, so
    its per-channel value is ``-mean / std``. Attributions are with respect to the normalised
    input and satisfy completeness for the target's *logit* F: ``sum(attributions) ~=
    F(input) - F(black)``, up to the ``n_steps`` quadrature error.

    Parameters: ``n_steps``, ``approximation_method`` (``riemann_middle``, ``gausslegendre``),
    ``internal_batch_size``.
    """

    def attribute(self, inputs: AttributionInput, target: int) -> np.ndarray:
        attributions = integrated_gradients(
            inputs,
            target,
            inputs.constant_baseline(0.0),
            n_steps=self.params["n_steps"],
            method=self.params["approximation_method"],
            internal_batch_size=self.params["internal_batch_size"],
        )
        return attributions[0].detach().cpu().numpy().astype(np.float32)  # type: ignore[index]
