"""The planner's inputs: the job's budget and a profile of its data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Budget:
    """The job's limits, in the planner's units.

    Attributes:
        seconds: ``timeout_minutes`` in seconds.
        max_trials: ``max_trials``.
        max_concurrent_trials: ``max_concurrent_trials``.
        trial_seconds: ``trial_timeout_minutes`` in seconds.
    """

    seconds: float
    max_trials: int
    max_concurrent_trials: int = 1
    trial_seconds: float = float("inf")

    @classmethod
    def from_limits(cls, limits: Any) -> Budget:
        """From a ``JobSpec.limits``."""
        from automl_nb.sweep._limits import timeout_seconds

        job, trial = timeout_seconds(limits)
        return cls(
            seconds=job,
            max_trials=max(1, int(getattr(limits, "max_trials", 1) or 1)),
            max_concurrent_trials=max(1, int(getattr(limits, "max_concurrent_trials", 1) or 1)),
            trial_seconds=trial,
        )


@dataclass(frozen=True)
class DataProfile:
    """What the planner uses of the data (from the dataset doctor).

    Attributes:
        train_images: Training images.
        valid_images: Validation images.
        classes: Number of classes.
        short_side: Median short side of the images in pixels (``None``: unknown).
        imbalance: Largest over smallest class count (1.0 balanced).
        small_objects: Share of objects under 32 px at the default detector input.
    """

    train_images: int
    valid_images: int
    classes: int
    short_side: float | None = None
    imbalance: float = 1.0
    small_objects: float = 0.0

    def describe(self) -> str:
        """One line for the plan."""
        side = f", images ~{self.short_side:.0f} px short side" if self.short_side else ""
        text = (
            f"{self.train_images} training / {self.valid_images} validation images, "
            f"{self.classes} classes{side}"
        )
        if self.imbalance >= 1.5:
            text += f", class imbalance {self.imbalance:.1f}:1"
        if self.small_objects > 0:
            text += f", {self.small_objects:.0%} small objects"
        return text
