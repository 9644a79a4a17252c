"""The live dashboard of a job: trials table, metric curves, threshold, cancel buttons."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import ipywidgets as widgets

from automl_nb.notebook._html import esc
from automl_nb.notebook._html import png_img
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


def plan_html(plan: dict[str, str] | None) -> str:
    """AutoMode's plan folded under its headline, or "" for a job without one."""
    if not plan:
        return ""
    return (
        f"<details><summary>{esc(plan['headline'])}</summary>"
        f"<pre style='font-size:90%'>{esc(plan['text'])}</pre></details>"
    )


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
        # AutoMode's plan, folded under its headline (empty for a manual sweep).
        self.plan = widgets.HTML()
        # Hidden until there is a curve: an empty Image shows a broken-image icon.
        self.plot = widgets.Image(
            format="png", layout=widgets.Layout(max_width="100%", display="none")
        )
        self.table = widgets.HTML()
        self.message = widgets.HTML()
        self.trial_picker = widgets.Dropdown(
            description="trial",
            options=[],
            style={"description_width": "initial"},
            layout={"width": "auto", "min_width": "140px"},
        )
        auto = {"width": "auto"}
        self.cancel_trial_button = widgets.Button(
            description="Cancel trial", icon="stop", layout=auto
        )
        self.cancel_job_button = widgets.Button(
            description="Cancel job", button_style="danger", icon="times", layout=auto
        )
        self.confirm_button = widgets.Button(
            description="Yes, cancel the job", button_style="danger", layout=auto
        )
        self.keep_button = widgets.Button(description="No, keep it running", layout=auto)
        self.confirm_box = widgets.HBox(
            [widgets.HTML("Cancel every running trial of this job?"), self.confirm_button,
             self.keep_button],
            layout={"display": "none"},
        )  # fmt: skip
        self.cancel_trial_button.on_click(self._cancel_trial)
        self.cancel_job_button.on_click(self._ask_cancel_job)
        self.confirm_button.on_click(self._cancel_job)
        self.keep_button.on_click(self._keep_job)
        controls = widgets.HBox(
            [self.trial_picker, self.cancel_trial_button, self.cancel_job_button]
        )
        super().__init__(
            [
                self.header,
                self.plan,
                controls,
                self.confirm_box,
                self.plot,
                self.table,
                self.message,
            ]
        )
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
        children = self._synced_children()
        with contextlib.ExitStack() as stack:
            for child in children:
                stack.enter_context(child.hold_sync())
            self.header.value = self._header_html(snapshot)
            self.plan.value = plan_html(snapshot.plan)
            self.table.value = self._table_html(snapshot)
            key = _plot_key(snapshot)
            if key != self._plot_key and any(snapshot.curves().values()):
                self.plot.value = plot_trials(snapshot)
                self.plot.layout.display = None
                self._plot_key = key
            self._set_running(snapshot)
            self.cancel_job_button.disabled = snapshot.done
            if snapshot.done:
                self.confirm_box.layout.display = "none"
        self.snapshot = snapshot
        self.updates += 1

    def _synced_children(self) -> tuple[widgets.Widget, ...]:
        """The widgets :meth:`apply` may change: each sends at most one message per update."""
        return (
            self.header,
            self.plan,
            self.plot,
            self.plot.layout,
            self.table,
            self.trial_picker,
            self.cancel_trial_button,
            self.cancel_job_button,
            self.confirm_box.layout,
        )

    def _set_running(self, snapshot: JobSnapshot) -> None:
        """The picker lists the running trials and always shows one of them selected."""
        running = [
            (f"trial {t.number}", t.number) for t in snapshot.trials if t.state == "running"
        ]
        if tuple(running) != tuple(self.trial_picker.options):
            chosen = self.trial_picker.value
            self.trial_picker.options = running
            numbers = [number for _, number in running]
            self.trial_picker.value = chosen if chosen in numbers else (numbers or [None])[0]
        self.cancel_trial_button.disabled = not running

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
        self.message.value = esc(
            f"asked trial {number} to stop ({time.strftime('%H:%M:%S')}); it stops within "
            "a batch or two and keeps its best evaluated model"
        )

    def _ask_cancel_job(self, _button: Any = None) -> None:
        self.confirm_box.layout.display = None

    def _keep_job(self, _button: Any = None) -> None:
        self.confirm_box.layout.display = "none"

    def _cancel_job(self, _button: Any = None) -> None:
        self.confirm_box.layout.display = "none"
        self.job.cancel()
        self.message.value = esc(f"asked job {self.job.id} to stop ({time.strftime('%H:%M:%S')})")

    def static_html(self) -> str:
        """The last state as plain HTML (header, curves, trials): what a saved notebook
        shows where the live widget cannot be rebuilt (no kernel)."""
        snapshot = self.snapshot or self.read()
        plot = png_img(self.plot.value, title="metric per epoch") if self.plot.value else ""
        return (
            f"<div class='automl-nb-dashboard'>{self._header_html(snapshot)}"
            f"{plan_html(snapshot.plan)}{plot}"
            f"{self._table_html(snapshot)}</div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The live widget, plus a static copy (HTML and the job card JSON that the
        JupyterLab extension renders) for a notebook reopened without its kernel."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        from automl_nb.server._payload import JOB_MIME
        from automl_nb.server._payload import job_detail

        bundle["text/html"] = self.static_html()
        bundle[JOB_MIME] = job_detail(self.job)
        return bundle

    def __repr__(self) -> str:
        if self.snapshot is None:
            return f"Dashboard({self.job.id})"
        return TrialsView(self.snapshot).to_text()
