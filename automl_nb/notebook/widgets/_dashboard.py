"""The live dashboard of a job: trials table, metric curves, threshold, cancel buttons."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import ipywidgets as widgets

from automl_nb.notebook._html import esc
from automl_nb.notebook._html import table
from automl_nb.notebook._job_views import TRIAL_HEADERS
from automl_nb.notebook._job_views import TrialsView
from automl_nb.notebook._job_views import summary_line
from automl_nb.notebook._job_views import trial_rows
from automl_nb.notebook._jobs import JobSnapshot
from automl_nb.notebook._jobs import job_settings
from automl_nb.notebook._jobs import take_snapshot
from automl_nb.notebook._plots import plot_trials
from automl_nb.notebook.widgets._watcher import JobWatcher


def _plot_key(snapshot: JobSnapshot) -> tuple:
    # The plot only changes when a trial's state or its metric rows change.
    return tuple(
        (t.number, t.state, tuple(sorted(v.items())))
        for t, v in zip(snapshot.trials, snapshot.curves().values())
    )


class Dashboard(widgets.VBox):
    """Watch a job live; the kernel stays free for other cells.

    A background :class:`JobWatcher` re-reads the job folder every ``refresh_seconds`` and
    :meth:`apply` sets only the traits whose value changed, each child's changes sent in
    one message (``hold_sync``). It stops by itself when the job ends.

    Args:
        job: A :class:`automl_nb.runner.Job`.
        refresh_seconds: Seconds between reads (at least 0.5).
        start: Start watching at once (when the job is not finished).

    Attributes:
        snapshot: The last :class:`JobSnapshot` shown.
        updates: How many snapshots were applied.
    """

    def __init__(self, job: Any, *, refresh_seconds: float = 1.0, start: bool = True) -> None:
        self.job = job
        self.snapshot: JobSnapshot | None = None
        self.updates = 0
        self.last_error: str | None = None
        self._settings = job_settings(job)
        self._plot_key: tuple | None = None
        self.header = widgets.HTML()
        self.plot = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.table = widgets.HTML()
        self.message = widgets.HTML()
        self.trial_picker = widgets.Dropdown(
            description="trial", options=[], layout={"width": "160px"}
        )
        self.cancel_trial_button = widgets.Button(description="Cancel trial", icon="stop")
        self.cancel_job_button = widgets.Button(
            description="Cancel job", button_style="danger", icon="times"
        )
        self.cancel_trial_button.on_click(self._cancel_trial)
        self.cancel_job_button.on_click(self._cancel_job)
        controls = widgets.HBox(
            [self.trial_picker, self.cancel_trial_button, self.cancel_job_button]
        )
        super().__init__([self.header, controls, self.plot, self.table, self.message])
        self.watcher = JobWatcher(
            self.read,
            self.apply,
            interval=refresh_seconds,
            done=lambda snapshot: snapshot.done,
            on_error=self._on_error,
            name=f"automl-nb-dashboard-{job.id}",
        )
        self.refresh()
        if start and self.snapshot is not None and not self.snapshot.done:
            self.start()

    def read(self) -> JobSnapshot:
        """Read the job once."""
        return take_snapshot(self.job, self._settings)

    def refresh(self) -> JobSnapshot:
        """Read the job and show it now (in the calling thread)."""
        snapshot = self.read()
        self.apply(snapshot)
        return snapshot

    def start(self) -> Dashboard:
        """Start the background watcher (and register it so unloading the extension stops
        it)."""
        from automl_nb.notebook._state import STATE

        if self not in STATE.dashboards:
            STATE.dashboards.append(self)
        self.watcher.start()
        return self

    def stop(self) -> None:
        """Stop the background watcher; the widget keeps its last state."""
        self.watcher.stop()

    def apply(self, snapshot: JobSnapshot) -> None:
        """Show a snapshot: sets only changed traits, one message per child widget."""
        children = (self.header, self.plot, self.table, self.trial_picker, self.cancel_job_button)
        with contextlib.ExitStack() as stack:
            for child in children:
                stack.enter_context(child.hold_sync())
            self.header.value = self._header_html(snapshot)
            self.table.value = self._table_html(snapshot)
            key = _plot_key(snapshot)
            if key != self._plot_key and any(snapshot.curves().values()):
                self.plot.value = plot_trials(snapshot)
                self._plot_key = key
            running = [str(t.number) for t in snapshot.trials if t.state == "running"]
            if tuple(running) != tuple(self.trial_picker.options):
                self.trial_picker.options = running
            self.cancel_job_button.disabled = snapshot.done
        self.snapshot = snapshot
        self.updates += 1

    def _header_html(self, snapshot: JobSnapshot) -> str:
        policy = snapshot.policy
        policy_text = f" · early termination: {esc(policy.type)}" if policy is not None else ""
        return (
            f"<div><b>{esc(summary_line(snapshot))}</b>"
            f"<span style='color:#6e7781'>{policy_text}</span></div>"
        )

    def _table_html(self, snapshot: JobSnapshot) -> str:
        rows = trial_rows(snapshot, html=True)
        return table(TRIAL_HEADERS, rows, raw=True) if rows else "<p>(no trials yet)</p>"

    def _on_error(self, exc: BaseException) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.message.value = f"<span style='color:#9a6700'>{esc(self.last_error)}</span>"

    def _cancel_trial(self, _button: Any = None) -> None:
        if self.trial_picker.value is None:
            self.message.value = "no running trial to cancel"
            return
        number = int(self.trial_picker.value)
        self.job.cancel(number)
        self.message.value = esc(f"asked trial {number} to stop ({time.strftime('%H:%M:%S')})")

    def _cancel_job(self, _button: Any = None) -> None:
        self.job.cancel()
        self.message.value = esc(f"asked job {self.job.id} to stop ({time.strftime('%H:%M:%S')})")

    def __repr__(self) -> str:
        if self.snapshot is None:
            return f"Dashboard({self.job.id})"
        return TrialsView(self.snapshot).to_text()
