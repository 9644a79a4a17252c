"""Azure's image notebooks' job cells, run with only their import lines changed.

The cells below are copied from Azure/azureml-examples (MIT licence),
sdk/python/jobs/automl-standalone-jobs/automl-image-*-task-fridge-items/*.ipynb; each import
``from azure.ai.ml... import X`` reads ``from automl_nb.azure import X``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from automl_nb.config import load_job

IMPORTS = """
from automl_nb.azure import SearchSpace, ClassificationPrimaryMetrics
from automl_nb.azure import ClassificationMultilabelPrimaryMetrics
from automl_nb.azure import ObjectDetectionPrimaryMetrics, InstanceSegmentationPrimaryMetrics
from automl_nb.azure import (
    Choice,
    Uniform,
    BanditPolicy,
)
from automl_nb.azure import automl
from automl_nb.azure import AssetTypes, InputOutputModes
from automl_nb.azure import Input
"""

# Setup the notebooks do in earlier cells (workspace, compute, data folders).
SETUP = """
exp_name = "dpv2-image-experiment"
compute_name = "gpu-cluster"
training_mltable_path = "./data/training-mltable-folder"
validation_mltable_path = "./data/validation-mltable-folder"
my_training_data_input = Input(type=AssetTypes.MLTABLE, path=training_mltable_path)
my_validation_data_input = Input(type=AssetTypes.MLTABLE, path=validation_mltable_path)
"""

# Multi-class notebook, cell 43 (sweep).
MULTICLASS_SWEEP = """
image_classification_job = automl.image_classification(
    compute=compute_name,
    # name="dpv2-image-classification-job-02",
    experiment_name=exp_name,
    training_data=my_training_data_input,
    validation_data=my_validation_data_input,
    target_column_name="label",
    primary_metric=ClassificationPrimaryMetrics.ACCURACY,
    tags={"my_custom_tag": "My custom value"},
)

image_classification_job.set_limits(
    timeout_minutes=60,
    max_trials=10,
    max_concurrent_trials=2,
)

image_classification_job.extend_search_space(
    [
        SearchSpace(
            model_name=Choice(["vitb16r224", "vits16r224"]),
            learning_rate=Uniform(0.001, 0.01),
            number_of_epochs=Choice([15, 30]),
        ),
        SearchSpace(
            model_name=Choice(["seresnext", "resnet50"]),
            learning_rate=Uniform(0.001, 0.01),
            layers_to_freeze=Choice([0, 2]),
        ),
    ]
)

image_classification_job.set_sweep(
    sampling_algorithm="Random",
    early_termination=BanditPolicy(
        evaluation_interval=2, slack_factor=0.2, delay_evaluation=6
    ),
)
job = image_classification_job
"""

MULTICLASS_SWEEP_YAML = """
experiment_name: dpv2-image-experiment
compute: gpu-cluster
tags: {my_custom_tag: My custom value}
task: image_classification
primary_metric: accuracy
target_column_name: label
training_data: {path: ./data/training-mltable-folder, type: mltable}
validation_data: {path: ./data/validation-mltable-folder, type: mltable}
limits: {timeout_minutes: 60, max_trials: 10, max_concurrent_trials: 2}
sweep:
  sampling_algorithm: random
  early_termination: {type: bandit, evaluation_interval: 2, slack_factor: 0.2, delay_evaluation: 6}
search_space:
  - model_name: {type: choice, values: [vitb16r224, vits16r224]}
    learning_rate: {type: uniform, min_value: 0.001, max_value: 0.01}
    number_of_epochs: {type: choice, values: [15, 30]}
  - model_name: {type: choice, values: [seresnext, resnet50]}
    learning_rate: {type: uniform, min_value: 0.001, max_value: 0.01}
    layers_to_freeze: {type: choice, values: [0, 2]}
"""

# Multi-label notebook, cell 38 (a Hugging Face model by its hub id).
MULTILABEL_HF = """
image_classification_multilabel_job = automl.image_classification_multilabel(
    compute=compute_name,
    experiment_name=exp_name,
    training_data=my_training_data_input,
    validation_data=my_validation_data_input,
    target_column_name="label",
)

image_classification_multilabel_job.set_limits(timeout_minutes=120)

image_classification_multilabel_job.set_training_parameters(
    model_name="microsoft/beit-base-patch16-224-pt22k-ft22k"
)
job = image_classification_multilabel_job
"""

MULTILABEL_HF_YAML = """
experiment_name: dpv2-image-experiment
compute: gpu-cluster
task: image_classification_multilabel
target_column_name: label
training_data: {path: ./data/training-mltable-folder, type: mltable}
validation_data: {path: ./data/validation-mltable-folder, type: mltable}
limits: {timeout_minutes: 120}
training_parameters: {model_name: microsoft/beit-base-patch16-224-pt22k-ft22k}
"""

# Multi-label notebook, cell 42 (sweep).
MULTILABEL_SWEEP = """
image_classification_multilabel_job = automl.image_classification_multilabel(
    compute=compute_name,
    # name="dpv2-image-classif-multi-label-job-02",
    experiment_name=exp_name,
    training_data=my_training_data_input,
    validation_data=my_validation_data_input,
    target_column_name="label",
    primary_metric=ClassificationMultilabelPrimaryMetrics.IOU,
    tags={"my_custom_tag": "My custom value"},
)

