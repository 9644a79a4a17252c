"""SDK-style builders produce the same JobSpec as the equivalent YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl_nb.config import BanditPolicy
from automl_nb.config import Choice
from automl_nb.config import ConfigError
from automl_nb.config import ImageClassificationSearchSpace
from automl_nb.config import ImageObjectDetectionSearchSpace
from automl_nb.config import Input
from automl_nb.config import MedianStoppingPolicy
from automl_nb.config import QUniform
from automl_nb.config import TruncationSelectionPolicy
from automl_nb.config import Uniform
from automl_nb.config import image_classification
from automl_nb.config import image_classification_multilabel
from automl_nb.config import image_instance_segmentation
from automl_nb.config import image_object_detection
from automl_nb.config import load_job

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "jobs"


def _common(**extra):
    return dict(
        training_data=Input(type="mltable", path="data/training-mltable-folder"),
        validation_data=Input(type="mltable", path="data/validation-mltable-folder"),
        target_column_name="label",
        compute="azureml:gpu-cluster",
        log_verbosity="debug",
        **extra,
    )


def test_object_detection_builder_equals_the_azure_yaml():
    job = image_object_detection(
        **_common(
            primary_metric="MeanAveragePrecision",
            experiment_name="dpv2-cli-automl-image-object-detection-experiment",
            description="An Image Object Detection job using fridge items dataset",
        )
    )
    job.set_limits(timeout_minutes=60, max_trials=10, max_concurrent_trials=2)
    job.set_training_parameters(early_stopping=True, evaluation_frequency=1)
    job.extend_search_space(
        [
            ImageObjectDetectionSearchSpace(
                model_name=Choice(["yolov5"]),
                learning_rate=Uniform(0.0001, 0.01),
                model_size=Choice(["small", "medium"]),
            ),
            ImageObjectDetectionSearchSpace(
                model_name=Choice(["fasterrcnn_resnet50_fpn"]),
                learning_rate=Uniform(0.0001, 0.001),
                optimizer=Choice(["sgd", "adam", "adamw"]),
                min_size=Choice([600, 800]),
            ),
        ]
    )
    job.set_sweep(
        sampling_algorithm="random",
        early_termination=BanditPolicy(
            evaluation_interval=2, slack_factor=0.2, delay_evaluation=6
        ),
    )
    assert job.to_spec() == load_job(EXAMPLES / "azure-image-object-detection.yml")
    assert load_job(job.to_yaml()) == job.to_spec()


def test_classification_builder_equals_the_string_expression_yaml():
    job = image_classification(
        **_common(
            primary_metric="accuracy",
            experiment_name="dpv2-cli-automl-image-classification-experiment",
            description="A multi-class Image classification job using fridge items dataset",
        )
    )
    job.set_limits(timeout_minutes=60, max_trials=10, max_concurrent_trials=2)
    job.set_training_parameters(early_stopping=1, evaluation_frequency=1)
    job.extend_search_space(
        ImageClassificationSearchSpace(
            model_name=Choice(["vitb16r224", "vits16r224"]),
            learning_rate=Uniform(0.001, 0.01),
            number_of_epochs=Choice([15, 30]),
        )
    )
    job.extend_search_space(
        {
            "model_name": Choice(values=["seresnext", "resnet50"]),
            "learning_rate": Uniform(min_value=0.001, max_value=0.01),
            "layers_to_freeze": Choice(values=[0, 2]),
        }
    )
    job.set_sweep(
        sampling_algorithm="random",
        early_termination=BanditPolicy(
            slack_factor=0.2, evaluation_interval=2, delay_evaluation=6
        ),
    )
    expected = load_job(EXAMPLES / "azure-image-classification-string-expressions.yml")
    assert job.to_spec() == expected
    assert len(job.search_space) == 2 and job.limits.max_trials == 10


def test_automode_builder():
    job = image_object_detection(
        **_common(
            experiment_name="dpv2-cli-automl-image-object-detection-automode-experiment",
            description="An Image Object Detection job in AutoMode using fridge items dataset",
            primary_metric="mean_average_precision",
        )
    ).set_limits(max_trials=10, max_concurrent_trials=2)
    spec = job.to_spec()
    assert spec == load_job(EXAMPLES / "azure-image-object-detection-automode.yml")
    assert spec.is_automode


@pytest.mark.parametrize(
    ("factory", "metric"),
    [
        (image_classification, "accuracy"),
        (image_classification_multilabel, "iou"),
        (image_object_detection, "mean_average_precision"),
        (image_instance_segmentation, "mean_average_precision"),
    ],
)
def test_every_builder(factory, metric):
    job = factory(training_data=Input(path="data/train"), target_column_name="label")
    spec = job.to_spec()
    assert spec.primary_metric == metric
    assert job.task is spec.task
    assert repr(job).startswith("ImageJob(")


def test_setters_validate_at_once_and_keep_state():
    job = image_instance_segmentation(training_data="data/t", target_column_name="label")
    job.set_training_parameters(learning_rate=0.01)
    with pytest.raises(ConfigError) as info:
        job.set_training_parameters(learning_rat=0.02)
    assert info.value.problems[0].suggestion == "learning_rate"
    with pytest.raises(ConfigError):
        job.set_training_parameters(model_size="small")  # yolov5 only
    with pytest.raises(ConfigError):
        job.set_limits(max_trials=2000)
    with pytest.raises(ConfigError):
        job.set_sweep(sampling_algorithm="annealing")
    assert job.training_parameters.to_dict() == {"learning_rate": 0.01}
    assert job.limits.max_trials == 1 and job.sweep is None
    job.set_training_parameters(box_score_thresh=0.2, mask_pixel_score_threshold=0.4)
    assert job.training_parameters.learning_rate == 0.01
    assert job.training_parameters.box_score_threshold == 0.2


def test_search_space_objects_check_names_per_task():
    with pytest.raises(ConfigError) as info:
        ImageClassificationSearchSpace(learning_rat=Uniform(0.1, 0.2))
    assert info.value.problems[0].suggestion == "learning_rate"
    with pytest.raises(ConfigError):
        ImageClassificationSearchSpace(min_size=Choice([600]))
    space = ImageObjectDetectionSearchSpace(min_size=QUniform(600, 800, 32), box_score_thresh=0.2)
    assert space.to_dict() == {"min_size": QUniform(600, 800, 32), "box_score_thresh": 0.2}
    assert space == ImageObjectDetectionSearchSpace(
        min_size=QUniform(600, 800, 32), box_score_thresh=0.2
    )
    job = image_classification(training_data="d", target_column_name="label")
    with pytest.raises(ConfigError, match="does not apply"):
        job.extend_search_space({"min_size": Choice([600])})
    assert job.search_space == ()


def test_policies_in_set_sweep():
    job = image_classification(training_data="d", target_column_name="label")
    job.set_sweep(sampling_algorithm="Bayesian", early_termination=MedianStoppingPolicy())
    assert job.sweep.sampling_algorithm == "bayesian"
    job.set_sweep(
        sampling_algorithm="grid",
        early_termination=TruncationSelectionPolicy(truncation_percentage=20),
    )
    assert job.sweep.early_termination.truncation_percentage == 20
    job.set_sweep(sampling_algorithm="random")
    assert job.sweep.early_termination is None


def test_builder_argument_errors():
    with pytest.raises(ConfigError) as info:
        image_classification(training_data="d", target_column_name="label", experiment="x")
    assert info.value.problems[0].suggestion == "experiment_name"
    with pytest.raises(ConfigError, match="accuracy"):
        image_classification(training_data="d", target_column_name="label", primary_metric="iou")
    with pytest.raises(ConfigError):
        image_classification(training_data=Input(type="csv", path="d"), target_column_name="l")
