"""Draw Azure-schema predictions on their image with matplotlib (no pyplot state)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from automl_nb.inference._images import load_image


def _colours(labels: Sequence[str]) -> dict[str, str]:
    import colorcet

    palette = list(colorcet.glasbey_light)
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def _label_order(prediction: dict[str, Any], labels: Sequence[str] | None) -> list[str]:
    if labels:
        return [str(label) for label in labels]
    if "labels" in prediction:
        return [str(label) for label in prediction["labels"]]
    seen: list[str] = []
    for entry in prediction.get("boxes", []):
        if entry.get("label") not in seen:
            seen.append(entry.get("label"))
    return sorted(seen)


def draw_predictions(
    image: Any,
    prediction: dict[str, Any],
    *,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    score_threshold: float | None = None,
    top_k: int = 5,
) -> Any:
    """Draw one image's prediction: class probabilities, or boxes and polygons with labels.

    Args:
        image: The image (any form ``predict`` accepts).
        prediction: Its prediction in the Azure output schema.
        ax: A matplotlib ``Axes`` to draw into; by default a new ``Figure`` (Agg) is made.
        labels: All class names, so each class keeps its colour across images.
        score_threshold: Hide boxes below this score; for multi-label classification,
            highlight labels at or above it (default 0.5).
        top_k: Classification: how many of the most probable labels to list.

    Returns:
        The matplotlib ``Figure``.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon
    from matplotlib.patches import Rectangle

    pil = load_image(image)
    width, height = pil.size
    if ax is None:
        fig = Figure(
            figsize=(6, 6 * height / max(width, 1) + (0.8 if "probs" in prediction else 0))
        )
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    ax.imshow(pil)
    ax.set_axis_off()
    colours = _label_order(prediction, labels)
    colour_of = _colours(colours)

    if "probs" in prediction:
        pairs = sorted(zip(prediction["labels"], prediction["probs"]), key=lambda lp: -lp[1])
        threshold = 0.5 if score_threshold is None else score_threshold
        lines = []
        for label, prob in pairs[:top_k]:
            mark = "*" if prob >= threshold else " "
            lines.append(f"{mark} {label}: {prob:.3f}")
        ax.set_title("\n".join(lines), loc="left", fontsize=9, family="monospace")
        return fig

    for entry in prediction.get("boxes", []):
        score = float(entry.get("score", 1.0))
        if score_threshold is not None and score < score_threshold:
            continue
        label = str(entry.get("label"))
        colour = colour_of.get(label, "#ff0000")
        box = entry["box"]
        x0, y0 = box["topX"] * width, box["topY"] * height
        x1, y1 = box["bottomX"] * width, box["bottomY"] * height
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour, linewidth=2)
        )
        for segment in entry.get("polygon", []) or []:
            points = [
                (segment[i] * width, segment[i + 1] * height) for i in range(0, len(segment), 2)
            ]
            if len(points) >= 3:
                ax.add_patch(
                    Polygon(points, closed=True, facecolor=colour, edgecolor=colour, alpha=0.35)
                )
        ax.text(
            x0,
            y0,
            f"{label} {score:.2f}",
            fontsize=8,
            color="black",
            va="bottom",
            bbox={"facecolor": colour, "edgecolor": "none", "pad": 1, "alpha": 0.85},
        )
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    return fig