image_classification_multilabel_job.set_limits(
    timeout_minutes=120,
    max_trials=10,
    max_concurrent_trials=2,
)

image_classification_multilabel_job.extend_search_space(
    [
        SearchSpace(
            model_name=Choice(["vitb16r224"]),
            learning_rate=Uniform(0.005, 0.05),
            number_of_epochs=Choice([15, 30]),
            gradient_accumulation_step=Choice([1, 2]),
        ),
        SearchSpace(
            model_name=Choice(["seresnext"]),
            learning_rate=Uniform(0.005, 0.05),
            # model-specific, valid_resize_size should be larger or equal than valid_crop_size
            validation_resize_size=Choice([288, 320, 352]),
            validation_crop_size=Choice([224, 256]),  # model-specific
            training_crop_size=Choice([224, 256]),  # model-specific
        ),
    ]
)

image_classification_multilabel_job.set_sweep(
    sampling_algorithm="Random",
    early_termination=BanditPolicy(
        evaluation_interval=2, slack_factor=0.2, delay_evaluation=6
    ),
)
job = image_classification_multilabel_job
"""

MULTILABEL_SWEEP_YAML = """
experiment_name: dpv2-image-experiment
compute: gpu-cluster
tags: {my_custom_tag: My custom value}
task: image_classification_multilabel
primary_metric: iou
target_column_name: label
training_data: {path: ./data/training-mltable-folder, type: mltable}
validation_data: {path: ./data/validation-mltable-folder, type: mltable}
limits: {timeout_minutes: 120, max_trials: 10, max_concurrent_trials: 2}
sweep:
  sampling_algorithm: random
  early_termination: {type: bandit, evaluation_interval: 2, slack_factor: 0.2, delay_evaluation: 6}
search_space:
  - model_name: {type: choice, values: [vitb16r224]}
    learning_rate: {type: uniform, min_value: 0.005, max_value: 0.05}
    number_of_epochs: {type: choice, values: [15, 30]}
    gradient_accumulation_step: {type: choice, values: [1, 2]}
  - model_name: {type: choice, values: [seresnext]}
    learning_rate: {type: uniform, min_value: 0.005, max_value: 0.05}
    validation_resize_size: {type: choice, values: [288, 320, 352]}
    validation_crop_size: {type: choice, values: [224, 256]}
    training_crop_size: {type: choice, values: [224, 256]}
"""

# Object detection notebook, cells 47-51 (sweep).
DETECTION_SWEEP = """
image_object_detection_job = automl.image_object_detection(
    compute=compute_name,
    experiment_name=exp_name,
    training_data=my_training_data_input,
    validation_data=my_validation_data_input,
    target_column_name="label",
    primary_metric=ObjectDetectionPrimaryMetrics.MEAN_AVERAGE_PRECISION,
    tags={"my_custom_tag": "My custom value"},
)
image_object_detection_job.set_limits(
    timeout_minutes=60,
    max_trials=10,
    max_concurrent_trials=2,
)
image_object_detection_job.set_training_parameters(
    early_stopping=True, evaluation_frequency=1
)
image_object_detection_job.set_sweep(
    sampling_algorithm="random",
    early_termination=BanditPolicy(
        evaluation_interval=2, slack_factor=0.2, delay_evaluation=6
    ),
)
image_object_detection_job.extend_search_space(
    [
        SearchSpace(
            model_name=Choice(["yolov5"]),
            learning_rate=Uniform(0.0001, 0.01),
            model_size=Choice(["small", "medium"]),  # model-specific
            # image_size=Choice([640, 704, 768]),  # model-specific; might need GPU with large memory
        ),
        SearchSpace(
            model_name=Choice(["fasterrcnn_resnet50_fpn"]),
            learning_rate=Uniform(0.0001, 0.001),
            optimizer=Choice(["sgd", "adam", "adamw"]),
            min_size=Choice([600, 800]),  # model-specific
            # warmup_cosine_lr_warmup_epochs=Choice([0, 3]),
        ),
    ]
)
job = image_object_detection_job
"""

DETECTION_SWEEP_YAML = """
experiment_name: dpv2-image-experiment
compute: gpu-cluster
tags: {my_custom_tag: My custom value}
task: image_object_detection
primary_metric: mean_average_precision
target_column_name: label
training_data: {path: ./data/training-mltable-folder, type: mltable}
validation_data: {path: ./data/validation-mltable-folder, type: mltable}
limits: {timeout_minutes: 60, max_trials: 10, max_concurrent_trials: 2}
training_parameters: {early_stopping: true, evaluation_frequency: 1}
sweep:
  sampling_algorithm: random
  early_termination: {type: bandit, evaluation_interval: 2, slack_factor: 0.2, delay_evaluation: 6}
