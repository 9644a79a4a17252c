"""Save a tiny model of each task, load it back with no training code, predict for real."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from automl_nb.errors import ConfigError
from automl_nb.errors import ModelError
from automl_nb.inference import LoadedModel
from automl_nb.inference import draw_predictions
from automl_nb.inference import load_model
from automl_nb.inference import predict
from automl_nb.inference import save_model_dir
from automl_nb.inference import validate_prediction

torch = pytest.importorskip("torch")

# ../shared/data beside the repo; real images are added to the synthetic ones where present.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

LABELS = ["can", "carton", "milk_bottle"]
# Tiny sizes keep every forward pass well under a second on a shared CPU.
TASKS = {
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
        {
            "min_size": 64,
            "max_size": 96,
            "box_score_threshold": 0.0,
            "box_detections_per_image": 8,
        },
    ),
    "image_instance_segmentation": (
        "maskrcnn_resnet18_fpn",
        {
            "min_size": 64,
            "max_size": 96,
            "box_score_threshold": 0.0,
            "box_detections_per_image": 6,
        },
    ),
}


# Fewer region proposals make a randomly initialised R-CNN 30x faster on CPU; they travel
# through the model folder as model_kwargs.
FAST_RPN = {"rpn_pre_nms_top_n_test": 100, "rpn_post_nms_top_n_test": 50}


def _synthetic(width: int = 90, height: int = 70, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


def _real_images(task: str) -> list:
    """A couple of real images for the task from ../shared/data, or [] where absent."""
    if task.startswith("image_classification"):
        folder = SHARED_DATA / "fridgeObjects" / "thumbnails_150" / "can"
    elif task == "image_object_detection":
        folder = SHARED_DATA / "odFridgeObjects" / "images"
    else:
        folder = SHARED_DATA / "PennFudanPed_sample" / "PNGImages"
    if not folder.is_dir():
        return []
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))[:2]
    if task.startswith("image_classification"):
        return paths
    images = []
    for path in paths:  # detector masks are pasted at full resolution: keep them small
        with Image.open(path) as image:
            image.thumbnail((128, 128))
            images.append(image.convert("RGB"))
    return images


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """task -> (model folder, in-memory model), built once for the module."""
    from automl_nb.models import create_model

    root = tmp_path_factory.mktemp("models")
    out = {}
    for task, (name, hyper) in TASKS.items():
        torch.manual_seed(0)
        extra = {} if task.startswith("image_classification") else FAST_RPN
        sizes = {k: v for k, v in hyper.items() if k in ("min_size", "max_size")}
        model = create_model(
            name, task=task, num_classes=len(LABELS), pretrained=False, **sizes, **extra
        )
        folder = save_model_dir(
            root / task,
            model=model,
            model_name=name,
            task=task,
            labels=LABELS,
            hyperparameters={**hyper, "learning_rate": 0.01},
            job_yaml={"task": task, "training_parameters": {"model_name": name}},
            metrics={"primary": 0.5},
            model_kwargs=extra,
        )
        out[task] = (folder, model)
    return out


@pytest.fixture(scope="module")
def loaded_models(saved):
    """task -> the model loaded back from its folder (once per module)."""
    return {task: load_model(folder, device="cpu") for task, (folder, _) in saved.items()}


def _check_prediction(pred: dict, task: str) -> None:
    validate_prediction(pred, task)
    if task.startswith("image_classification"):
        assert pred["labels"] == LABELS
        if task == "image_classification":
            assert sum(pred["probs"]) == pytest.approx(1.0, abs=1e-5)
        return
    for entry in pred["boxes"]:
        assert entry["label"] in LABELS
        box = entry["box"]
        assert 0.0 <= box["topX"] <= box["bottomX"] <= 1.0
        assert 0.0 <= box["topY"] <= box["bottomY"] <= 1.0
        for segment in entry.get("polygon", []):
            assert all(0.0 <= v <= 1.0 for v in segment)


def test_model_folder_layout_and_settings(saved):
    folder, _ = saved["image_instance_segmentation"]
    names = {p.name for p in folder.iterdir()}
    assert {"model.pt", "settings.json", "labels.json", "job.yaml"} <= names
    assert {"hyperparameters.json", "metrics.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    payload = torch.load(folder / "model.pt", weights_only=True)
    assert payload["model_name"] == "maskrcnn_resnet18_fpn"
    assert payload["task"] == "image_instance_segmentation"
    assert payload["num_classes"] == 3
    assert payload["model_kwargs"] == FAST_RPN
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["min_size"] == 64
    assert settings["box_score_thresh"] == 0.0
    assert settings["box_detections_per_img"] == 6
    assert settings["nms_iou_thresh"] == 0.5
    assert settings["mask_pixel_score_threshold"] == 0.5
    assert settings["max_number_of_polygon_points"] == 100
    assert settings["export_as_image"] is False
    assert settings["image_type"] == "jpg"
    assert settings["task"] == "image_instance_segmentation"
    assert "box_score_threshold" not in settings  # v1 names only
    assert json.loads((folder / "labels.json").read_text()) == LABELS
    assert json.loads((folder / "hyperparameters.json").read_text())["learning_rate"] == 0.01
    assert yaml.safe_load((folder / "job.yaml").read_text())["task"] == (
        "image_instance_segmentation"
    )
    cls = json.loads((saved["image_classification"][0] / "settings.json").read_text())
    assert (cls["valid_resize_size"], cls["valid_crop_size"]) == (40, 32)


@pytest.mark.parametrize("task", list(TASKS))
def test_loaded_model_predicts_the_azure_schema(saved, task):
    folder, model = saved[task]
    loaded = load_model(folder, device="cpu")
    assert loaded.task.value == task
    assert loaded.labels == LABELS
    assert not loaded.model.training
    images = [_synthetic(), _synthetic(48, 64, seed=1), *_real_images(task)]
    preds = loaded.predict(images, batch_size=2)
    assert len(preds) == len(images)
    for pred in preds:
        _check_prediction(pred, task)
    # The same weights in memory give the same output as the reloaded folder.
    name, hyper = TASKS[task]
    in_memory = LoadedModel.from_model(
        model, model_name=name, task=task, labels=LABELS, hyperparameters=hyper
    )
    assert in_memory.predict(images[:2], batch_size=2) == preds[:2]
    assert task in repr(loaded)
    assert "<table>" in loaded._repr_html_()


def test_multilabel_probabilities_are_independent(loaded_models):
    loaded = loaded_models["image_classification_multilabel"]
    (pred,) = loaded.predict(_synthetic())
    assert all(0.0 < p < 1.0 for p in pred["probs"])
    assert sum(pred["probs"]) != pytest.approx(1.0, abs=1e-3)


def test_every_image_form_gives_the_same_prediction(loaded_models, tmp_path):
    loaded = loaded_models["image_classification"]
    image = _synthetic()
    path = tmp_path / "x.png"
    image.save(path)
    raw = path.read_bytes()
    forms = [str(path), path, image, np.asarray(image), raw, base64.b64encode(raw).decode()]
    preds = loaded.predict(forms, batch_size=1)
    assert all(p == preds[0] for p in preds)
    # A single image (not in a list) still gives a one-element list.
    assert predict(loaded, image) == preds[:1]


def test_detection_settings_filter_and_cap(saved):
    folder, _ = saved["image_object_detection"]
    loaded = load_model(folder, device="cpu")
    image = _synthetic()
    (everything,) = loaded.predict(image)
    assert 0 < len(everything["boxes"]) <= 8
    scores = sorted(b["score"] for b in everything["boxes"])
    cut = scores[len(scores) // 2]
    (filtered,) = loaded.predict(image, box_score_threshold=cut)
    assert filtered["boxes"]
    assert all(b["score"] >= cut for b in filtered["boxes"])
    assert len(filtered["boxes"]) < len(everything["boxes"]) or cut == scores[0]
    (capped,) = loaded.predict(image, box_detections_per_img=2)
    assert len(capped["boxes"]) == 2
    assert [b["score"] for b in capped["boxes"]] == sorted(scores, reverse=True)[:2]
    (none,) = predict(folder, image, device="cpu", box_score_thresh=1.0)
    assert none == {"boxes": []}
    # Overrides passed at load time stick; per-call ones do not change the model.
    assert (
        load_model(folder, device="cpu", box_detections_per_image=3).settings[
            "box_detections_per_img"
        ]
        == 3
    )
    assert loaded.settings["box_detections_per_img"] == 8


def test_tiled_detection_merges_tiles_and_whole_image(loaded_models):
    loaded = loaded_models["image_object_detection"]
    preds = loaded.predict(
        [_synthetic(120, 90)],
        tile_grid_size="2x2",
        tile_overlap_ratio=0.25,
        box_detections_per_img=5,
    )
    _check_prediction(preds[0], "image_object_detection")
    assert 0 < len(preds[0]["boxes"]) <= 5


def test_instance_segmentation_polygons_honour_settings(loaded_models):
    loaded = loaded_models["image_instance_segmentation"]
    image = _synthetic()
    (pred,) = loaded.predict(image, max_number_of_polygon_points=5, mask_pixel_score_threshold=0.0)
    assert pred["boxes"]
    for entry in pred["boxes"]:
        assert entry["polygon"], "a zero pixel threshold keeps the whole mask"
        assert all(3 <= len(seg) // 2 <= 5 and len(seg) % 2 == 0 for seg in entry["polygon"])
    (empty,) = loaded.predict(image, mask_pixel_score_threshold=1.0)
    assert all(entry["polygon"] == [] for entry in empty["boxes"])
    (with_masks,) = loaded.predict(image, export_as_image=True, image_type="png")
    validate_prediction(with_masks, "image_instance_segmentation")
    mask = Image.open(io.BytesIO(base64.b64decode(with_masks["boxes"][0]["mask"])))
    assert mask.size == image.size


def test_draw_predictions_for_every_task(loaded_models):
    from matplotlib.figure import Figure

    image = _synthetic()
    for task in TASKS:
        if task.startswith("image_classification"):
            pred = loaded_models[task].predict(image)[0]
        else:
            pred = {
                "boxes": [
                    {
                        "box": {"topX": 0.1, "topY": 0.2, "bottomX": 0.6, "bottomY": 0.9},
                        "label": "can",
                        "score": 0.9,
                        "polygon": [[0.1, 0.2, 0.6, 0.2, 0.6, 0.9]],
                    }
                ]
            }
        fig = draw_predictions(image, pred, labels=LABELS)
        assert isinstance(fig, Figure)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        assert buffer.getvalue()[:4] == b"\x89PNG"
        ax = fig.axes[0]
        if task.startswith("image_classification"):
            assert "can" in ax.get_title(loc="left")
        else:
            assert len(ax.patches) == 2  # the box and the polygon


def test_bad_folders_and_settings_are_clear_errors(saved, tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "missing")
    with pytest.raises(ModelError, match="model.pt"):
        load_model(tmp_path)
    with pytest.raises(ConfigError, match="box_score_thresh"):
        load_model(saved["image_object_detection"][0], device="cpu", box_score=0.4)
    with pytest.raises(ConfigError, match="not an inference setting for image_classification"):
        load_model(saved["image_classification"][0], device="cpu", min_size=300)


def test_frozen_batchnorm_of_fine_tuned_detectors_is_rebuilt(tmp_path):
    """Detectors fine-tuned from pretrained weights have frozen BatchNorm (COCO: eps 0)."""
    from torchvision.ops import FrozenBatchNorm2d

    from automl_nb.inference._model_dir import restore_frozen_batchnorm
    from automl_nb.models import create_model

    name, hyper = TASKS["image_object_detection"]
    torch.manual_seed(1)
    model = create_model(
        name,
        task="image_object_detection",
        num_classes=3,
        pretrained=False,
        min_size=64,
        max_size=96,
        **FAST_RPN,
    )
    body = model.backbone.body
    frozen_names = {
        f"backbone.body.{n}": 0.0
        for n, m in body.named_modules()
        if isinstance(m, torch.nn.BatchNorm2d)
    }
    restore_frozen_batchnorm(model, {}, frozen_names)
    for module in model.modules():
        if isinstance(module, FrozenBatchNorm2d):
            module.running_var.uniform_(0.5, 2.0)
    folder = save_model_dir(
        tmp_path / "m",
        model=model,
        model_name=name,
        task="image_object_detection",
        labels=LABELS,
        hyperparameters=hyper,
        model_kwargs=FAST_RPN,
    )
    loaded = load_model(folder, device="cpu")
    frozen = [m for m in loaded.model.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert len(frozen) == len(frozen_names)
    assert all(m.eps == 0.0 for m in frozen)
    in_memory = LoadedModel.from_model(
        model,
        model_name=name,
        task="image_object_detection",
        labels=LABELS,
        hyperparameters=hyper,
    )
    image = _synthetic()
    assert loaded.predict(image) == in_memory.predict(image)


def test_job_and_trial_folders_stand_for_their_model_folder(saved, tmp_path):
    import shutil

    folder, _ = saved["image_classification"]
    job = tmp_path / "job"
    shutil.copytree(folder, job / "best_model")
    trial = tmp_path / "trial"
    shutil.copytree(folder, trial / "model")
    assert load_model(job, device="cpu").model_dir == job / "best_model"
    assert load_model(trial, device="cpu").model_dir == trial / "model"
