"""The trial's own callbacks: the metrics log, best-model tracking, early stopping,
checkpoints, per-batch progress (``progress.json``) and the runner's stop requests.

They use the same hooks as user callbacks (:mod:`automl_nb.training._callbacks`) and run first,
in this order, so a user callback's ``on_epoch_end`` sees the row written, the best model
updated and the checkpoint saved. Each carries ``state_key``, ``state_dict()`` and
``load_state_dict()``, stored in ``last.pt`` so a resumed trial continues exactly.
"""

from __future__ import annotations

import json
import logging
import math
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
    by the job's ``trial_timeout_minutes`` / ``timeout_minutes`` mid-epoch. When the budget
    fits fewer epochs than planned, ``fit_epochs(n)`` (the learning-rate schedule's
    :meth:`~automl_nb.training._optim.Schedule.fit_epochs`) is told after every epoch how many
    fit, so the schedule ends with the budget rather than being cut at a high rate.
    """

    state_key = "time_budget"

    def __init__(
        self, seconds: float | None, fit_epochs: Callable[[int], bool] | None = None
    ) -> None:
        self.seconds = seconds
        self.fit_epochs = fit_epochs
        self.started = time.monotonic()
        self.epochs = 0
        self.first_epoch_seconds = 0.0
        self.fitted: int | None = None

    def on_train_start(self, state: TrainState) -> None:
        self.started = time.monotonic()
        self.epochs = 0

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        self.epochs += 1
        if self.seconds is None or state.should_stop:
            return
        elapsed = time.monotonic() - self.started
        if self.epochs == 1:
            self.first_epoch_seconds = elapsed
        # The first epoch also pays for warming up (allocations, first evaluation): the
        # epochs after it say what the next one costs.
        per_epoch = (
            (elapsed - self.first_epoch_seconds) / (self.epochs - 1)
            if self.epochs > 1
            else elapsed
        )
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
            return
        self._fit_schedule(state, elapsed, per_epoch)

    def _fit_schedule(self, state: TrainState, elapsed: float, per_epoch: float) -> None:
        """Tell the schedule how many epochs fit, when fewer than planned."""
        if self.fit_epochs is None or self.seconds is None:
            return
        fits = state.epoch + int((self.seconds - elapsed) // per_epoch)
        epochs = min(state.num_epochs, max(state.epoch + 1, fits))
        if epochs == state.num_epochs and self.fitted is None:
            return
        if self.fit_epochs(epochs) and self.fitted is None:
            logger.info(
                "the time budget of %.0f s fits about %d of the %d planned epochs: the "
                "learning-rate schedule now ends with the budget",
                self.seconds,
                epochs,
                state.num_epochs,
            )
        self.fitted = epochs

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


# The file the runner writes (with the reason) when it asks a trial to stop; see
# ``automl_nb.runner._worker.request_stop``.
STOP_FILE = "stop"
PROGRESS_FILE = "progress.json"


class StopRequest:
    """Ends the trial at the next batch once the runner asked it to stop (a ``stop`` file in
    the trial folder), as if interrupted: the kernel interrupt can be lost or land in code
    that does not give it back, the file is always seen.

    It checks at the start, after each epoch and, at most every ``interval`` seconds, after
    batches; the trial then ends like an interrupted one (its best evaluated model kept).
    """

    state_key = "stop_request"

    def __init__(self, path: Path, interval: float = 0.5) -> None:
        self.path = path
        self.interval = interval
        self._checked = 0.0

    def _check(self) -> None:
        self._checked = time.monotonic()
        if self.path.exists():
            reason = self.path.read_text(encoding="utf-8").strip() or "stop"
            logger.info("the runner asked this trial to stop (%s)", reason)
            raise KeyboardInterrupt(reason)

    def on_train_start(self, state: TrainState) -> None:
        self._check()

    def on_train_batch_end(self, state: TrainState, batch: int, total: int, loss: float) -> None:
        if time.monotonic() - self._checked >= self.interval:
            self._check()

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        self._check()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore."""


class Progress:
    """Writes ``progress.json`` from the first batch on: epoch, batch, images per second and
    the time left (this epoch, the trial), at most every ``interval`` seconds.

    The evaluation after an epoch is not timed per batch; ``phase`` says ``evaluating`` then.

    Args:
        path: The file (replaced atomically).
        batch_size: Images per training batch (the last batch may hold fewer).
        interval: Seconds between writes.
    """

    state_key = "progress"

    def __init__(self, path: Path, batch_size: int, interval: float = 1.0) -> None:
        self.path = path
        self.batch_size = max(1, int(batch_size))
        self.interval = interval
        self.epoch_started = time.monotonic()
        self._written = 0.0

    def _write(self, record: dict[str, Any]) -> None:
        self._written = time.monotonic()
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({**record, "updated": time.time()}), encoding="utf-8")
        tmp.replace(self.path)

    def on_train_start(self, state: TrainState) -> None:
        self.epoch_started = time.monotonic()
        self._write({"phase": "training", "epoch": state.epoch + 1, "epochs": state.num_epochs})

    def on_train_batch_end(self, state: TrainState, batch: int, total: int, loss: float) -> None:
        done = batch + 1
        last = total > 0 and done >= total
        now = time.monotonic()
        if done > 1 and not last and now - self._written < self.interval:
            return
        seconds = max(now - self.epoch_started, 1e-6)
        per_batch = seconds / done
        epoch = state.epoch + 1
        record: dict[str, Any] = {
            "phase": "evaluating" if last else "training",
            "epoch": epoch,
            "epochs": state.num_epochs,
            "batch": done,
            "batches": total if total > 0 else None,
            "images_per_second": round(done * self.batch_size / seconds, 2),
            "loss": loss if math.isfinite(loss) else None,
        }
        if total > 0:
            epoch_left = per_batch * (total - done)
            record["epoch_eta_seconds"] = round(epoch_left, 1)
            # Evaluation time is not known yet; the trial estimate counts training only.
            record["eta_seconds"] = round(
                epoch_left + per_batch * total * (state.num_epochs - epoch), 1
            )
        self._write(record)

    def on_epoch_end(self, state: TrainState, row: dict[str, Any]) -> None:
        self.epoch_started = time.monotonic()
        if state.epoch < state.num_epochs:
            self._write(
                {"phase": "training", "epoch": state.epoch + 1, "epochs": state.num_epochs}
            )

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore: progress restarts with the run."""