search_space:
  - model_name: {type: choice, values: [yolov5]}
    learning_rate: {type: uniform, min_value: 0.0001, max_value: 0.01}
    model_size: {type: choice, values: [small, medium]}
  - model_name: {type: choice, values: [fasterrcnn_resnet50_fpn]}
    learning_rate: {type: uniform, min_value: 0.0001, max_value: 0.001}
    optimizer: {type: choice, values: [sgd, adam, adamw]}
    min_size: {type: choice, values: [600, 800]}
"""

# Instance segmentation notebook, cell 33 (AutoMode, the metric spelled as Azure's enum value).
SEGMENTATION_AUTOMODE = """
image_instance_segmentation_job = automl.image_instance_segmentation(
    compute=compute_name,
    # name="dpv2-image-instance-segmentation-job-02",
    experiment_name=exp_name,
    training_data=my_training_data_input,
    validation_data=my_validation_data_input,
    target_column_name="label",
    primary_metric="MeanAveragePrecision",
    tags={"my_custom_tag": "My custom value"},
)

image_instance_segmentation_job.set_limits(
    max_trials=10,
    max_concurrent_trials=2,
)
job = image_instance_segmentation_job
"""

SEGMENTATION_AUTOMODE_YAML = """
experiment_name: dpv2-image-experiment
compute: gpu-cluster
tags: {my_custom_tag: My custom value}
task: image_instance_segmentation
primary_metric: mean_average_precision
target_column_name: label
training_data: {path: ./data/training-mltable-folder, type: mltable}
validation_data: {path: ./data/validation-mltable-folder, type: mltable}
limits: {max_trials: 10, max_concurrent_trials: 2}
"""

CASES = {
    "multiclass_sweep": (MULTICLASS_SWEEP, MULTICLASS_SWEEP_YAML),
    "multilabel_hf": (MULTILABEL_HF, MULTILABEL_HF_YAML),
    "multilabel_sweep": (MULTILABEL_SWEEP, MULTILABEL_SWEEP_YAML),
    "detection_sweep": (DETECTION_SWEEP, DETECTION_SWEEP_YAML),
    "segmentation_automode": (SEGMENTATION_AUTOMODE, SEGMENTATION_AUTOMODE_YAML),
}


def _run_cell(cell: str) -> object:
    namespace: dict[str, object] = {}
    exec(compile(IMPORTS + SETUP + cell, "<notebook cell>", "exec"), namespace)  # noqa: S102
    return namespace["job"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_notebook_cell_gives_the_yaml_spec(case: str) -> None:
    cell, yaml_text = CASES[case]
    job = _run_cell(cell)
    assert job.to_spec() == load_job(yaml_text)
    # And back: the builder's YAML loads to the same spec.
    assert load_job(job.to_yaml()) == job.to_spec()


def test_enum_values_mirror_azure() -> None:
    from automl_nb.azure import AssetTypes
    from automl_nb.azure import ClassificationMultilabelPrimaryMetrics
    from automl_nb.azure import ClassificationPrimaryMetrics
    from automl_nb.azure import InputOutputModes
    from automl_nb.azure import ObjectDetectionPrimaryMetrics

    assert ClassificationPrimaryMetrics.ACCURACY.value == "Accuracy"
    assert ClassificationMultilabelPrimaryMetrics.IOU.value == "IOU"
    assert ObjectDetectionPrimaryMetrics.MEAN_AVERAGE_PRECISION.value == "MeanAveragePrecision"
    assert (AssetTypes.MLTABLE, AssetTypes.URI_FILE) == ("mltable", "uri_file")
    assert InputOutputModes.DIRECT == "direct"


def test_a_metric_azure_images_do_not_take_is_a_config_error() -> None:
    from automl_nb.errors import ConfigError

    cell = MULTICLASS_SWEEP.replace("ACCURACY", "AUC_WEIGHTED")
    with pytest.raises(ConfigError, match="primary_metric"):
        _run_cell(cell)


def test_search_space_typo_is_reported_with_a_suggestion() -> None:
    from automl_nb.azure import SearchSpace
    from automl_nb.errors import ConfigError

    with pytest.raises(ConfigError, match="learning_rate"):
        SearchSpace(learnin_rate=0.01)


def test_importing_the_sdk_surface_imports_no_torch() -> None:
    code = "import sys, automl_nb.azure; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
