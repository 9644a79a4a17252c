"""Slots of multi-process trials: each takes the GPUs its processes need."""

from __future__ import annotations

import pytest

from automl_nb.config import load_job
from automl_nb.errors import ConfigError
from automl_nb.runner._slots import gpus_per_trial
from automl_nb.runner._slots import plan_slots

HEAD = "type: automl\ntask: image_classification\ntarget_column_name: label\n"
HEAD += "training_data: {path: train.jsonl, type: uri_file}\n"


def test_a_trial_takes_as_many_gpus_as_it_has_processes():
    slots = plan_slots(
        max_trials=8, max_concurrent_trials=4, compute="cuda:0,1,2,3", gpus_per_trial=2
    )
    assert [(s.name, s.cuda_devices) for s in slots] == [("gpu:0,1", "0,1"), ("gpu:2,3", "2,3")]
    every = plan_slots(
        max_trials=8, max_concurrent_trials=4, compute="cuda:0,1,2", gpus_per_trial=0
    )
    assert [s.cuda_devices for s in every] == ["0,1,2"]
    with pytest.raises(ConfigError, match="asks for 3 processes"):
        plan_slots(max_trials=2, max_concurrent_trials=1, compute="cuda:0,1", gpus_per_trial=3)
    # On CPU the processes share the slot's cores.
    assert (
        len(plan_slots(max_trials=2, max_concurrent_trials=1, compute="cpu", gpus_per_trial=2))
        == 1
    )


@pytest.mark.parametrize(
    ("training", "expected"),
    [
        ("{}", 1),
        ("{distributed: true}", 0),
        ("{advanced_settings: '{\"processes_per_trial\": 2}'}", 2),
    ],
)
def test_gpus_per_trial_reads_the_job(training, expected):
    assert gpus_per_trial(load_job(HEAD + f"training_parameters: {training}\n")) == expected


def test_processes_per_trial_must_be_a_positive_integer():
    bad = HEAD + "training_parameters: {advanced_settings: '{\"processes_per_trial\": 0}'}\n"
    with pytest.raises(ConfigError, match="processes_per_trial"):
        load_job(bad)
