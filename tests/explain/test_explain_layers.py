"""Grad-CAM layers: CNN defaults, the ViT token-to-grid view, and guided GELU."""

from __future__ import annotations

import numpy as np
import pytest
import timm
import torch
from captum.attr import GuidedBackprop
from captum.attr import LayerGradCam

from automl_nb.errors import ModelError
from automl_nb.explain import ExplainableModel
from automl_nb.explain import explain_image
from automl_nb.explain._guided_backprop import GuidedBackpropAll
from automl_nb.explain._inputs import quiet_captum
from automl_nb.explain._layers import default_gradcam_layer
from automl_nb.explain._layers import gradcam_target
from automl_nb.explain._layers import resolve_module


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    model = timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, num_classes=3, img_size=32, depth=2
    )
    return model.eval()


def _image(seed: int = 0, size: int = 32) -> np.ndarray:
    return np.random.default_rng(seed).random((size, size, 3)).astype(np.float32)


def test_resolve_module_paths():
    model = timm.create_model("resnet10t", pretrained=False, num_classes=2)
    assert resolve_module(model, "layer4.-1") is model.layer4[-1]
    assert resolve_module(model, "layer4[0].conv1") is model.layer4[0].conv1
    with pytest.raises(ModelError, match="no 'layer9'"):
        resolve_module(model, "layer9")


def test_default_layer_is_the_last_spatial_map():
    model = timm.create_model("resnet10t", pretrained=False, num_classes=2).eval()
    assert default_gradcam_layer(model, torch.zeros(1, 3, 64, 64)) == "layer4"
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, depth=1)
    assert default_gradcam_layer(vit, torch.zeros(1, 3, 32, 32)) == "blocks.-1.norm1"


def test_vit_gradcam_matches_a_hand_computed_cam(vit):
    x = torch.randn(1, 3, 32, 32)
    norm = vit.blocks[-1].norm1
    with gradcam_target(vit, "blocks.-1.norm1", x) as layer:
        assert layer is not norm
        with quiet_captum():
            cam = LayerGradCam(vit, layer).attribute(x, target=1, relu_attributions=True)
    assert vit.blocks[-1].norm1 is norm  # the model is restored
    # Grad-CAM by hand on the tokens: weights = mean patch-token gradient per channel.
    saved = {}
    handle = norm.register_forward_hook(lambda _m, _i, out: saved.update(out=out))
    logits = vit(x)
    handle.remove()
    tokens = saved["out"]
    (grads,) = torch.autograd.grad(logits[0, 1], tokens)
    patches, patch_grads = tokens[0, 1:], grads[0, 1:]  # drop the class token
    weights = patch_grads.mean(0)
    expected = torch.relu((patches * weights).sum(-1)).reshape(2, 2)
    assert cam.shape == (1, 1, 2, 2)
    assert torch.allclose(cam[0, 0], expected.detach(), atol=1e-5)
    assert expected.abs().sum() > 0


@pytest.mark.parametrize("algorithm", ["guided_gradcam", "guided_backprop"])
def test_vit_explanations_have_input_shape(vit, algorithm):
    model = ExplainableModel(
        vit,
        labels=["a", "b", "c"],
        resize_size=32,
        crop_size=32,
        gradcam_layer="blocks.-1.norm1",
        num_prefix_tokens=1,
    )
    # A random ViT's CAM is often all negative (zero after the ReLU) for a class: explain all.
    result = explain_image(model, _image(), algorithm=algorithm, labels_to_explain=["a", "b", "c"])
    for item in result.explanations:
        assert item.attributions.shape == (3, 32, 32)
        assert np.isfinite(item.attributions).all()
    assert any(np.abs(item.attributions).sum() > 0 for item in result.explanations)
    assert isinstance(vit.blocks[-1].norm1, torch.nn.LayerNorm)


def test_guided_backprop_is_guided_on_gelu(vit):
    x = torch.randn(1, 3, 32, 32, requires_grad=True)
    (plain,) = torch.autograd.grad(vit(x)[0, 0], x)
    with quiet_captum():
        captum_gb = GuidedBackprop(vit).attribute(x, target=0)
        ours = GuidedBackpropAll(vit).attribute(x, target=0)
    # captum only hooks nn.ReLU: on a GELU model it is the plain gradient.
    assert torch.allclose(captum_gb, plain, atol=1e-6)
    assert not torch.allclose(ours, plain, atol=1e-3)
    # ResNets (nn.ReLU only) are unchanged.
    cnn = timm.create_model("resnet10t", pretrained=False, num_classes=2).eval()
    y = torch.randn(1, 3, 32, 32)
    with quiet_captum():
        a = GuidedBackprop(cnn).attribute(y, target=1)
        b = GuidedBackpropAll(cnn).attribute(y, target=1)
    assert torch.allclose(a, b)


def test_tokens_that_are_not_a_square_grid_are_an_error(vit):
    model = ExplainableModel(
        vit,
        labels=["a", "b", "c"],
        resize_size=32,
        crop_size=32,
        gradcam_layer="blocks.-1.norm1",
        num_prefix_tokens=0,
    )
    with pytest.raises(ModelError, match="square grid"):
        explain_image(model, _image(), algorithm="guided_gradcam")
