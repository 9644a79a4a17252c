"""explain() / explain_image() on classifiers trained for real on the fridge images."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import SIZE
from conftest import to_numpy
from PIL import Image

from automl_nb.errors import ConfigError
from automl_nb.explain import ExplainableModel
from automl_nb.explain import ExplanationNotSupportedError
from automl_nb.explain import explain
from automl_nb.explain import explain_image
from automl_nb.explain import list_explainers
from automl_nb.explain._inputs import crop_image
from automl_nb.explain._inputs import normalise

ALGORITHMS = ["xrai", "integrated_gradients", "guided_backprop", "guided_gradcam"]
# Fewer IG steps where only shapes are checked; completeness uses the default 50.
FAST = {"n_steps": 8}


def _wrap(trained) -> ExplainableModel:
    return ExplainableModel(
        trained.model, labels=trained.labels, task=trained.task, resize_size=SIZE, crop_size=SIZE
    )


def _png(text: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(text)))
    image.load()
    return image


def test_registry_lists_the_four_azure_algorithms():
    assert list_explainers() == sorted(ALGORITHMS)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["riemann_middle", "gausslegendre"])
def test_integrated_gradients_completeness(fridge_multiclass, method):
    # F is the explained class's logit; the baseline is the black image (pixel 0), normalised.
    model = _wrap(fridge_multiclass)
    for path in fridge_multiclass.images[::45]:
        result = explain_image(
            model, path, algorithm="integrated_gradients", approximation_method=method, n_steps=50
        )
        item = result.explanations[0]
        assert item.label_index == int(np.argmax(result.probs))
        image = Image.open(path)
        x = normalise(crop_image(image, resize_size=SIZE, crop_size=SIZE), model.mean, model.std)
        black = normalise(np.zeros((SIZE, SIZE, 3), np.float32), model.mean, model.std)
        with torch.no_grad():
            delta = float(
                model.model(x)[0, item.label_index] - model.model(black)[0, item.label_index]
            )
        total = float(item.attributions.astype(np.float64).sum())
        assert abs(total - delta) <= 0.02 * abs(delta) + 0.08, (path.name, total, delta)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_multiclass_output_shapes(fridge_multiclass, algorithm):
    (result,) = explain(
        _wrap(fridge_multiclass),
        fridge_multiclass.images[0],
        algorithm=algorithm,
        attributions=True,
        **FAST,
    )
    assert set(result) == {"probs", "labels", "visualizations", "attributions"}
    assert result["labels"] == fridge_multiclass.labels
    assert len(result["probs"]) == 4 and abs(sum(result["probs"]) - 1) < 1e-5
    attributions = to_numpy(result["attributions"])
    assert attributions.shape == (3, SIZE, SIZE)
    assert np.isfinite(attributions).all() and np.abs(attributions).sum() > 0
    assert isinstance(result["visualizations"], str)
    assert _png(result["visualizations"]).format == "PNG"
    json.dumps(result)


@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_multilabel_one_attribution_per_label_over_threshold(fridge_multilabel, algorithm):
    model = _wrap(fridge_multilabel)
    images = fridge_multilabel.images[:2]
    results = explain(model, images, algorithm=algorithm, attributions=True, **FAST)
    assert len(results) == 2
    for result in results:
        over = [p for p in result["probs"] if p >= 0.5]
        assert isinstance(result["attributions"], list)
        assert isinstance(result["visualizations"], list)
        assert len(result["attributions"]) == len(result["visualizations"]) == len(over)
        for array in result["attributions"]:
            assert to_numpy(array).shape == (3, SIZE, SIZE)
    # A lower threshold explains more labels; 0 explains them all.
    everything = explain_image(
        model, images[0], algorithm=algorithm, confidence_score_threshold_multilabel=0.0, **FAST
    )
    assert [e.label for e in everything.explanations] == fridge_multilabel.labels


@pytest.mark.slow
def test_flags_and_explicit_labels(fridge_multiclass):
    model = _wrap(fridge_multiclass)
    (bare,) = explain(
        model, [fridge_multiclass.images[1]], algorithm="guided_backprop", visualizations=False
    )
    assert set(bare) == {"probs", "labels"}
    chosen = explain_image(
        model,
        fridge_multiclass.images[1],
        algorithm="guided_backprop",
        labels_to_explain=["carton", "can"],
    )
    assert [e.label for e in chosen.explanations] == ["carton", "can"]
    assert "<img" in chosen._repr_html_()
    with pytest.raises(ConfigError, match="not a label"):
        explain_image(model, fridge_multiclass.images[1], labels_to_explain=["fridge"])


def test_unknown_algorithm_and_parameters_are_located_errors():
    model = ExplainableModel(torch.nn.Conv2d(3, 2, 1), labels=["a", "b"])
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ConfigError, match="did you mean 'xrai'"):
        explain(model, image, algorithm="xria")
    with pytest.raises(ConfigError, match="xai_parameters.nsteps.*did you mean 'n_steps'"):
        explain(model, image, nsteps=3)
    with pytest.raises(ConfigError, match="did you mean 'gausslegendre'"):
        explain(model, image, approximation_method="gauss_legendre")
    with pytest.raises(ConfigError, match="n_steps: must be an integer >= 1"):
        explain(model, image, n_steps=0)


@pytest.mark.parametrize("task", ["image_object_detection", "image_instance_segmentation"])
def test_detection_models_are_not_supported(tmp_path, task):
    with pytest.raises(ExplanationNotSupportedError, match=f"not supported yet for {task}"):
        ExplainableModel(torch.nn.Identity(), labels=["a"], task=task)
    # A model folder is refused from its settings.json, before any weights are read.
    (tmp_path / "settings.json").write_text(json.dumps({"task": task}))
    with pytest.raises(ExplanationNotSupportedError, match="not supported yet"):
        explain(tmp_path, np.zeros((8, 8, 3), np.uint8))


def test_model_folder_round_trip(tmp_path):
    pytest.importorskip("automl_nb.models")
    from automl_nb.inference import load_model
    from automl_nb.inference import save_model_dir
    from automl_nb.models import create_model

    task = "image_classification"
    model = create_model("resnet18", task=task, num_classes=3, pretrained=False)
    folder = save_model_dir(
        tmp_path / "model",
        model=model,
        model_name="resnet18",
        task=task,
        labels=["a", "b", "c"],
        settings={"valid_resize_size": 72, "valid_crop_size": 64},
    )
    image = (np.random.default_rng(0).random((90, 120, 3)) * 255).astype(np.uint8)
    (result,) = explain(folder, image, algorithm="guided_gradcam", attributions=True)
    assert to_numpy(result["attributions"]).shape == (3, 64, 64)
    assert result["labels"] == ["a", "b", "c"]
    # Explanations see exactly the tensor predictions are made on.
    loaded = load_model(folder)
    ours = normalise(
        crop_image(
            Image.fromarray(image),
            resize_size=72,
            crop_size=64,
            interpolation=loaded.model_cfg.interpolation,
        ),
        loaded.model_cfg.mean,
        loaded.model_cfg.std,
    )
    assert torch.allclose(ours[0], loaded.preprocess(Image.fromarray(image)), atol=1e-5)
    assert np.allclose(
        result["probs"], loaded.predict(Image.fromarray(image))[0]["probs"], atol=1e-5
    )


def test_import_is_cheap():
    code = "import sys, automl_nb.explain; print('torch' in sys.modules, 'captum' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_package_is_callable_like_the_function():
    import automl_nb
    import automl_nb.explain as package

    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 2, 3),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    )
    model = ExplainableModel(net, labels=["a", "b"], resize_size=16, crop_size=16)
    image = np.full((20, 20, 3), 128, np.uint8)
    (result,) = package(model, image, algorithm="guided_backprop", visualizations=False)
    assert set(result) == {"probs", "labels"}
    assert automl_nb.explain(model, image, algorithm="guided_backprop")[0]["labels"] == ["a", "b"]
