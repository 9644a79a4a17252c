"""Optimizers, learning-rate schedules, losses and early stopping.

Schedules and when they step:

* ``warmup_cosine`` (default): stepped **per optimizer step** (iteration). The learning rate
  rises linearly over ``warmup_cosine_lr_warmup_epochs`` epochs, then follows
  ``0.5 * (1 + cos(2 * pi * cycles * progress))`` with ``cycles = warmup_cosine_lr_cycles``
  (0.45 by default, so it ends at about 2.5% of the base rate instead of zero), the
  ``WarmupCosineSchedule`` AutoML for Images uses. The warm-up counts from the first step
  (``(step + 1) / warmup_steps``) so no step runs with a zero learning rate.
  When a trial's time budget ends it before its planned epochs, the cosine is shortened to end
  at the last epoch that fits (:meth:`Schedule.fit_epochs`), so the trial still finishes its
  low-learning-rate tail instead of being cut at a high rate.
* ``step``: stepped **per epoch**; multiplies the rate by ``step_lr_gamma`` every
  ``step_lr_step_size`` epochs.
* ``none``: constant learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import torch

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

if TYPE_CHECKING:
    from automl_nb.config import TrialConfig


def create_optimizer(model: torch.nn.Module, cfg: TrialConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``cfg.optimizer`` over the model's trainable parameters.

    Args:
        model: The model (frozen parameters are left out). ``yolov5`` puts its biases and
            BatchNorm parameters in a group without weight decay.
        cfg: The trial's settings: ``optimizer``, ``learning_rate``, ``weight_decay``,
            ``momentum``, ``nesterov`` (sgd), ``beta1``, ``beta2``, ``ams_gradient`` (adam, adamw).
    """
    params: Any = [p for p in model.parameters() if p.requires_grad]
    if cfg.is_yolo:
        from timm.optim import param_groups_weight_decay

        # As YOLOv5's own training: no weight decay on biases and BatchNorm parameters.
        params = param_groups_weight_decay(model, cfg.weight_decay)
    if cfg.optimizer == "sgd":
        # torch refuses nesterov without momentum; nesterov is meaningless there anyway.
        return torch.optim.SGD(
            params,
            lr=cfg.learning_rate,
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
            nesterov=cfg.nesterov and cfg.momentum > 0,
        )
    adam = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[cfg.optimizer]
    return adam(
        params,
        lr=cfg.learning_rate,
        betas=(cfg.beta1, cfg.beta2),
        weight_decay=cfg.weight_decay,
        amsgrad=cfg.ams_gradient,
    )


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, cycles: float) -> float:
    """The ``warmup_cosine`` multiplier of the base learning rate at optimizer step ``step``."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    # Clamped: a trial that runs past a shortened schedule stays at its final rate.
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * cycles * 2.0 * progress)))


class WarmupCosine:
    """The ``warmup_cosine`` multiplier as a callable object: ``LambdaLR`` keeps its fields in
    its state dict, so a shortened schedule survives a resume."""

    def __init__(self, warmup_steps: int, total_steps: int, cycles: float) -> None:
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.cycles = cycles

    def __call__(self, step: int) -> float:
        return warmup_cosine_factor(step, self.warmup_steps, self.total_steps, self.cycles)


class Schedule:
    """A learning-rate scheduler plus when it steps (``"iteration"``, ``"epoch"`` or never)."""

    def __init__(self, scheduler: Any, interval: str, steps_per_epoch: int = 1) -> None:
        self.scheduler = scheduler
        self.interval = interval
        self.steps_per_epoch = steps_per_epoch

    def fit_epochs(self, epochs: int) -> bool:
        """Make a ``warmup_cosine`` schedule end after ``epochs`` epochs (a time budget fits
        no more); returns whether it changed. Other schedules are left as they are."""
        shape = self._warmup_cosine()
        if shape is None:
            return False
        total = max(shape.warmup_steps + 1, epochs * self.steps_per_epoch)
        if total == shape.total_steps:
            return False
        shape.total_steps = total
        return True

    def _warmup_cosine(self) -> WarmupCosine | None:
        lambdas = getattr(self.scheduler, "lr_lambdas", None) or []
        return lambdas[0] if lambdas and isinstance(lambdas[0], WarmupCosine) else None

    def step_iteration(self) -> None:
        """Call after every optimizer step."""
        if self.interval == "iteration":
            self.scheduler.step()

    def step_epoch(self) -> None:
        """Call after every epoch."""
        if self.interval == "epoch":
            self.scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        """For checkpoints."""
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from a checkpoint."""
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)


