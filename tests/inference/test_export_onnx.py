"""ONNX export: onnxruntime runs the exported model and matches the eager model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from automl_nb.errors import ModelError
from automl_nb.inference import load_model
from automl_nb.inference import save_model_dir
from automl_nb.inference.export import export_model

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LABELS = ["can", "carton", "milk_bottle"]
FAST_RPN = {"rpn_pre_nms_top_n_test": 100, "rpn_post_nms_top_n_test": 50}
CLS_SIZES = {"validation_resize_size": 40, "validation_crop_size": 32}
DET_SIZES = {"min_size": 64, "max_size": 96, "box_score_threshold": 0.0}
MODELS = {
    "image_classification": ("resnet18", CLS_SIZES),
    "image_classification_multilabel": ("resnet18", CLS_SIZES),
    "image_object_detection": ("fasterrcnn_resnet18_fpn", DET_SIZES),
    "image_instance_segmentation": ("maskrcnn_resnet18_fpn", DET_SIZES),
}


def _images(task: str, n: int) -> list[Image.Image]:
    """Real images of the task from ../shared/data (random ones where absent)."""
    folder = SHARED_DATA / (
        "fridgeObjects/thumbnails_150/can"
        if task.startswith("image_classification")
        else "odFridgeObjects/images"
    )
    paths = sorted(folder.glob("*.jpg"))[:n] if folder.is_dir() else []
    images = []
    for path in paths:
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    rng = np.random.default_rng(0)
    while len(images) < n:
        images.append(Image.fromarray(rng.integers(0, 255, (70, 90, 3), dtype=np.uint8)))
    return images


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """``model_dir(task, **hyperparameters)`` -> a tiny model folder, built once per task."""
    from automl_nb.models import create_model

    root = tmp_path_factory.mktemp("onnx_models")
    cache: dict[str, Path] = {}

    def get(task: str, **extra_hyper) -> Path:
        key = f"{task}-{sorted(extra_hyper.items())}"
        if key not in cache:
            name, hyper = MODELS[task]
            torch.manual_seed(0)
            extra = {} if task.startswith("image_classification") else FAST_RPN
            sizes = {k: v for k, v in hyper.items() if k in ("min_size", "max_size")}
            model = create_model(
                name, task=task, num_classes=3, pretrained=False, **sizes, **extra
            )
            cache[key] = save_model_dir(
                root / f"m{len(cache)}",
                model=model,
                model_name=name,
                task=task,
                labels=LABELS,
                hyperparameters={**hyper, **extra_hyper},
                model_kwargs=extra,
            )
        return cache[key]

    return get


def _session(folder: Path):
    return ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])


def test_classification_dynamic_batch_matches_eager(model_dir, tmp_path):
    folder = model_dir("image_classification")
    out = export_model(folder, "onnx", tmp_path / "onnx")
    assert {p.name for p in out.iterdir()} == {
        "model.onnx",
        "labels.json",
        "settings.json",
        "export.json",
    }
    assert json.loads((out / "labels.json").read_text()) == LABELS
    info = json.loads((out / "export.json").read_text())
    assert info["input"]["shape"] == ["batch", 3, 32, 32]
    assert info["input"]["normalization_in_model"] is False
    session = _session(out)
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert session.get_inputs()[0].shape[1:] == [3, 32, 32]

    loaded = load_model(folder, device="cpu")
    images = _images("image_classification", 3)
    batch = torch.stack([loaded.preprocess(image) for image in images])
    with torch.no_grad():
        expected = loaded.model(batch).numpy()
    for size in (1, 3):
        (logits,) = session.run(None, {"input": batch[:size].numpy()})
        np.testing.assert_allclose(logits, expected[:size], atol=1e-4)
    probs = torch.softmax(torch.from_numpy(logits), 1).tolist()
    azure = loaded.predict(images)
    assert [p["probs"] for p in azure] == [pytest.approx(row, abs=1e-5) for row in probs]


def test_normalization_inside_from_the_hyperparameter(model_dir, tmp_path):
    """``enable_onnx_normalization: 1`` makes the model take RGB scaled to 0-1."""
    folder = model_dir("image_classification_multilabel", enable_onnx_normalization=1)
    out = export_model(folder, "onnx", tmp_path / "onnx", batch_size=2)
    info = json.loads((out / "export.json").read_text())
    assert info["input"]["normalization_in_model"] is True
    assert info["input"]["shape"] == [2, 3, 32, 32]
    assert info["postprocess"] == "sigmoid"
    session = _session(out)
    assert session.get_inputs()[0].shape == [2, 3, 32, 32]

    loaded = load_model(folder, device="cpu")
    images = _images("image_classification_multilabel", 2)
    # What a user without torch does: resize, centre-crop, scale to 0-1; no mean/std.
    raw = []
    for image in images:
        small = image.resize((40, 40), Image.BILINEAR)  # the thumbnails are square
        crop = np.asarray(small.crop((4, 4, 36, 36)), dtype=np.float32) / 255.0
        raw.append(crop.transpose(2, 0, 1))
    (logits,) = session.run(None, {"input": np.stack(raw)})
    probs = 1 / (1 + np.exp(-logits))
    expected = [p["probs"] for p in loaded.predict(images)]
    np.testing.assert_allclose(probs, expected, atol=0.02)  # PIL vs torch resize differ a bit
    # Exactly: the normalised tensor the model folder uses, un-normalised.
    normalised = torch.stack([loaded.preprocess(image) for image in images])
    mean = torch.tensor(info["input"]["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(info["input"]["std"]).view(1, 3, 1, 1)
    (logits,) = session.run(None, {"input": (normalised * std + mean).numpy()})
    with torch.no_grad():
        np.testing.assert_allclose(logits, loaded.model(normalised).numpy(), atol=1e-4)
    # The flag turns it off again.
    plain = export_model(folder, "onnx", tmp_path / "plain", normalization=False)
    assert json.loads((plain / "export.json").read_text())["input"]["shape"][0] == "batch"


def _check_detection(folder: Path, out: Path, task: str, batch_size: int) -> None:
    info = json.loads((out / "export.json").read_text())
    height, width = info["input"]["shape"][2:]
    assert info["input"]["shape"] == [batch_size, 3, height, width]
    assert json.loads((out / "labels.json").read_text()) == ["--bg--", *LABELS]
    session = _session(out)
    assert session.get_inputs()[0].shape == [batch_size, 3, height, width]
    per_image = 4 if task == "image_instance_segmentation" else 3
    names = [o.name for o in session.get_outputs()]
    assert names[:3] == ["boxes_0", "labels_0", "scores_0"]
    assert len(names) == per_image * batch_size

    loaded = load_model(folder, device="cpu")
    images = [im.resize((width, height)) for im in _images(task, batch_size)]
    batch = torch.stack([loaded.preprocess(image) for image in images])
    outputs = session.run(None, {"input": batch.numpy()})
    with torch.no_grad():
        expected = loaded.model(list(batch))
    for i, eager in enumerate(expected):
        boxes, labels, scores = outputs[i * per_image : i * per_image + 3]
        assert len(boxes) == len(eager["boxes"]) > 0
        np.testing.assert_allclose(boxes, eager["boxes"].numpy(), atol=1e-2)
        np.testing.assert_array_equal(labels, eager["labels"].numpy())
        np.testing.assert_allclose(scores, eager["scores"].numpy(), atol=1e-4)
        if per_image == 4:
            masks = outputs[i * per_image + 3]
            assert masks.shape == (len(boxes), 1, height, width)
            np.testing.assert_allclose(masks, eager["masks"].numpy(), atol=1e-3)


def test_detection_fixed_batch_matches_eager(model_dir, tmp_path):
    folder = model_dir("image_object_detection")
    out = export_model(folder, "onnx", tmp_path / "onnx", batch_size=2)
    info = json.loads((out / "export.json").read_text())
    assert info["input"]["shape"] == [2, 3, 64, 85]  # min_size x min(max_size, 4/3 min_size)
    _check_detection(folder, out, "image_object_detection", 2)


@pytest.mark.slow
def test_instance_segmentation_with_masks(model_dir, tmp_path):
    folder = model_dir("image_instance_segmentation")
    out = export_model(folder, "onnx", tmp_path / "onnx", height=72, width=96)
    _check_detection(folder, out, "image_instance_segmentation", 1)


def test_option_errors(model_dir, tmp_path):
    folder = model_dir("image_classification")
    with pytest.raises(ModelError, match="height/width are for detection"):
        export_model(folder, "onnx", tmp_path / "a", height=64)
    with pytest.raises(ModelError, match="batch_size must be >= 1"):
        export_model(folder, "onnx", tmp_path / "b", batch_size=0)
    with pytest.raises(ModelError, match="unknown option"):
        export_model(folder, "onnx", tmp_path / "c", include_code=True)
