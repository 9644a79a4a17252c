from __future__ import annotations

import optuna
import pytest

from automl_nb.config import DEFAULT_MODEL
from automl_nb.config import Uniform
from automl_nb.models import default_model
from automl_nb.models import list_models
from automl_nb.sweep import automode_first_params
from automl_nb.sweep import automode_search_space
from automl_nb.sweep import create_sampler
from automl_nb.sweep import enqueue_hyperparameters
from automl_nb.sweep import memory_tier
from automl_nb.sweep import suggest_parameters
from automl_nb.tasks import Task

optuna.logging.set_verbosity(optuna.logging.WARNING)

MEMORY = [None, 0, 6, 16, 80]


@pytest.mark.parametrize("task", list(Task))
def test_first_trial_is_the_default_model_with_defaults(task) -> None:
    first = automode_first_params(task)
    assert first == {"model_name": DEFAULT_MODEL[task]}
    assert first["model_name"] == default_model(task)


@pytest.mark.parametrize("task", list(Task))
@pytest.mark.parametrize("memory", MEMORY)
def test_portfolio_uses_registered_models_for_the_task(task, memory) -> None:
    space = automode_search_space(task, gpu_memory_gb=memory)
    models = [sub["model_name"] for sub in space]
    assert len(models) == len(set(models)) >= 3
    assert set(models) <= set(list_models(task))
    for sub in space:
        assert isinstance(sub["learning_rate"], Uniform)


def test_tiers() -> None:
    assert [memory_tier(m) for m in MEMORY] == ["cpu", "cpu", "small", "medium", "large"]


def test_cpu_tries_small_models_first_and_gpus_the_default_family() -> None:
    cpu = automode_search_space("image_classification")
    assert cpu[0]["model_name"] == "mobilenetv2"
    assert "vitb16r224" not in [s["model_name"] for s in cpu]
    assert automode_search_space("image_classification", gpu_memory_gb=24)[0]["model_name"] == (
        "vitb16r224"
    )
    assert "vitl16r224" in [
        s["model_name"] for s in automode_search_space("image_classification", gpu_memory_gb=80)
    ]
    det = automode_search_space("image_object_detection")
    assert det[0]["model_name"] == "fasterrcnn_resnet18_fpn"


def test_small_gpus_pin_scaled_batch_sizes() -> None:
    space = automode_search_space("image_classification", gpu_memory_gb=6)
    by_model = {s["model_name"]: s for s in space}
    assert by_model["vitb16r224"]["training_batch_size"] == 24  # 48 for 12 GB
    assert by_model["resnet50"]["training_batch_size"] == 39  # 78 for 12 GB
    det = automode_search_space("image_object_detection", gpu_memory_gb=4)
    assert all(s["training_batch_size"] == 1 for s in det)
    big = automode_search_space("image_classification", gpu_memory_gb=24)
    assert all("training_batch_size" not in s for s in big)


def test_max_trials_keeps_the_highest_priority_sub_spaces() -> None:
    full = automode_search_space("image_instance_segmentation", gpu_memory_gb=16)
    assert (
        automode_search_space("image_instance_segmentation", gpu_memory_gb=16, max_trials=3)
        == (full[:2])
    )
    assert len(automode_search_space("image_classification", max_trials=1)) == 1


@pytest.mark.parametrize("task", list(Task))
def test_portfolio_samples_with_the_default_first(task) -> None:
    space = automode_search_space(task, gpu_memory_gb=16)
    study = optuna.create_study(
        direction="maximize", sampler=create_sampler("random", space, seed=0)
    )
    enqueue_hyperparameters(study, automode_first_params(task), space)
    drawn = []
    for _ in range(12):
        trial = study.ask()
        drawn.append(suggest_parameters(trial, space))
        study.tell(trial, 0.5)
    assert drawn[0] == automode_first_params(task)
    ranges = {s["model_name"]: s["learning_rate"] for s in space}
    for params in drawn[1:]:
        lr = ranges[params["model_name"]]
        assert lr.min_value <= params["learning_rate"] <= lr.max_value
