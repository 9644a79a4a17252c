"""The model folder's epoch curves fit a notebook's width (about 900 px) at their own size,
whatever the number of panels: two panels a row."""

from __future__ import annotations

from PIL import Image

from automl_nb.metrics import plot_epoch_curves

ROW = {
    "train_loss": 0.5,
    "learning_rate": 0.01,
    "accuracy": 0.8,
    "seconds": 12.0,
    "validation_seconds": 2.0,
    "images_per_second": 30.0,
    "gpu_memory_mb": 0.0,
}


def test_epoch_curves_fit_the_notebook_width(tmp_path):
    path = plot_epoch_curves([{"epoch": 1, **ROW}], tmp_path / "curves.png")
    width, height = Image.open(path).size
    assert width <= 950
    # Five panels (loss, learning rate, metrics, seconds, images/s; GPU memory is all zero):
    # three rows of two.
    assert height >= 2.5 * 300
