"""TorchScript export: ``torch.jit.load`` runs the model without automl-nb, matching eager."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from automl_nb.inference import load_model
from automl_nb.inference import save_model_dir
from automl_nb.inference.export import export_model

torch = pytest.importorskip("torch")

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LABELS = ["can", "carton", "milk_bottle"]
FAST_RPN = {"rpn_pre_nms_top_n_test": 100, "rpn_post_nms_top_n_test": 50}
MODELS = {
    "image_classification": (
        "resnet18",
        {"validation_resize_size": 40, "validation_crop_size": 32},
    ),
    "image_classification_multilabel": (
        "resnet18",
        {"validation_resize_size": 40, "validation_crop_size": 32},
    ),
    "image_object_detection": (
        "fasterrcnn_resnet18_fpn",
        {"min_size": 64, "max_size": 96, "box_score_threshold": 0.0},
    ),
    "image_instance_segmentation": (
        "maskrcnn_resnet18_fpn",
        {"min_size": 64, "max_size": 96, "box_score_threshold": 0.0},
    ),
}


def _image(task: str) -> Image.Image:
    """A real image of the task from ../shared/data, or a random one where absent."""
    folder = SHARED_DATA / (
        "fridgeObjects/thumbnails_150/can"
        if task.startswith("image_classification")
        else "odFridgeObjects/images"
    )
    if folder.is_dir():
        path = sorted(folder.glob("*.jpg"))[0]
        with Image.open(path) as image:
            image.thumbnail((120, 120))
            return image.convert("RGB")
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (70, 90, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``exported(task)`` -> (model folder, TorchScript export folder), built on first use."""
    from automl_nb.models import create_model

    root = tmp_path_factory.mktemp("ts")
    cache: dict[str, tuple[Path, Path]] = {}

    def get(task: str) -> tuple[Path, Path]:
        if task not in cache:
            name, hyper = MODELS[task]
            torch.manual_seed(0)
            extra = {} if task.startswith("image_classification") else FAST_RPN
            sizes = {k: v for k, v in hyper.items() if k in ("min_size", "max_size")}
            model = create_model(
                name, task=task, num_classes=3, pretrained=False, **sizes, **extra
            )
            folder = save_model_dir(
                root / task,
                model=model,
                model_name=name,
                task=task,
                labels=LABELS,
                hyperparameters=hyper,
                model_kwargs=extra,
            )
            normalization = True if task == "image_classification_multilabel" else None
            target = export_model(
                folder, "torchscript", root / f"{task}_ts", normalization=normalization
            )
            cache[task] = (folder, target)
        return cache[task]

    return get


def test_files_and_labels(exported):
    _, target = exported("image_object_detection")
    assert {p.name for p in target.iterdir()} == {
        "model.pt",
        "labels.json",
        "settings.json",
        "export.json",
    }
    assert json.loads((target / "labels.json").read_text()) == ["--bg--", *LABELS]
    settings = json.loads((target / "settings.json").read_text())
    assert settings["task"] == "image_object_detection" and settings["min_size"] == 64
    _, target = exported("image_classification")
    assert json.loads((target / "labels.json").read_text()) == LABELS
    info = json.loads((target / "export.json").read_text())
    assert info["input"]["crop"] == 32 and info["postprocess"] == "softmax"


def test_classifier_matches_eager_at_any_batch_size(exported):
    folder, target = exported("image_classification")
    loaded = load_model(folder, device="cpu")
    scripted = torch.jit.load(str(target / "model.pt"))
    image = loaded.preprocess(_image("image_classification"))
    batch = torch.stack([image, image.flip(-1), torch.zeros_like(image)])
    with torch.no_grad():
        expected = loaded.model(batch)
        assert torch.allclose(scripted(batch), expected, atol=1e-5)
        assert torch.allclose(scripted(batch[:1]), expected[:1], atol=1e-5)
    probs = torch.softmax(scripted(batch[:1]), dim=1)[0].tolist()
    assert probs == pytest.approx(loaded.predict(_image("image_classification"))[0]["probs"])


def test_normalization_inside_takes_0_1_input(exported):
    folder, target = exported("image_classification_multilabel")
    loaded = load_model(folder, device="cpu")
    scripted = torch.jit.load(str(target / "model.pt"))
    info = json.loads((target / "export.json").read_text())
    assert info["input"]["normalization_in_model"] is True
    normalised = loaded.preprocess(_image("image_classification_multilabel"))[None]
    mean = torch.tensor(info["input"]["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(info["input"]["std"]).view(1, 3, 1, 1)
    with torch.no_grad():
        got = scripted(normalised * std + mean)
        assert torch.allclose(got, loaded.model(normalised), atol=1e-4)


@pytest.mark.parametrize(
    "task",
    [
        "image_object_detection",
        pytest.param("image_instance_segmentation", marks=pytest.mark.slow),
    ],
)
def test_scripted_detector_matches_eager(exported, task):
    folder, target = exported(task)
    loaded = load_model(folder, device="cpu")
    scripted = torch.jit.load(str(target / "model.pt"))
    image = loaded.preprocess(_image(task))
    with torch.no_grad():
        expected = loaded.model([image])[0]
        _, detections = scripted([image, image.flip(-1)])
    got = detections[0]
    assert len(detections) == 2
    assert len(got["boxes"]) == len(expected["boxes"]) > 0
    assert torch.allclose(got["boxes"], expected["boxes"], atol=1e-3)
    assert torch.equal(got["labels"], expected["labels"])
    assert torch.allclose(got["scores"], expected["scores"], atol=1e-5)
    if task == "image_instance_segmentation":
        assert got["masks"].shape == expected["masks"].shape
        assert torch.allclose(got["masks"], expected["masks"], atol=1e-4)


@pytest.mark.slow
def test_loads_without_automl_nb(exported, tmp_path):
    """A fresh interpreter that cannot import automl_nb runs both exports."""
    cls = exported("image_classification")[1] / "model.pt"
    det = exported("image_object_detection")[1] / "model.pt"
    script = (
        "import sys; sys.modules['automl_nb'] = None\n"
        "import torch, torchvision\n"
        f"c = torch.jit.load({str(cls)!r})\n"
        "print(tuple(c(torch.rand(4, 3, 32, 32)).shape))\n"
        f"d = torch.jit.load({str(det)!r})\n"
        "losses, out = d([torch.rand(3, 70, 90)])\n"
        "print(sorted(out[0]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["(4, 3)", "['boxes', 'labels', 'scores']"]


@pytest.mark.slow
def test_retinanet_scripts_and_drops_background(tmp_path):
    from automl_nb.models import create_model

    torch.manual_seed(0)
    name, task = "retinanet_resnet50_fpn", "image_object_detection"
    model = create_model(
        name, task=task, num_classes=3, pretrained=False, min_size=64, max_size=96
    )
    folder = save_model_dir(
        tmp_path / "model",
        model=model,
        model_name=name,
        task=task,
        labels=LABELS,
        hyperparameters={"min_size": 64, "max_size": 96, "box_score_threshold": 0.0},
    )
    target = export_model(folder, "torchscript", tmp_path / "ts")
    scripted = torch.jit.load(str(target / "model.pt"))
    loaded = load_model(folder, device="cpu")
    image = loaded.preprocess(_image(task))
    with torch.no_grad():
        expected = loaded.model([image])[0]
        _, (got,) = scripted([image])
    assert len(got["boxes"]) == len(expected["boxes"]) > 0
    assert bool((got["labels"] > 0).all())
    assert torch.allclose(got["boxes"], expected["boxes"], atol=1e-3)
