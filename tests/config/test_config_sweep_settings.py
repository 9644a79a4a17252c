"""Early-termination policies and sweep settings."""

from __future__ import annotations

import pytest

from automl_nb.config import POLICIES
from automl_nb.config import BanditPolicy
from automl_nb.config import ConfigError
from automl_nb.config import MedianStoppingPolicy
from automl_nb.config import SweepSettings
from automl_nb.config import TruncationSelectionPolicy
from automl_nb.config import dump_job
from automl_nb.config import load_job

HEAD = """task: image_classification
target_column_name: label
training_data: {path: data/train, type: mltable}
"""


@pytest.mark.parametrize(
    ("yaml_text", "policy"),
    [
        (
            "{type: bandit, slack_factor: 0.2, evaluation_interval: 2, delay_evaluation: 6}",
            BanditPolicy(slack_factor=0.2, evaluation_interval=2, delay_evaluation=6),
        ),
        ("{type: Bandit, slack_amount: 0.05}", BanditPolicy(slack_amount=0.05)),
        (
            "{type: median_stopping, evaluation_interval: 1, delay_evaluation: 5}",
            MedianStoppingPolicy(delay_evaluation=5),
        ),
        ("{type: MedianStopping}", MedianStoppingPolicy()),
        (
            "{type: truncation_selection, truncation_percentage: 10, exclude_finished_jobs: 'true'}",
            TruncationSelectionPolicy(truncation_percentage=10, exclude_finished_jobs=True),
        ),
    ],
)
def test_policies_from_yaml(yaml_text, policy):
    spec = load_job(
        HEAD + f"sweep:\n  sampling_algorithm: random\n  early_termination: {yaml_text}\n"
    )
    assert spec.sweep == SweepSettings("random", policy)
    assert load_job(dump_job(spec)) == spec


def test_no_early_termination_by_default():
    spec = load_job(HEAD + "sweep: {sampling_algorithm: grid}\n")
    assert spec.sweep.early_termination is None
    assert load_job(HEAD + "sweep: {sampling_algorithm: grid, early_termination: null}\n") == spec
    assert load_job(HEAD + "sweep: {sampling_algorithm: grid, early_termination: none}\n") == spec


@pytest.mark.parametrize(
    "make",
    [
        lambda: BanditPolicy(),
        lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1),
        lambda: BanditPolicy(slack_factor=-1),
        lambda: BanditPolicy(slack_factor=0.1, evaluation_interval=0),
        lambda: MedianStoppingPolicy(delay_evaluation=-1),
        lambda: TruncationSelectionPolicy(),
        lambda: TruncationSelectionPolicy(truncation_percentage=100),
        lambda: SweepSettings("annealing"),
        lambda: SweepSettings("random", early_termination="bandit"),
    ],
)
def test_invalid_policies(make):
    with pytest.raises(ConfigError):
        make()


def test_to_dict_and_registry():
    assert set(POLICIES) == {"bandit", "median_stopping", "truncation_selection"}
    assert BanditPolicy(slack_amount=0.1).to_dict() == {
        "type": "bandit",
        "slack_amount": 0.1,
        "evaluation_interval": 1,
        "delay_evaluation": 0,
    }
    assert SweepSettings("GRID").to_dict() == {"sampling_algorithm": "grid"}


def test_truncation_needs_percentage_in_yaml():
    with pytest.raises(ConfigError, match="truncation_percentage is required"):
        load_job(
            HEAD + "sweep: {sampling_algorithm: random, early_termination: "
            "{type: truncation_selection}}\n"
        )
