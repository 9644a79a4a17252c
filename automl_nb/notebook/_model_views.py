"""Result objects of ``predict`` and ``explain``: predictions and explanations drawn inline."""

from __future__ import annotations

import base64
import glob
import os
from typing import Any

from IPython.core.error import UsageError

from automl_nb.notebook._html import esc
from automl_nb.notebook._html import png_img
from automl_nb.notebook._results import Result


def expand_images(patterns: list[str]) -> list[str]:
    """Image paths from paths and globs (``data/test/*.jpg``), in order, without repeats.

    Raises:
        UsageError: A pattern matches nothing.
    """
    out: list[str] = []
    for pattern in patterns:
        if "://" in pattern:
            matches = [pattern]
        else:
            matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not matches:
            raise UsageError(f"no image matches {pattern!r}")
        out += [m for m in matches if m not in out]
    return out


def describe(prediction: dict[str, Any], top: int = 3) -> str:
    """One line for one prediction: the top labels, or the number of boxes."""
    if "probs" in prediction:
        pairs = sorted(zip(prediction["labels"], prediction["probs"]), key=lambda p: -p[1])
        return ", ".join(f"{label} {prob:.2f}" for label, prob in pairs[:top])
    boxes = prediction.get("boxes", [])
    names = ", ".join(f"{b['label']} {b.get('score', 1.0):.2f}" for b in boxes[:top])
    return f"{len(boxes)} object(s)" + (f": {names}" if names else "")


class PredictView(Result):
    """Predictions in the Azure output schema, each drawn on its image.

    Attributes:
        images: The image paths.
        predictions: One Azure-schema dict per image.
        pngs: The drawings (the first ``max_drawn`` images).
    """

    def __init__(self, images: list[str], predictions: list[dict], pngs: list[bytes]) -> None:
        self.images = images
        self.predictions = predictions
        self.pngs = pngs

    def to_text(self) -> str:
        return "\n".join(
            f"{os.path.basename(i)}: {describe(p)}" for i, p in zip(self.images, self.predictions)
        )

    def _repr_html_(self) -> str:
        figures = []
        for image, prediction, png in zip(self.images, self.predictions, self.pngs):
            figures.append(
                # At its own size (about 480 px): the labels drawn on it stay readable.
                "<figure style='display:inline-block;margin:4px;vertical-align:top;"
                "max-width:100%'>"
                f"{png_img(png)}<figcaption style='font-size:small'>"
                f"{esc(os.path.basename(image))}: {esc(describe(prediction))}"
                "</figcaption></figure>"
            )
        rest = len(self.images) - len(self.pngs)
        more = f"<p>{rest} more not drawn (.predictions has them all)</p>" if rest > 0 else ""
        return "<div>" + "".join(figures) + more + "</div>"


FLAT_WARNING = (
    "the attribution map is all zero: this picture says nothing about the model; try "
    "another algorithm (xrai, integrated_gradients)"
)


class ExplainView(Result):
    """Explanations (Azure XAI outputs) of images, algorithms side by side.

    Attributes:
        images: The image paths.
        algorithms: The algorithms compared.
        results: ``{(image, algorithm): Azure XAI dict}`` with base64 ``visualizations``.
        flat: The ``(image, algorithm)`` pairs whose attribution map is all zero (shown with
            a warning: such a picture says nothing about the model).
    """

    def __init__(
        self,
        images: list[str],
        algorithms: list[str],
        results: dict,
        flat: set[tuple[str, str]] | None = None,
    ) -> None:
        self.images = images
        self.algorithms = algorithms
        self.results = results
        self.flat = set(flat or ())

    @staticmethod
    def _pngs(result: dict) -> list[bytes]:
        found = result.get("visualizations") or []
        found = found if isinstance(found, list) else [found]
        return [base64.b64decode(v) for v in found]

    def to_text(self) -> str:
        lines = []
        for image in self.images:
            for algorithm in self.algorithms:
                result = self.results[(image, algorithm)]
                lines.append(
                    f"{os.path.basename(image)} [{algorithm}]: {describe(result)}, "
                    f"{len(self._pngs(result))} visualization(s)"
                )
                if (image, algorithm) in self.flat:
                    lines.append(f"  warning: {FLAT_WARNING}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = []
        for image in self.images:
            cells = []
            for algorithm in self.algorithms:
                result = self.results[(image, algorithm)]
                pictures = "".join(png_img(p, width=360) for p in self._pngs(result))
                if (image, algorithm) in self.flat:
                    pictures += (
                        f"<div style='color:#9a6700;max-width:360px'>{esc(FLAT_WARNING)}</div>"
                    )
                cells.append(
                    f"<td style='vertical-align:top'><b>{esc(algorithm)}</b><br>{pictures}</td>"
                )
            first = self.results[(image, self.algorithms[0])]
            parts.append(
                f"<div><b>{esc(os.path.basename(image))}</b>: {esc(describe(first))}"
                f"<table><tr>{''.join(cells)}</tr></table></div>"
            )
        return "<div>" + "".join(parts) + "</div>"