def create_scheduler(
    optimizer: torch.optim.Optimizer, cfg: TrialConfig, steps_per_epoch: int
) -> Schedule:
    """The schedule named by ``cfg.learning_rate_scheduler`` (see the module docstring).

    Args:
        optimizer: The optimizer whose learning rate is scheduled.
        cfg: The trial's settings.
        steps_per_epoch: Optimizer steps per epoch (batches / gradient accumulation).
    """
    if cfg.learning_rate_scheduler == "warmup_cosine":
        total = max(1, cfg.number_of_epochs * steps_per_epoch)
        warmup = min(total, cfg.warmup_cosine_lr_warmup_epochs * steps_per_epoch)
        cycles = cfg.warmup_cosine_lr_cycles
        # One shape object for every parameter group: fit_epochs changes them all at once.
        shape = WarmupCosine(warmup, total, cycles)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, [shape] * len(optimizer.param_groups)
        )
        return Schedule(scheduler, "iteration", steps_per_epoch)
    if cfg.learning_rate_scheduler == "step":
        step = torch.optim.lr_scheduler.StepLR(
            optimizer, step_size=cfg.step_lr_step_size, gamma=cfg.step_lr_gamma
        )
        return Schedule(step, "epoch")
    return Schedule(None, "never")


def class_weights(counts: Sequence[int], weighted_loss: int) -> torch.Tensor | None:
    """Per-class loss weights for ``weighted_loss`` 1 (sqrt) or 2; ``None`` for 0.

    The weight of class ``c`` is ``total / (num_classes * count_c)`` (inverse frequency,
    1.0 for balanced data), square-rooted for ``weighted_loss: 1``.
    """
    mode = int(weighted_loss)
    if mode == 0:
        return None
    if mode not in (1, 2):
        raise ConfigError(
            Problem(
                "must be 0, 1 or 2", path="training_parameters.weighted_loss", value=repr(mode)
            )
        )
    total = float(sum(counts))
    weights = torch.tensor(
        [total / (len(counts) * max(c, 1)) for c in counts], dtype=torch.float32
    )
    return weights.sqrt() if mode == 1 else weights


def create_classification_loss(
    *, multilabel: bool, counts: Sequence[int], num_samples: int, weighted_loss: int
) -> torch.nn.Module:
    """Cross-entropy (multi-class) or BCE-with-logits (multi-label), optionally weighted.

    Multi-class weights classes by inverse frequency. Multi-label uses ``pos_weight =
    negatives / positives`` per class (square-rooted for ``weighted_loss: 1``), the usual
    way to weight rare positive labels in BCE.
    """
    mode = int(weighted_loss)
    if not multilabel:
        return torch.nn.CrossEntropyLoss(weight=class_weights(counts, mode))
    if mode == 0:
        return torch.nn.BCEWithLogitsLoss()
    class_weights(counts, mode)  # validates the mode
    pos = torch.tensor([max(c, 1) for c in counts], dtype=torch.float32)
    pos_weight = (num_samples - pos).clamp(min=1.0) / pos
    if mode == 1:
        pos_weight = pos_weight.sqrt()
    return torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)


class EarlyStopping:
    """Stop after ``patience`` evaluations without improvement, once ``delay`` evaluations passed.

    Counts are in *evaluations* (one every ``evaluation_frequency`` epochs), as AutoML for
    Images documents ("epochs or validation evaluations").
    """

    def __init__(self, *, enabled: bool, patience: int, delay: int) -> None:
        self.enabled = enabled
        self.patience = max(1, int(patience))
        self.delay = max(0, int(delay))
        self.evaluations = 0
        self.best: float | None = None
        self.bad = 0

    def update(self, score: float) -> bool:
        """Record one evaluation; return ``True`` when training should stop."""
        self.evaluations += 1
        improved = self.best is None or score > self.best
        if improved:
            self.best = score
        if not self.enabled or self.evaluations <= self.delay:
            return False
        self.bad = 0 if improved else self.bad + 1
        return self.bad >= self.patience

    def state_dict(self) -> dict[str, Any]:
        """For checkpoints."""
        return {"evaluations": self.evaluations, "best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from a checkpoint."""
        self.evaluations = int(state.get("evaluations", 0))
        self.best = state.get("best")
        self.bad = int(state.get("bad", 0))
