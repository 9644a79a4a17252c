"""Every classifier in the model registry explains through its registered Grad-CAM layer."""

from __future__ import annotations

import numpy as np
import pytest

models = pytest.importorskip("automl_nb.models")

TASK = "image_classification"
# One model per distinct Grad-CAM layer / output layout (building all twelve takes ~40 s here);
# every registry entry must name a layer.
NAMES = ["mobilenetv2", "resnet18", "resnest50", "vits16r224"]


def test_every_registry_classifier_names_a_gradcam_layer():
    for name in models.list_models(TASK):
        cfg = models.get_model_cfg(name, TASK)
        assert cfg.gradcam_layer, name
        assert cfg.vit_tokens == cfg.gradcam_layer.startswith("blocks."), name


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_guided_gradcam_on_every_registry_classifier(name):
    from automl_nb.explain import explain
    from automl_nb.inference import LoadedModel

    cfg = models.get_model_cfg(name, TASK)
    assert cfg.gradcam_layer
    kwargs = {"img_size": 32} if cfg.vit_tokens else {}
    model = models.create_model(name, task=TASK, num_classes=2, pretrained=False, **kwargs)
    loaded = LoadedModel.from_model(
        model,
        model_name=name,
        task=TASK,
        labels=["a", "b"],
        settings={"valid_resize_size": 32, "valid_crop_size": 32},
    )
    image = (np.random.default_rng(0).random((40, 48, 3)) * 255).astype(np.uint8)
    (result,) = explain(
        loaded, image, algorithm="guided_gradcam", attributions=True, visualizations=False
    )
    attributions = np.asarray(result["attributions"])
    assert attributions.shape == (3, 32, 32)
    assert np.isfinite(attributions).all()
