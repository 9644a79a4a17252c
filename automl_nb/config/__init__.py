"""The job spec: Azure ML AutoML-for-Images job YAML as typed, validated Python values.

Load a job with :func:`load_job` (file, YAML text or mapping), build one cell by cell with
:class:`JobDraft`, or with the Azure SDK v2 style builders (:func:`image_classification`,
``set_limits``, ``set_training_parameters``, ``extend_search_space``, ``set_sweep``). v1 and v2
names are both accepted; output uses v2 names. Every problem is a located
:class:`~automl_nb.errors.ConfigError` naming file, line, key path and value.

Importing this package does not import torch.
"""

from __future__ import annotations

from automl_nb.config._builders import ImageClassificationSearchSpace
from automl_nb.config._builders import ImageJob
from automl_nb.config._builders import ImageObjectDetectionSearchSpace
from automl_nb.config._builders import image_classification
from automl_nb.config._builders import image_classification_multilabel
from automl_nb.config._builders import image_instance_segmentation
from automl_nb.config._builders import image_object_detection
from automl_nb.config._distributions import DISTRIBUTIONS
from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Distribution
from automl_nb.config._distributions import LogNormal
from automl_nb.config._distributions import LogUniform
from automl_nb.config._distributions import Normal
from automl_nb.config._distributions import QLogNormal
from automl_nb.config._distributions import QLogUniform
from automl_nb.config._distributions import QNormal
from automl_nb.config._distributions import QUniform
from automl_nb.config._distributions import Randint
from automl_nb.config._distributions import Uniform
from automl_nb.config._draft import JobDraft
from automl_nb.config._job import DataInput
from automl_nb.config._job import Input
from automl_nb.config._job import JobSpec
from automl_nb.config._job import Limits
from automl_nb.config._load import dump_job
from automl_nb.config._load import load_job
from automl_nb.config._load import parse_set_option
from automl_nb.config._names import SETTINGS_NAMES
from automl_nb.config._names import TRAINING_ALIASES
from automl_nb.config._names import canonical_parameter_name
from automl_nb.config._names import settings_name
from automl_nb.config._parameters import DEFAULT_MODEL
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.config._parameters import TrainingParameters
from automl_nb.config._parameters import default_training_parameters
from automl_nb.config._search_space import parse_expression
from automl_nb.config._sweep_settings import POLICIES
from automl_nb.config._sweep_settings import BanditPolicy
from automl_nb.config._sweep_settings import MedianStoppingPolicy
from automl_nb.config._sweep_settings import SweepSettings
from automl_nb.config._sweep_settings import TruncationSelectionPolicy
from automl_nb.config._trial import AdvancedSettings
from automl_nb.config._trial import TrialConfig
from automl_nb.config._trial import canonical_parameters
from automl_nb.config._trial import resolve_trial_config
from automl_nb.config._trial import select_model_name
from automl_nb.config._validate import JOB_KEYS
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

__all__ = [
    "DEFAULT_MODEL",
    "DISTRIBUTIONS",
    "JOB_KEYS",
    "POLICIES",
    "SETTINGS_NAMES",
    "TRAINING_ALIASES",
    "TRAINING_FIELDS",
    "AdvancedSettings",
    "BanditPolicy",
    "Choice",
    "ConfigError",
    "DataInput",
    "Distribution",
    "ImageClassificationSearchSpace",
    "ImageJob",
    "ImageObjectDetectionSearchSpace",
    "Input",
    "JobDraft",
    "JobSpec",
    "Limits",
    "LogNormal",
    "LogUniform",
    "MedianStoppingPolicy",
    "Normal",
    "Problem",
    "QLogNormal",
    "QLogUniform",
    "QNormal",
    "QUniform",
    "Randint",
    "SweepSettings",
    "TrainingParameters",
    "TrialConfig",
    "TruncationSelectionPolicy",
    "Uniform",
    "canonical_parameter_name",
    "canonical_parameters",
    "default_training_parameters",
    "dump_job",
    "image_classification",
    "image_classification_multilabel",
    "image_instance_segmentation",
    "image_object_detection",
    "load_job",
    "parse_expression",
    "parse_set_option",
    "resolve_trial_config",
    "select_model_name",
    "settings_name",
]
