"""The 2x2 visualization."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from automl_nb.explain._visualize import explanation_figure
from automl_nb.explain._visualize import figure_png
from automl_nb.explain._visualize import png_base64
from automl_nb.explain._visualize import saliency_map
from automl_nb.explain._visualize import top_mask


def _inputs():
    rng = np.random.default_rng(0)
    image = rng.random((48, 48, 3)).astype(np.float32)
    attributions = np.zeros((3, 48, 48), np.float32)
    attributions[:, :16, :16] = 1.0  # the top-left ninth matters
    attributions[0, 40:, 40:] = -0.5  # negative importance counts by magnitude
    return image, attributions


def test_saliency_map_and_top_mask():
    _, attributions = _inputs()
    heatmap = saliency_map(attributions)
    assert heatmap.shape == (48, 48) and heatmap.min() >= 0 and heatmap.max() == 1
    assert heatmap[0, 0] == 1 and 0 < heatmap[47, 47] < 1 and heatmap[30, 5] == 0
    mask = top_mask(heatmap)
    assert mask.sum() == round(0.3 * 48 * 48)
    assert mask[:16, :16].all() and mask[40:, 40:].all()
    assert not saliency_map(np.zeros((3, 4, 4))).any()


def test_figure_is_a_2x2_grid_and_png_decodes():
    image, attributions = _inputs()
    fig = explanation_figure(image, attributions, title="can - xrai")
    panels = fig.axes[:4]
    centres = [ax.get_position() for ax in panels]
    xs = sorted({round((p.x0 + p.x1) / 2, 1) for p in centres})
    ys = sorted({round((p.y0 + p.y1) / 2, 1) for p in centres})
    assert len(xs) == 2 and len(ys) == 2  # two columns, two rows
    assert len(fig.axes) == 5  # plus the colour bar beside the heatmap
    assert [ax.get_title() for ax in panels] == [
        "input",
        "attribution",
        "attribution over input",
        "top 30% pixels",
    ]
    # The bottom-right panel shows the input only where the mask is on.
    shown = panels[3].get_images()[0].get_array()
    assert np.allclose(shown[:16, :16], image[:16, :16]) and not shown[20:30, :10].any()
    png = base64.b64decode(png_base64(figure_png(fig)))
    decoded = Image.open(io.BytesIO(png))
    assert decoded.format == "PNG" and min(decoded.size) > 300
    # Each quadrant of the picture holds a panel (not blank).
    pixels = np.asarray(decoded.convert("L"), dtype=np.float32)
    h, w = pixels.shape
    for quadrant in (
        pixels[: h // 2, : w // 2],
        pixels[: h // 2, w // 2 :],
        pixels[h // 2 :, : w // 2],
        pixels[h // 2 :, w // 2 :],
    ):
        assert quadrant.std() > 10
