"""The callback protocol of a trial and the pruning exception.

A callback is any object with some of these methods (all optional):

* ``on_train_start(state)`` - once, after the model, data and optimizer are ready;
* ``on_train_batch_end(state, batch, num_batches, loss)`` - after every training batch (for
  progress bars; keep it cheap);
* ``on_epoch_end(state, metrics)`` - after every epoch, with the epoch's ``metrics.jsonl`` row;
* ``on_train_end(state, result)`` - once, with the :class:`~automl_nb.training.TrialResult`;
* ``on_exception(state, exc)`` - when the trial fails.

Raising :class:`TrialPruned` from ``on_epoch_end`` stops the trial with status ``"pruned"``
(optuna's convention); setting ``state.should_stop = True`` ends it normally after the epoch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

logger = logging.getLogger("automl_nb.training")


class TrialPruned(Exception):
    """Raised by a callback to stop a trial early as ``"pruned"`` (early termination)."""


@dataclass
class TrainState:
    """What callbacks see of a running trial.

    Attributes:
        trial_dir: The trial folder.
        task: Task name.
        primary_metric: Name of the metric to maximise.
        hyperparameters: The resolved hyperparameters (v2 names).
        num_epochs: Epochs planned.
        epoch: The last finished epoch (1-based; 0 before the first one ends).
        global_step: Optimizer steps taken so far.
        history: ``metrics.jsonl`` rows so far.
        best_score: Best primary metric so far (``None`` before the first evaluation).
        best_epoch: Epoch of ``best_score``.
        should_stop: Set to ``True`` to end the trial after the current epoch.
        model: The model being trained (for callbacks that need it, e.g. to log weights).
        config: The trial's resolved :class:`~automl_nb.config.TrialConfig`.
        last_metrics: Full validation metrics of the epoch just ended, ``None`` when it was not
            evaluated.
        stopped_early: True once early stopping ended the trial.
    """

    trial_dir: Path
    task: str
    primary_metric: str
    hyperparameters: dict[str, Any]
    num_epochs: int
    epoch: int = 0
    global_step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_score: float | None = None
    best_epoch: int | None = None
    should_stop: bool = False
    model: Any = None
    config: Any = None
    last_metrics: dict[str, Any] | None = None
    stopped_early: bool = False


class CallbackList:
    """Calls a hook on every callback that defines it, in order."""

    def __init__(self, callbacks: Iterable[Any] = ()) -> None:
        self.callbacks = list(callbacks)

    def call(self, hook: str, *args: Any) -> None:
        """Run ``hook(*args)`` on every callback; :class:`TrialPruned` propagates."""
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is not None:
                method(*args)

    def has(self, hook: str) -> bool:
        """Whether any callback defines ``hook``."""
        return any(getattr(c, hook, None) is not None for c in self.callbacks)

    def call_quietly(self, hook: str, *args: Any) -> None:
        """Like :meth:`call`, but a failing callback is logged instead of raised (used while
        a trial is already failing, so the original error is the one reported)."""
        for callback in self.callbacks:
            method = getattr(callback, hook, None)
            if method is None:
                continue
            try:
                method(*args)
            except Exception:  # noqa: BLE001 - must not mask the trial's own error
                logger.exception("callback %r failed in %s", callback, hook)
