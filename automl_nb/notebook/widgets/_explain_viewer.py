"""The explanation viewer: pick an image, a label, algorithms and their parameters, and
compare the explanations side by side."""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as widgets

from automl_nb.notebook._html import esc

ALGORITHMS = ("xrai", "integrated_gradients", "guided_backprop", "guided_gradcam")
PREDICTED = "(predicted)"


class ExplanationViewer(widgets.VBox):
    """Explain a classifier's predictions interactively.

    Args:
        model: A model folder (or a loaded/explainable model).
        images: Image paths to choose from.
        algorithms: The algorithms selected at first.
        params: Parameters (``n_steps``, ``xrai_fast``, ``approximation_method``).
        explain_now: Explain the first image at once, so the viewer opens with an
            explanation rather than empty panels.

    Attributes:
        results: ``{algorithm: ImageExplanation}`` of the last run.
    """

    def __init__(
        self,
        model: Any,
        images: list[str],
        *,
        algorithms: list[str] | tuple[str, ...] = ("xrai",),
        params: dict[str, Any] | None = None,
        explain_now: bool = True,
    ) -> None:
        from automl_nb.explain import as_explainable

        self.model = as_explainable(model, device="cpu")
        self.results: dict[str, Any] = {}
        params = dict(params or {})
        self.image = widgets.Dropdown(
            options=[(os.path.basename(p), p) for p in images], description="image"
        )
        self.label = widgets.Dropdown(options=[PREDICTED, *self.model.labels], description="label")
        self.algorithms = widgets.SelectMultiple(
            options=ALGORITHMS,
            value=tuple(a for a in algorithms if a in ALGORITHMS) or ("xrai",),
            description="algorithms",
            rows=4,
            style={"description_width": "initial"},
        )
        self.n_steps = widgets.BoundedIntText(
            value=int(params.get("n_steps", 50)), min=1, max=1000, description="n_steps"
        )
        self.xrai_fast = widgets.Checkbox(
            value=bool(params.get("xrai_fast", True)), description="xrai_fast"
        )
        self.approximation = widgets.Dropdown(
            options=("riemann_middle", "gausslegendre"),
            value=params.get("approximation_method", "riemann_middle"),
            description="approximation",
            style={"description_width": "initial"},
        )
        self.run_button = widgets.Button(
            description="Explain", button_style="primary", layout={"width": "auto"}
        )
        self.status = widgets.HTML()
        self.panels = widgets.HBox()
        self.run_button.on_click(lambda _: self.explain())
        super().__init__(
            [
                widgets.HBox([self.image, self.label]),
                widgets.HBox(
                    [
                        self.algorithms,
                        widgets.VBox([self.n_steps, self.xrai_fast, self.approximation]),
                    ]
                ),
                self.run_button,
                self.status,
                self.panels,
            ]
        )
        if explain_now and self.image.value is not None:
            self.explain()

    def parameters(self) -> dict[str, Any]:
        """The explanation parameters from the widgets."""
        return {
            "n_steps": self.n_steps.value,
            "xrai_fast": self.xrai_fast.value,
            "approximation_method": self.approximation.value,
        }

    def explain(self) -> dict[str, Any]:
        """Explain the chosen image with each chosen algorithm and show them side by side."""
        from automl_nb.explain import explain_image

        labels = None if self.label.value == PREDICTED else [self.label.value]
        self.status.value = "explaining..."
        results, panels = {}, []
        try:
            for algorithm in self.algorithms.value:
                result = explain_image(
                    self.model,
                    self.image.value,
                    algorithm=algorithm,
                    labels_to_explain=labels,
                    **self.parameters(),
                )
                results[algorithm] = result
                images = [
                    widgets.Image(value=_png(e), format="png", layout={"width": "360px"})
                    for e in result.explanations
                ]
                caption = widgets.HTML(
                    f"<b>{esc(algorithm)}</b>"
                    + "".join(_flat_warning(e) for e in result.explanations)
                )
                panels.append(widgets.VBox([caption, *images]))
        except Exception as exc:  # noqa: BLE001 - shown in the panel, the viewer stays usable
            self.status.value = (
                f"<span style='color:#cf222e'>{esc(type(exc).__name__)}: {esc(exc)}</span>"
            )
            return results
        self.results = results
        self.panels.children = panels
        self.status.value = ""
        return results

    def __repr__(self) -> str:
        chosen = ", ".join(self.algorithms.value)
        return f"ExplanationViewer({len(self.image.options)} images, {chosen})"


def _flat_warning(explanation: Any) -> str:
    """A warning when an attribution map is all zero: the picture then shows nothing about
    the model (guided_gradcam gives such maps when the target layer's gradients vanish)."""
    import numpy as np

    attributions = np.asarray(explanation.attributions)
    if attributions.size and np.any(np.abs(attributions) > 0):
        return ""
    return (
        "<div style='color:#9a6700;max-width:360px'>the attribution map for "
        f"{esc(explanation.label)} is all zero: this picture says nothing about the model; "
        "try another algorithm (xrai, integrated_gradients)</div>"
    )


def _png(explanation: Any) -> bytes:
    import base64

    return base64.b64decode(explanation.to_base64())
