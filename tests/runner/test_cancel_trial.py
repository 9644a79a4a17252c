"""Cancelling one trial of a real sweep: honoured before its first epoch, and the job is
then canceled, not failed."""

from __future__ import annotations

import json

import pytest

from automl_nb.runner import submit
from tests.runner.test_sweep_jobs import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_cancel_before_the_first_epoch_stops_the_trial_and_cancels_the_job(write_job, workspace):
    job = submit(str(write_job("limits: {max_trials: 1}\n", epochs=40)), workspace=workspace)
    trial_dir = job.dir / "trials" / "0"
    progress = trial_dir / "progress.json"
    # The trial shows a sign of life from its first batch, long before an epoch ends.
    first = wait_for(
        lambda: progress.exists() and json.loads(progress.read_text() or "{}"), what="progress"
    )
    assert first["epoch"] == 1 and first["epochs"] == 40
    job.cancel(0)
    assert job.wait(timeout=120) == "canceled"
    trial = job.trials()[0]
    assert trial.state == "canceled"
    # Stopped at once: far fewer than the 40 planned epochs.
    assert len(trial.metrics) <= 3
