"""Result objects about jobs: status, trials, the best trial."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from automl_nb.notebook._html import esc
from automl_nb.notebook._html import fmt_number
from automl_nb.notebook._html import fmt_params
from automl_nb.notebook._html import fmt_seconds
from automl_nb.notebook._html import png_img
from automl_nb.notebook._html import pre
from automl_nb.notebook._html import state_badge
from automl_nb.notebook._html import table
from automl_nb.notebook._html import text_table
from automl_nb.notebook._jobs import JobSnapshot
from automl_nb.notebook._jobs import elapsed
from automl_nb.notebook._jobs import metric_values
from automl_nb.notebook._results import Result
from automl_nb.runner._layout import read_json

TRIAL_HEADERS = ["trial", "state", "parameters", "epoch", "metric", "best", "elapsed", "note"]


def trial_note(trial: Any, metric: str | None = None) -> str:
    """What a table says about a trial besides its numbers: a running trial's progress
    (from its first batch), why it stopped early, or its error in full (with the fix)."""
    from automl_nb.runner._status import describe_progress
    from automl_nb.runner._status import read_progress
    from automl_nb.server._payload import stop_note

    if trial.state == "running":
        return describe_progress(trial.state, read_progress(trial.folder))
    if trial.error:
        return str(trial.error).strip()
    return stop_note(trial, metric) or ""


def trial_rows(snapshot: JobSnapshot, *, html: bool = False) -> list[list[Any]]:
    """One row per trial: number, state, parameters, current epoch, last and best primary
    metric, elapsed time and :func:`trial_note` (as HTML cells with ``html``; in text a
    failed trial's note points to its error, printed in full under the table)."""
    rows = []
    now = snapshot.taken or time.time()
    for trial in snapshot.trials:
        values = metric_values(trial, snapshot.primary_metric)
        last = values[max(values)] if values else None
        best = (
            trial.best_score
            if trial.best_score is not None
            else max(values.values(), default=None)
        )
        note = trial_note(trial, snapshot.primary_metric)
        if trial.error and not html:
            note = "error below"
        row = [
            trial.number,
            state_badge(trial.state) if html else trial.state,
            fmt_params(trial.hyperparameters),
            trial.epoch if trial.epoch is not None else "",
            fmt_number(last),
            fmt_number(best),
            fmt_seconds(elapsed(trial, now)),
            note,
        ]
        if html:
            cell = f"<div style='white-space:pre-wrap;max-width:70ch'>{esc(note)}</div>"
            row = [row[0], row[1], *(esc(v) for v in row[2:-1]), cell]
        rows.append(row)
    return rows


def error_lines(snapshot: JobSnapshot) -> list[str]:
    """``trial 1 failed: <the whole message>`` for each trial with an error."""
    return [
        f"trial {t.number} {t.state}: {str(t.error).strip()}" for t in snapshot.trials if t.error
    ]


def usable_best(snapshot: JobSnapshot) -> tuple[int, float] | None:
    """``(trial, score)`` of the best trial that has a model to use: completed, or stopped
    (canceled, timeout) after an evaluation whose model it kept."""
    kept = [
        t
        for t in snapshot.trials
        if t.best_score is not None and t.state in ("completed", "canceled", "timeout")
    ]
    best = max(kept, key=lambda t: float(t.best_score), default=None)
    return None if best is None else (best.number, float(best.best_score))


def state_counts(snapshot: JobSnapshot) -> str:
    """``1/4 trials completed, 1 canceled, 1 running``: a canceled trial is not done."""
    counts: dict[str, int] = {}
    for trial in snapshot.trials:
        counts[trial.state] = counts.get(trial.state, 0) + 1
    text = f"{counts.pop('completed', 0)}/{snapshot.max_trials} trials completed"
    return ", ".join([text, *(f"{n} {state}" for state, n in sorted(counts.items()))])


def summary_line(snapshot: JobSnapshot) -> str:
    """``job fridge-...: running, 2/4 trials completed, 1 running, best accuracy 0.81
    (trial 1)``."""
    text = f"job {snapshot.job_id}: {snapshot.status}, {state_counts(snapshot)}"
    best = usable_best(snapshot)
    if best is not None:
        text += f", best {snapshot.primary_metric} {best[1]:.4f} (trial {best[0]})"
    if snapshot.error:
        text += f"\nerror: {snapshot.error}"
    return text


class TrialsView(Result):
    """The trials of a job as a table (``%automl_vision trials``).

    Attributes:
        snapshot: The :class:`JobSnapshot` shown.
        trials: Its :class:`automl_nb.runner.TrialInfo` list.
        job: The job, when known: the output then also carries the job card JSON that the
            JupyterLab extension renders (curves, trials, reasons in full), kernel or not.
    """

    def __init__(self, snapshot: JobSnapshot, job: Any = None) -> None:
        self.snapshot = snapshot
        self.trials = snapshot.trials
        self.job = job

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """Text and HTML, plus ``application/vnd.automl-nb.job+json`` when the job is known."""
        bundle: dict[str, Any] = {"text/plain": self.to_text(), "text/html": self._repr_html_()}
        if self.job is not None:
            from automl_nb.server._payload import JOB_MIME
            from automl_nb.server._payload import job_detail

            bundle[JOB_MIME] = job_detail(self.job)
        return bundle

    def to_text(self) -> str:
        if not self.trials:
            return f"{summary_line(self.snapshot)}\n(no trials yet)"
        rows = text_table(TRIAL_HEADERS, trial_rows(self.snapshot))
        return "\n".join([summary_line(self.snapshot), rows, *error_lines(self.snapshot)])

    def _repr_html_(self) -> str:
        rows = trial_rows(self.snapshot, html=True)
        body = table(TRIAL_HEADERS, rows, raw=True) if rows else "<p>(no trials yet)</p>"
        return f"<div>{pre(summary_line(self.snapshot))}{body}</div>"


class JobView(TrialsView):
    """A job's status, folder and trials (``%automl_vision status``, ``submit --wait``).

    Attributes:
        job: The :class:`automl_nb.runner.Job`.
        status: Its status when read.
        note: A line shown first (``submitted``, ``still running``).
    """

    def __init__(self, job: Any, snapshot: JobSnapshot, note: str = "") -> None:
        super().__init__(snapshot, job=job)
        self.status = snapshot.status
        self.note = note

    def to_text(self) -> str:
        head = [self.note] if self.note else []
        head.append(f"folder: {self.job.dir}")
        return "\n".join(head) + "\n" + super().to_text()

    def _repr_html_(self) -> str:
        note = f"<div>{esc(self.note)}</div>" if self.note else ""
        folder = f"<div style='color:#6e7781'>folder: {esc(self.job.dir)}</div>"
        return f"<div>{note}{super()._repr_html_()}{folder}</div>"


# Resolved settings shown with the best trial (when it was not asked to vary them).
KEY_SETTINGS = (
    "model_name",
    "number_of_epochs",
    "learning_rate",
    "optimizer",
    "training_batch_size",
    "training_crop_size",
    "min_size",
    "image_size",
)


def _scalar_metrics(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool))}


