"""The live dashboard on a real running job: what it shows, its cancel button, and a bounded
number of messages to the frontend."""

from __future__ import annotations

import time

import pytest

from automl_nb.notebook._state import STATE
from automl_nb.notebook.widgets import Dashboard
from automl_nb.runner import submit

SWEEP = (
    "sweep:\n"
    "  sampling_algorithm: grid\n"
    "  early_termination: {type: bandit, slack_amount: 0.5}\n"
    "search_space:\n"
    "  - learning_rate: {type: choice, values: [0.01, 0.001]}\n"
)


def _wait_for(condition, timeout: float, poll: float = 0.2) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if condition():
            return True
        time.sleep(poll)
    return False


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_dashboard_follows_a_real_sweep(comm_messages, tmp_path, tiny_job):
    job = submit(
        tiny_job(tmp_path, epochs=3, max_trials=2, extra=SWEEP), workspace=tmp_path / "runs"
    )
    dashboard = Dashboard(job, refresh_seconds=0.5, start=False)
    seen = []

    def record(snapshot):
        dashboard.apply(snapshot)
        seen.append((time.monotonic(), len(comm_messages), snapshot))

    dashboard.watcher.callback = record
    started = time.monotonic()
    dashboard.start()
    assert dashboard in STATE.dashboards
    # The watcher thread sets the traits; this thread is free meanwhile.
    # Cancel the second trial once it has reported an epoch (of three).
    second_running = _wait_for(
        lambda: any(
            t.number == 1 and t.state == "running" and t.epoch for t in dashboard.snapshot.trials
        ),
        timeout=300,
    )
    if second_running:
        dashboard.trial_picker.value = 1
        dashboard.cancel_trial_button.click()
        assert "asked trial 1 to stop" in dashboard.message.value
    assert _wait_for(lambda: not dashboard.watcher.running, timeout=300)
    elapsed = time.monotonic() - started

    final = dashboard.snapshot
    assert final.status == "completed"
    states = {t.number: t.state for t in final.trials}
    assert states[0] == "completed"
    if second_running:
        assert states[1] == "canceled"
    # It was watched live: trial 0 was seen running at some epochs before it completed.
    running_epochs = {
        t.epoch
        for _, _, snap in seen
        for t in snap.trials
        if t.number == 0 and t.state == "running"
    }
    assert running_epochs - {None}, "saw trial 0 running with metrics"
    assert dashboard.updates == len(seen) + 1  # one apply in __init__
    # What the widgets show.
    assert "completed" in dashboard.header.value and "bandit" in dashboard.header.value
    assert "<td style='text-align:left'>0</td>" in dashboard.table.value
    assert bytes(dashboard.plot.value).startswith(b"\x89PNG")
    assert dashboard.trial_picker.options == ()
    assert dashboard.cancel_job_button.disabled
    assert "trial" in repr(dashboard) and "completed" in repr(dashboard)
    # Throttled: at most one read per 0.5 s, and a bounded number of messages per update
    # (each child it may change at most one message under hold_sync).
    assert len(seen) <= elapsed / 0.5 + 2
    per_update = [after - before for (_, before, _), (_, after, _) in zip(seen, seen[1:])]
    assert max(per_update, default=0) <= len(dashboard._synced_children())


@pytest.mark.slow
def test_a_burst_of_updates_sends_a_bounded_number_of_messages(comm_messages, tmp_path, tiny_job):
    """100 metric rows land at once: the watcher's next read shows them in one update."""
    import json

    from automl_nb.notebook._jobs import take_snapshot
    from automl_nb.runner import run_job

    job = run_job(tiny_job(tmp_path, epochs=1), workspace=tmp_path / "runs")
    dashboard = Dashboard(job, refresh_seconds=0.5, start=False)
    metrics = job.trials()[0].folder / "metrics.jsonl"
    before = len(comm_messages)
    with metrics.open("a", encoding="utf-8") as fh:
        for epoch in range(2, 102):
            fh.write(json.dumps({"epoch": epoch, "accuracy": epoch / 200}) + "\n")
    dashboard.apply(take_snapshot(job))
    burst = len(comm_messages) - before
    assert 1 <= burst <= len(dashboard._synced_children())
    assert dashboard.snapshot.trials[0].epoch == 101
    # Nothing changed: nothing is sent.
    before = len(comm_messages)
    dashboard.apply(take_snapshot(job))
    assert len(comm_messages) == before
