"""Hugging Face image classifiers as model_name: a tiny random ViT saved with save_pretrained
(no download), trained for one trial, predicted and explained from its model folder; the
offline and missing-extra errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

transformers = pytest.importorskip("transformers")

from automl_nb.config import load_job  # noqa: E402
from automl_nb.errors import ModelError  # noqa: E402
from automl_nb.models import create_model  # noqa: E402
from automl_nb.models import freeze_layers  # noqa: E402
from automl_nb.models import get_model_cfg  # noqa: E402
from automl_nb.models import is_model  # noqa: E402
from automl_nb.models import resolve_layer  # noqa: E402
from automl_nb.testing.datasets import make_classification_jsonl  # noqa: E402

TASK = "image_classification"
HUB_ID = "google/vit-base-patch16-224"


def _tiny_vit_config() -> object:
    return transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
    )


@pytest.fixture(scope="module")
def vit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random ViT and its image processor, written as a user's save_pretrained folder."""
    folder = tmp_path_factory.mktemp("tiny-vit")
    torch.manual_seed(0)
    transformers.ViTForImageClassification(_tiny_vit_config()).save_pretrained(folder)
    transformers.ViTImageProcessor(
        size={"height": 32, "width": 32}, image_mean=[0.4, 0.45, 0.5], image_std=[0.2, 0.25, 0.3]
    ).save_pretrained(folder)
    return folder


def test_cfg_comes_from_the_processor_and_the_architecture(vit_dir: Path) -> None:
    cfg = get_model_cfg(str(vit_dir), TASK)
    assert cfg.family == "hf" and cfg.tasks[1].value == "image_classification_multilabel"
    assert cfg.input_size == (3, 32, 32)
    assert cfg.mean == (0.4, 0.45, 0.5) and cfg.std == (0.2, 0.25, 0.3)
    assert cfg.fixed_input_size and cfg.vit_tokens and cfg.num_prefix_tokens == 1
    assert cfg.defaults["training_crop_size"] == 32 and cfg.defaults["validation_crop_size"] == 32
    # Embeddings, then one entry per transformer block.
    assert len(cfg.layer_groups) == 3
    model = create_model(str(vit_dir), task=TASK, num_classes=4, pretrained=False)
    assert isinstance(resolve_layer(model, cfg.gradcam_layer), torch.nn.LayerNorm)
    frozen = freeze_layers(model, cfg, 2)
    assert frozen and all("embeddings" in n or "layers.0." in n for n in frozen)
    assert all(p.requires_grad for n, p in model.named_parameters() if "classifier" in n)


def test_model_returns_logits_and_loads_the_saved_weights(vit_dir: Path) -> None:
    saved = transformers.ViTForImageClassification.from_pretrained(vit_dir)
    model = create_model(f"hf:{vit_dir}", task=TASK, num_classes=5, pretrained=True).eval()
    images = torch.rand(2, 3, 32, 32)
    assert model(images).shape == (2, 5)
    # The body is the saved one; only the head is new (5 classes instead of 3).
    body = dict(model.model.vit.named_parameters())
    for name, param in saved.vit.named_parameters():
        assert torch.equal(body[name], param), name
    assert model.model.classifier.out_features == 5


def test_other_crop_sizes_interpolate_position_embeddings(vit_dir: Path) -> None:
    model = create_model(str(vit_dir), task=TASK, num_classes=2, pretrained=False, img_size=48)
    assert model(torch.rand(1, 3, 48, 48)).shape == (1, 2)


def test_names_are_resolved_after_the_registry(vit_dir: Path) -> None:
    assert is_model(str(vit_dir)) and is_model(f"hf:{vit_dir}") and is_model(HUB_ID)
    assert get_model_cfg("resnet18", TASK).family == "timm"
    with pytest.raises(ModelError, match="unknown model_name 'mmd-3x-"):
        get_model_cfg("mmd-3x-mask-rcnn_swin-t-p4-w7_fpn_1x_coco", "image_instance_segmentation")
    with pytest.raises(ModelError, match="Hugging Face image classifier; image_object_detection"):
        get_model_cfg(str(vit_dir), "image_object_detection")


def test_hub_id_offline_says_how_to_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as info:
        get_model_cfg(HUB_ID, TASK)
    text = str(info.value)
    assert f"the Hugging Face model '{HUB_ID}' cannot be had" in text
    assert "HF_HUB_OFFLINE is set" in text and "models--google--vit-base-patch16-224" in text
    assert "save_pretrained" in text and '"use_pretrained": false' in text


def test_config_only_folder_trains_from_scratch_not_pretrained(tmp_path: Path) -> None:
    _tiny_vit_config().save_pretrained(tmp_path)  # config.json, no weights
    model = create_model(str(tmp_path), task=TASK, num_classes=3, pretrained=False)
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 3)
    with pytest.raises(ModelError, match="pretrained weights of the Hugging Face model .*"):
        create_model(str(tmp_path), task=TASK, num_classes=3, pretrained=True)


def test_without_the_extra_the_error_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # `import transformers` fails
    with pytest.raises(ModelError, match=r"pip install automl-nb\[hf\]"):
        get_model_cfg(HUB_ID, TASK)


@pytest.mark.slow
def test_trial_trains_predicts_and_explains_from_the_model_folder(
    vit_dir: Path, tmp_path: Path
) -> None:
    from automl_nb.explain import explain
    from automl_nb.inference import load_model
    from automl_nb.training import run_trial

    data = tmp_path / "data"
    make_classification_jsonl(data, n=12, size=32, classes=("red", "green"), name="train.jsonl")
    make_classification_jsonl(
        data / "val", n=4, size=32, classes=("red", "green"), name="valid.jsonl", seed=1
    )
    spec = load_job(
        {
            "task": TASK,
            "target_column_name": "label",
            "compute": "cpu",
            "training_data": {"path": str(data / "train.jsonl"), "type": "uri_file"},
            "validation_data": {"path": str(data / "val" / "valid.jsonl"), "type": "uri_file"},
            "training_parameters": {
                "model_name": str(vit_dir),
                "number_of_epochs": 1,
                "training_batch_size": 4,
                "validation_batch_size": 4,
                "optimizer": "adamw",
                "learning_rate": 0.001,
                "layers_to_freeze": 1,
                "random_seed": 0,
            },
        }
    )
    result = run_trial(spec, {}, tmp_path / "trial")
    assert result.status == "completed" and result.epochs == 1
    model = load_model(tmp_path / "trial" / "model", device="cpu")
    images = sorted(str(p) for p in (data / "val" / "images").iterdir())
    (prediction,) = model.predict(images[:1])
    assert prediction["labels"] == ["green", "red"]
    assert abs(sum(prediction["probs"]) - 1.0) < 1e-5
    (explained,) = explain(model, images[0], algorithm="guided_gradcam", attributions=True)
    assert len(explained["attributions"]) == 3 and len(explained["attributions"][0]) == 32
