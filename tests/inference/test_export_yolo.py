"""yolov5 export: ONNX (onnxruntime) and TorchScript outputs match the eager model."""

from __future__ import annotations

import json
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
TASK = "image_object_detection"
HYPER = {"image_size": 96, "model_size": "small", "box_score_threshold": 0.1}


def _images(n: int) -> list[Image.Image]:
    """Real fridge images from ../shared/data (random ones where absent)."""
    folder = SHARED_DATA / "odFridgeObjects" / "images"
    images = []
    for path in sorted(folder.glob("*.jpg"))[:n] if folder.is_dir() else []:
        with Image.open(path) as image:
            image.thumbnail((120, 120))
            images.append(image.convert("RGB"))
    rng = np.random.default_rng(0)
    while len(images) < n:
        images.append(Image.fromarray(rng.integers(0, 255, (70, 90, 3), dtype=np.uint8)))
    return images


def _tensor(image: Image.Image):
    from torchvision.transforms.functional import pil_to_tensor

    return pil_to_tensor(image).float() / 255.0


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    from automl_nb.models import create_model

    torch.manual_seed(0)
    model = create_model(
        "yolov5", task=TASK, num_classes=3, pretrained=False, model_size="small", img_size=96
    )
    # Untrained BatchNorm statistics make every cell look alike (and the order of near-equal
    # scores is float noise): take the statistics of real images, as training would.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 1.0
    batch = torch.stack([_tensor(image.resize((96, 96))) for image in _images(4)])
    with torch.no_grad():
        model.train().network(batch)
    model.eval()
    return save_model_dir(
        tmp_path_factory.mktemp("yolo") / "model",
        model=model,
        model_name="yolov5",
        task=TASK,
        labels=LABELS,
        hyperparameters=HYPER,
        model_kwargs={"model_size": "small", "img_size": 96},
    )


def _same(got: dict, expected: dict) -> None:
    assert len(got["boxes"]) == len(expected["boxes"]) > 0
    np.testing.assert_allclose(np.asarray(got["boxes"]), expected["boxes"].numpy(), atol=1e-2)
    np.testing.assert_array_equal(np.asarray(got["labels"]), expected["labels"].numpy())
    np.testing.assert_allclose(np.asarray(got["scores"]), expected["scores"].numpy(), atol=1e-4)


def test_torchscript_matches_eager_on_images_of_any_size(model_dir, tmp_path):
    target = export_model(model_dir, "torchscript", tmp_path / "ts")
    settings = json.loads((target / "settings.json").read_text())
    assert settings["img_size"] == 96 and settings["box_score_thresh"] == 0.1
    scripted = torch.jit.load(str(target / "model.pt"))
    loaded = load_model(model_dir, device="cpu")
    a, b = (loaded.preprocess(image) for image in _images(2))
    b = b[:, :60, :]  # another size and aspect ratio
    with torch.no_grad():
        expected = loaded.model([a, b])
        losses, detections = scripted([a, b])
    assert losses == {} and len(detections) == 2
    for got, eager in zip(detections, expected):
        _same(got, eager)
        assert bool((got["labels"] >= 1).all())


def test_onnx_fixed_batch_matches_eager(model_dir, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    out = export_model(model_dir, "onnx", tmp_path / "onnx", batch_size=2)
    info = json.loads((out / "export.json").read_text())
    assert info["input"]["shape"] == [2, 3, 96, 96]  # img_size square by default
    assert json.loads((out / "labels.json").read_text()) == ["--bg--", *LABELS]
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    assert names == ["boxes_0", "labels_0", "scores_0", "boxes_1", "labels_1", "scores_1"]

    loaded = load_model(model_dir, device="cpu")
    batch = torch.stack([loaded.preprocess(im.resize((96, 96))) for im in _images(2)])
    outputs = session.run(None, {"input": batch.numpy()})
    with torch.no_grad():
        expected = loaded.model(list(batch))
    for i, eager in enumerate(expected):
        boxes, labels, scores = outputs[3 * i : 3 * i + 3]
        _same({"boxes": boxes, "labels": labels, "scores": scores}, eager)
