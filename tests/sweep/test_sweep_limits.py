from __future__ import annotations

import pytest

from automl_nb.config import Limits
from automl_nb.errors import ConfigError
from automl_nb.sweep import effective_concurrency
from automl_nb.sweep import gpu_slots
from automl_nb.sweep import timeout_seconds


@pytest.mark.parametrize(
    ("max_trials", "concurrent", "gpus", "per_trial", "expected"),
    [
        (8, 4, 2, 1, 2),  # capped by free GPU slots
        (8, 4, 8, 1, 4),  # the user's request
        (3, 3, 8, 1, 3),  # capped by max_trials
        (8, 8, 4, 2, 2),  # two GPUs per trial
        (8, 8, 2, 0.5, 4),  # GPU sharing asked for
        (1, 1, 4, 1, 1),
    ],
)
def test_gpu_concurrency(max_trials, concurrent, gpus, per_trial, expected) -> None:
    limits = Limits(max_trials=max_trials, max_concurrent_trials=concurrent)
    assert effective_concurrency(limits, gpu_count=gpus, gpus_per_trial=per_trial) == expected


def test_cpu_runs_one_trial_unless_the_user_asks_for_more() -> None:
    assert effective_concurrency(Limits(max_trials=4), gpu_count=0) == 1
    assert effective_concurrency(Limits(max_trials=4, max_concurrent_trials=2), gpu_count=0) == 2
    assert effective_concurrency(Limits(max_trials=4), gpu_count=0, user_cpu_slots=3) == 3
    assert effective_concurrency(Limits(max_trials=2), gpu_count=0, user_cpu_slots=5) == 2


def test_limits_are_read_by_attribute_with_defaults() -> None:
    assert effective_concurrency(None, gpu_count=4) == 1

    class Partial:
        max_trials = 10

    assert effective_concurrency(Partial(), gpu_count=4) == 1


def test_a_trial_needing_more_gpus_than_exist_is_an_error() -> None:
    with pytest.raises(ConfigError, match="needs 4 GPUs"):
        effective_concurrency(Limits(max_trials=2), gpu_count=2, gpus_per_trial=4)
    with pytest.raises(ConfigError):
        effective_concurrency(Limits(max_trials=2), gpu_count=0, user_cpu_slots=0)


def test_gpu_slots() -> None:
    assert gpu_slots(0) == [""]
    assert gpu_slots(2) == ["0", "1"]
    assert gpu_slots(4, 2) == ["0,1", "2,3"]
    assert gpu_slots(3, 2) == ["0,1"]
    assert gpu_slots(2, 0.5) == ["0", "1", "0", "1"]


def test_timeouts() -> None:
    assert timeout_seconds(Limits()) == (10080 * 60.0, 43200 * 60.0)
    assert timeout_seconds(Limits(timeout_minutes=30, trial_timeout_minutes=5)) == (1800.0, 300.0)
