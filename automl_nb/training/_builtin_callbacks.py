"""The trial's own callbacks: the metrics log, best-model tracking, early stopping and
checkpoints.

They use the same hooks as user callbacks (:mod:`automl_nb.training._callbacks`) and run first,
in this order, so a user callback's ``on_epoch_end`` sees the row written, the best model
updated and the checkpoint saved. Each carries ``state_key``, ``state_dict()`` and
``load_state_dict()``, stored in ``last.pt`` so a resumed trial continues exactly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from automl_nb.training._callbacks import TrainState
from automl_nb.training._checkpoint import load_checkpoint
from automl_nb.training._checkpoint import save_checkpoint
from automl_nb.training._optim import EarlyStopping

logger = logging.getLogger("automl_nb.training")


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for the values a metrics row may hold."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (tuple, set)):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return str(value)


class MetricsLog:
    """Appends each epoch's row to ``metrics.jsonl``; on start the file mirrors the history
    (after a resume, rows past the checkpoint go)."""

    state_key = "metrics_log"

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_start(self, state: TrainState) -> None:
        self.path.write_text(
            "".join(json.dumps(row, default=json_default) + "\n" for row in state.history),
            encoding="utf-8",
        )

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, default=json_default) + "\n")

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore: the rows are the trial's history."""


class BestModel:
    """Keeps the weights and metrics of the best evaluation so far (``best.pt``).

    An evaluation with no usable score still gives a model when nothing better exists, so a
    trial always ends with weights to publish.
    """

    state_key = "best_model"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.weights: dict[str, torch.Tensor] | None = None
        self.metrics: dict[str, Any] = {}

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        if state.last_metrics is None:
            return
        score = row.get(state.primary_metric)
        improved = score is not None and (state.best_score is None or score > state.best_score)
        if not improved and not (state.best_score is None and self.weights is None):
            return
        if score is not None:
            state.best_score = float(score)
        state.best_epoch = int(row["epoch"])
        self.metrics = state.last_metrics
        self.weights = {
            k: v.detach().to("cpu", copy=True) for k, v in state.model.state_dict().items()
        }
        save_checkpoint(
            self.path,
            {
                "state_dict": self.weights,
                "epoch": state.best_epoch,
                "score": score,
                "metrics": self.metrics,
            },
        )

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Reload the best weights from ``best.pt``."""
        if self.path.is_file():
            best = load_checkpoint(self.path)
            self.weights = best["state_dict"]
            self.metrics = dict(best.get("metrics") or {})


class EarlyStop:
    """Ends the trial after ``early_stopping_patience`` evaluations without improvement."""

    state_key = "early_stopping"

    def __init__(self, rule: EarlyStopping) -> None:
        self.rule = rule

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        score = row.get(state.primary_metric)
        if state.last_metrics is None or score is None or not self.rule.update(float(score)):
            return
        state.should_stop = True
        state.stopped_early = True
        logger.info(
            "early stopping at epoch %d: no improvement of %s in %d evaluations",
            row["epoch"],
            state.primary_metric,
            self.rule.patience,
        )

    def state_dict(self) -> dict[str, Any]:
        return self.rule.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rule.load_state_dict(state)


class TimeBudget:
    """Ends the trial after the epoch when the next one would not fit in ``seconds``.

    The trial then finishes normally, with its best evaluated model, instead of being killed
    by the job's ``trial_timeout_minutes`` / ``timeout_minutes`` mid-epoch.
    """

    state_key = "time_budget"

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.started = time.monotonic()
        self.epochs = 0

    def on_train_start(self, state: TrainState) -> None:
        self.started = time.monotonic()
        self.epochs = 0

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        self.epochs += 1
        if self.seconds is None or state.should_stop:
            return
        elapsed = time.monotonic() - self.started
        per_epoch = elapsed / self.epochs
        # The last epoch of the plan always evaluates; allow for it as for any other.
        if elapsed + per_epoch > self.seconds and state.epoch < state.num_epochs:
            state.should_stop = True
            logger.info(
                "stopping after epoch %d: another epoch (about %.0f s) would pass the time "
                "budget of %.0f s",
                state.epoch,
                per_epoch,
                self.seconds,
            )

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The budget counts from this run's start."""


class Checkpoints:
    """Writes ``last.pt`` (what ``resume`` needs) and ``epoch_N.pt`` every ``frequency`` epochs.

    ``last.pt`` holds the optimizer state too and can be large next to a short CPU epoch, so it
    is written only when at least ``COST_RATIO`` times its last write time has passed since
    then, and always after the trial's last epoch: writing stays under about 5% of the time.

    Args:
        folder: The trial's ``checkpoints/`` folder.
        snapshot: Returns the full resumable state (model, optimizer, callbacks, ...).
        frequency: ``checkpoint_frequency``, or ``None`` for ``last.pt`` only.
    """

    state_key = "checkpoints"
    COST_RATIO = 20.0

    def __init__(
        self, folder: Path, snapshot: Callable[[int], dict[str, Any]], frequency: int | None
    ) -> None:
        self.folder = folder
        self.snapshot = snapshot
        self.frequency = frequency
        self.write_seconds = 0.0
        self.written_at: float | None = None

    @property
    def last(self) -> Path:
        """The resume checkpoint."""
        return self.folder / "last.pt"

    def _due(self, state: TrainState) -> bool:
        if self.written_at is None or state.should_stop or state.epoch >= state.num_epochs:
            return True
        return time.monotonic() - self.written_at >= self.COST_RATIO * self.write_seconds

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        periodic = bool(self.frequency) and state.epoch % int(self.frequency or 1) == 0
        if not (periodic or self._due(state)):
            return
        start = time.monotonic()
        full = self.snapshot(state.epoch)
        save_checkpoint(self.last, full)
        self.write_seconds = time.monotonic() - start
        self.written_at = time.monotonic()
        if periodic:
            save_checkpoint(self.folder / f"epoch_{state.epoch}.pt", full)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""