class BestView(Result):
    """The best trial of a job: its score, hyperparameters, metrics and plots.

    Attributes:
        job: The job.
        trial: The best :class:`automl_nb.runner.TrialInfo`, or None.
        model_dir: The best model folder (``best_model/``), or None.
        metrics: The model's final validation metrics (``metrics.json``).
        plots: The model's plot files (``plots/*.png``).
    """

    def __init__(self, job: Any, trial: Any, primary_metric: str) -> None:
        self.job = job
        self.trial = trial
        self.primary_metric = primary_metric
        self.model_dir: Path | None = job.best_model_dir
        if self.model_dir is None and trial is not None and trial.folder is not None:
            candidate = trial.folder / "model"
            self.model_dir = candidate if candidate.is_dir() else None
        self.metrics: dict[str, Any] = {}
        self.plots: list[Path] = []
        if self.model_dir is not None:
            try:
                self.metrics = json.loads((self.model_dir / "metrics.json").read_text("utf-8"))
            except (OSError, ValueError):
                self.metrics = {}
            self.plots = sorted((self.model_dir / "plots").glob("*.png"))

    @property
    def score(self) -> float | None:
        """The best trial's primary metric."""
        return None if self.trial is None else self.trial.best_score

    def _head(self) -> list[str]:
        if self.trial is None:
            return [f"job {self.job.id} ({self.job.status}): no completed trial yet"]
        lines = [
            f"job {self.job.id} ({self.job.status}): best trial {self.trial.number}, "
            f"{self.primary_metric} {fmt_number(self.score)}"
        ]
        if self.trial.hyperparameters:
            lines.append(f"hyperparameters: {json.dumps(self.trial.hyperparameters, default=str)}")
        settings = self._key_settings()
        if settings:
            lines.append("settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
        if self.model_dir is not None:
            lines.append(f"model: {self.model_dir}")
        return lines

    def _key_settings(self) -> dict[str, Any]:
        """The main resolved settings the best trial trained with (``hyperparameters.json``),
        those it was not asked to vary."""
        folder = self.trial.folder if self.trial is not None else None
        resolved = read_json(folder / "hyperparameters.json", {}) if folder else {}
        if not isinstance(resolved, dict):
            return {}
        varied = set(self.trial.hyperparameters)
        return {k: resolved[k] for k in KEY_SETTINGS if k in resolved and k not in varied}

    def to_text(self) -> str:
        lines = self._head()
        scalars = _scalar_metrics(self.metrics)
        if scalars:
            lines.append(
                "metrics: " + ", ".join(f"{k}={fmt_number(v)}" for k, v in scalars.items())
            )
        lines += [f"plot: {p}" for p in self.plots]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [pre("\n".join(self._head()))]
        scalars = _scalar_metrics(self.metrics)
        if scalars:
            parts.append(
                table(["metric", "value"], [[k, fmt_number(v)] for k, v in scalars.items()])
            )
        for plot in self.plots:
            parts.append(f"<div>{png_img(plot.read_bytes(), title=plot.stem)}</div>")
        return "<div>" + "".join(parts) + "</div>"
