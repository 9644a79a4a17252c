"""Pointing-game scores."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from automl_nb.explain import boxes_in_crop
from automl_nb.explain import pointing_score
from automl_nb.explain._inputs import crop_image


def test_boxes_follow_the_resize_and_centre_crop():
    # 200x100 image -> shorter side 50 (100x50) -> centre crop 50: x from 25 to 75 survives.
    boxes = boxes_in_crop(
        [(0.25, 0.0, 0.5, 0.5), (0.0, 0.0, 0.1, 1.0)],
        width=200,
        height=100,
        resize_size=50,
        crop_size=50,
    )
    assert boxes == [(0.0, 0.0, 25.0, 25.0)]  # the second box is cropped away
    # The same geometry as the crop the model sees: a white box lands where predicted.
    image = np.zeros((100, 200, 3), np.uint8)
    image[:50, 50:100] = 255
    crop = crop_image(Image.fromarray(image), resize_size=50, crop_size=50)
    assert crop[2:23, 2:23].min() > 0.9 and crop[30:, 30:].max() < 0.1


def test_pointing_score():
    attributions = np.zeros((3, 10, 10))
    attributions[0, :5, :5] = 1.0
    attributions[1, 9, 9] = -3.0  # magnitude counts; the peak is outside the box
    score = pointing_score(attributions, [(0, 0, 5, 5)])
    assert score.area_share == pytest.approx(0.25)
    assert score.mass_share == pytest.approx(25 / 28)
    assert not score.hit
    # The top 30 pixels: the 25 in the box and 5 of the tied zeros/peak outside it.
    assert score.top_share == pytest.approx(25 / 30)
    assert score.lift == pytest.approx(25 / 28 / 0.25)
