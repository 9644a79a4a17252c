"""The 2x2 explanation figure Azure returns as ``visualizations`` (matplotlib, no pyplot)."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np

# The share of pixels the bottom-right panel keeps.
TOP_FRACTION = 0.3
# Attribution values above this percentile saturate the colour scale, so that a few extreme
# pixels do not wash out the map (captum's ``outlier_perc=2`` does the same).
CLIP_PERCENTILE = 98.0


def saliency_map(attributions: np.ndarray) -> np.ndarray:
    """``[3, H, W]`` attributions -> ``[H, W]`` map in ``[0, 1]``.

    The channels' absolute values are summed (importance regardless of sign) and scaled by the
    98th percentile, then clipped to 1.
    """
    magnitude = np.abs(np.asarray(attributions, dtype=np.float32)).sum(axis=0)
    scale = float(np.percentile(magnitude, CLIP_PERCENTILE))
    if scale <= 0:
        scale = float(magnitude.max())
    if scale <= 0:
        return np.zeros_like(magnitude)
    return np.clip(magnitude / scale, 0.0, 1.0)


def top_mask(heatmap: np.ndarray, fraction: float = TOP_FRACTION) -> np.ndarray:
    """Boolean ``[H, W]`` mask of the ``fraction`` of pixels with the highest attribution."""
    flat = heatmap.ravel()
    keep = max(1, int(round(fraction * flat.size)))
    # argsort instead of a threshold: ties (flat XRAI regions, zero maps) still keep exactly
    # ``fraction`` of the pixels.
    order = np.argsort(-flat, kind="stable")[:keep]
    mask = np.zeros(flat.size, dtype=bool)
    mask[order] = True
    return mask.reshape(heatmap.shape)


def explanation_figure(
    image: np.ndarray, attributions: np.ndarray, *, title: str | None = None
) -> Any:
    """The 2x2 grid: input, heatmap (colorcet ``bgyw``, with colour bar), blend, top 30%.

    Args:
        image: The cropped input, ``[H, W, 3]`` in ``[0, 1]``.
        attributions: ``[3, H, W]``.
        title: Optional figure title (label and algorithm).

    Returns:
        A ``matplotlib.figure.Figure`` with an Agg canvas; its first four axes are the panels
        in reading order.
    """
    import colorcet
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    heatmap = saliency_map(attributions)
    cmap = colorcet.cm.bgyw
    fig = Figure(figsize=(8, 8), dpi=72)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    panels = axes.ravel()
    panels[0].imshow(image)
    panels[0].set_title("input")
    shown = panels[1].imshow(heatmap, cmap=cmap, vmin=0.0, vmax=1.0)
    panels[1].set_title("attribution")
    fig.colorbar(shown, ax=panels[1], fraction=0.046, pad=0.04)
    panels[2].imshow(image)
    panels[2].imshow(heatmap, cmap=cmap, vmin=0.0, vmax=1.0, alpha=0.5)
    panels[2].set_title("attribution over input")
    panels[3].imshow(image * top_mask(heatmap)[..., None])
    panels[3].set_title(f"top {int(TOP_FRACTION * 100)}% pixels")
    for ax in panels:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return fig


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def png_base64(png: bytes) -> str:
    """The base64 text Azure puts in ``visualizations``."""
    return base64.b64encode(png).decode("ascii")
