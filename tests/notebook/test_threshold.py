"""The early-termination line drawn on the dashboard, as the pruners draw it."""

from __future__ import annotations

import pytest

from automl_nb.config import BanditPolicy
from automl_nb.config import MedianStoppingPolicy
from automl_nb.config import TruncationSelectionPolicy
from automl_nb.notebook._threshold import termination_threshold

CURVES = {0: {1: 0.5, 2: 0.8, 3: 0.9}, 1: {1: 0.6, 2: 0.6}, 2: {1: 0.2}}


def test_no_policy_no_line():
    assert termination_threshold(None, CURVES) == []


def test_bandit_slack_factor_follows_the_running_best():
    line = termination_threshold(BanditPolicy(slack_factor=0.25), CURVES)
    assert line == [
        (1, pytest.approx(0.6 / 1.25)),
        (2, pytest.approx(0.8 / 1.25)),
        (3, pytest.approx(0.9 / 1.25)),
    ]


def test_bandit_slack_amount_with_interval_and_delay():
    policy = BanditPolicy(slack_amount=0.1, evaluation_interval=1, delay_evaluation=2)
    assert termination_threshold(policy, CURVES) == [
        (2, pytest.approx(0.7)),
        (3, pytest.approx(0.8)),
    ]
    every_other = BanditPolicy(slack_amount=0.1, evaluation_interval=2)
    assert [s for s, _ in termination_threshold(every_other, CURVES)] == [2]


def test_median_stopping_uses_running_averages():
    line = dict(termination_threshold(MedianStoppingPolicy(), CURVES))
    # step 1: averages 0.5, 0.6, 0.2 -> 0.5; step 2: 0.65, 0.6, 0.2 -> 0.6
    assert line[1] == pytest.approx(0.5)
    assert line[2] == pytest.approx(0.6)


def test_truncation_cuts_the_lowest_percentage_at_each_step():
    line = dict(termination_threshold(TruncationSelectionPolicy(truncation_percentage=40), CURVES))
    # A trial reporting at step 1 is ranked with the 3 plotted: n = 4, floor(4 * 0.4) = 1 cut,
    # so below the 3rd best (0.2) it is stopped; at step 2, with 0.8 and 0.6: n = 3, 1 cut,
    # below the 2nd best (0.6).
    assert line == {1: pytest.approx(0.2), 2: pytest.approx(0.6)}
