"""An exponential moving average of a model's weights (``advanced_settings.model_ema``).

The average is timm's :class:`~timm.utils.ModelEmaV3` with its warm-up: after ``t`` optimizer
steps the decay is ``min(decay, 1 - (1 + t) ** -2/3)``, so a short run averages over its recent
steps instead of being dominated by its random start. When it is on, the averaged copy is
what a trial evaluates, keeps as its best model and publishes; the optimizer still trains the
model itself, and a checkpoint holds both so a resumed trial continues the same average.
"""

from __future__ import annotations

from typing import Any

import torch


class ModelEma:
    """The averaged copy of ``model``, updated after every optimizer step.

    Args:
        model: The model being trained (already on its device).
        decay: The decay the warm-up rises to (``advanced_settings.model_ema_decay``, 0.9998
            as timm's ``--model-ema-decay``).
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        from timm.utils import ModelEmaV3

        self._ema = ModelEmaV3(model, decay=decay, use_warmup=True)
        self._ema.module.requires_grad_(False)
        self.updates = 0

    @property
    def module(self) -> torch.nn.Module:
        """The averaged model (evaluated and saved in place of the trained one)."""
        return self._ema.module

    def update(self, model: torch.nn.Module) -> None:
        """Fold ``model``'s current weights into the average (after an optimizer step)."""
        self.updates += 1
        self._ema.update(model, step=self.updates)

    def state_dict(self) -> dict[str, Any]:
        """For checkpoints."""
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the average a checkpoint saved."""
        self.module.load_state_dict(state["module"])
        self.updates = int(state.get("updates", 0))
