"""AutoMode's budget-aware planner: which models, sizes, batches, epochs and how many trials.

:func:`plan_automode` is pure arithmetic over a cost function (seconds per image of a model at
an input size, from :class:`~automl_nb.sweep._probe.CostProbe`), the job's budget, the machine
and a profile of the data. It returns a :class:`~automl_nb.sweep._plan_object.Plan`.

The rules:

* **Portfolio.** Pretrained weights available: the task's reference models at their native
  224 px (GPU: the ViTs first; CPU: the small CNNs). From scratch (``use_pretrained: false``
  or no weights offline): small CNNs at small input sizes (64-160 px, never much above the
  images' own short side), which learn fastest per second of CPU.
* **Epochs.** One epoch count ``E`` for every portfolio trial, the largest that fits: the
  first trial runs all ``E`` epochs, later ones are expected to run a fraction ``f`` of them
  under successive halving (rungs at ``E/9``, ``E/3``, ``E`` with reduction factor 3), and
  every trial pays a start-up cost. Candidates are dropped from the end of the portfolio
  while ``E`` would be under ``E_min`` or under a share of the epochs the first candidate
  would get alone (85% from scratch, half with pretrained weights); a budget too short for ``E_min`` epochs at 64 px plans smaller inputs.
* **Extra trials.** When ``E`` reaches its cap with time to spare, more trials sample the
  portfolio's models with learning-rate ranges (TPE), up to ``max_trials``.
* **Azure's rule.** The first trial is the task's default model with its defaults when its
  expected time is at most :data:`DEFAULT_FIRST_SHARE` of the budget; otherwise the plan says
  why it starts with the best-value candidate instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from automl_nb.config._parameters import DEFAULT_MODEL
from automl_nb.sweep._budget import Budget
from automl_nb.sweep._budget import DataProfile
from automl_nb.sweep._plan_object import Candidate
from automl_nb.sweep._plan_object import Plan
from automl_nb.sweep._plan_object import duration
from automl_nb.sweep._portfolio import SCRATCH_START
from automl_nb.sweep._portfolio import portfolio
from automl_nb.sweep._probe import Cost
from automl_nb.sweep._probe import Machine
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

# The default model goes first when its whole trial takes at most this share of the budget.
DEFAULT_FIRST_SHARE = 0.4
# Part of the job's time the plan spends (the rest absorbs start-up and estimate errors).
BUDGET_USE = 0.9
REDUCTION_FACTOR = 3
# The first candidate's epochs are at least this share of what it would get alone. From
# scratch, accuracy keeps rising with epochs long after the first rungs (fridge thumbnails,
# resnet18 at 64 px on 2 CPU cores: 0.70 after 98 epochs, 0.79 after 175), while a rung of
# 10 epochs says little about a candidate: the best prior candidate gets most of a short
# budget, and the others the rest under successive halving.
FIRST_TRIAL_SHARE = {"scratch": 0.85, "pretrained": 0.5}
SCRATCH_FIRST_RUNG = 5
# From scratch, a budget that fits this many epochs of inputs one size up (96 px before 64 px)
# spends them there. Fridge thumbnails, resnet18, one thread, 4 minutes, three seeded splits:
# 96 px for ~110 epochs reached 0.79 to 0.94 validation accuracy, 64 px for ~170 0.76 to 0.85.
LARGER_INPUT_EPOCHS = 100
# Seconds a trial spends starting: kernel, imports, data, model (before its first epoch).
TRIAL_OVERHEAD_SECONDS = {"cpu": 8.0, "cuda": 15.0}
EPOCH_OVERHEAD_SECONDS = 0.3
DEFAULT_EPOCHS = 15  # the reference default number_of_epochs

# (E_min, E_max) epochs: from scratch needs many passes over a small set, fine-tuning few.
EPOCHS_FROM_SCRATCH = (12, 300)
EPOCHS_PRETRAINED = (3, 30)


CostFunction = Callable[[str, int, int], Cost]


def successive_halving_fraction(epochs: int, min_resource: int, factor: int) -> float:
    """Expected share of ``epochs`` a trial that is not first runs under successive halving.

    A trial reaches rung ``k`` (``min_resource * factor**k`` epochs) with probability
    ``factor**-k``; the first trial of a sequential sweep always runs to the end.
    """
    if epochs <= 0:
        return 1.0
    expected, previous, rung, reach = 0.0, 0, max(1, min_resource), 1.0
    while rung < epochs:
        expected += reach * (rung - previous)
        previous, rung, reach = rung, rung * factor, reach / factor
    expected += reach * (epochs - previous)
    return min(1.0, expected / epochs)


def min_resource_for(epochs: int, *, from_scratch: bool = False) -> int:
    """The first rung: about ``epochs / 9`` (three rungs with factor 3), at least 1. From
    scratch the first epochs say little (the warm-up is not over), so at least
    :data:`SCRATCH_FIRST_RUNG` epochs (or a third of them)."""
    rung = max(1, epochs // (REDUCTION_FACTOR**2))
    if from_scratch:
        rung = max(rung, min(SCRATCH_FIRST_RUNG, max(1, epochs // REDUCTION_FACTOR)))
    return rung


def _size_of(params: dict[str, Any]) -> int:
    for key in ("training_crop_size", "image_size", "min_size"):
        if params.get(key):
            return int(params[key])
    return 224


def _epoch_seconds(cost: Cost, data: DataProfile) -> float:
    return data.train_images * cost.train + data.valid_images * cost.eval + EPOCH_OVERHEAD_SECONDS


def _fit_epochs(
    first: float, others: list[float], seconds: float, overhead: float, bounds: tuple[int, int]
) -> int:
    """The largest epoch count (<= the cap) whose expected sweep time fits ``seconds``."""
    low, high = bounds
    for epochs in range(high, 0, -1):
        rung = min_resource_for(epochs, from_scratch=high == EPOCHS_FROM_SCRATCH[1])
        fraction = successive_halving_fraction(epochs, rung, REDUCTION_FACTOR)
        total = overhead * (1 + len(others)) + epochs * (first + fraction * sum(others))
        if total <= seconds:
            return epochs
    return 0


def _first_trial(
    task: Task, data: DataProfile, pretrained: bool, cost: CostFunction, seconds: float
) -> tuple[Candidate, bool, str]:
    """The default-model trial, whether the budget allows it first, and why (not)."""
    default = _default_candidate(task, data, pretrained, cost)
    share = default.expected_seconds / max(seconds, 1e-9)
    model = default.params["model_name"]
    if share <= DEFAULT_FIRST_SHARE:
        return (
            default,
            True,
            (
                f"Azure's rule: the first trial is the default model {model} with its defaults "
                f"(~{duration(default.expected_seconds)}, {share:.0%} of the budget)"
            ),
        )
    return (
        default,
        False,
        (
            f"the first trial is not the default model {model} with its defaults: "
            f"{default.epochs} epochs at {_default_size(task)} px would take "
            f"~{duration(default.expected_seconds)}, {share:.0%} of the budget (the rule applies "
            f"up to {DEFAULT_FIRST_SHARE:.0%})"
        ),
    )


def _choose_portfolio(
    task: Task,
    machine: Machine,
    data: DataProfile,
    pretrained: bool,
    cost: CostFunction,
    fit: tuple[float, float, tuple[int, int], int],
    notes: list[str],
) -> tuple[list[tuple[dict[str, Any], Cost]], list[float], int, int]:
    """The priced portfolio, its epoch costs, how many candidates fit and their epochs."""
    room, overhead, bounds, slots = fit
    scratch = task.is_classification and not pretrained
    # From scratch: one size up when it still fits enough epochs, down when 64 px does not.
    shifts = range(-1, SCRATCH_START + 1) if scratch else [0]
    for smaller in shifts:
        pool = portfolio(task, machine, data, pretrained=pretrained, smaller=smaller)
        if not pool:
            continue  # no size above 64 px for these images
        priced = [
            (p, cost(p["model_name"], _size_of(p), int(p["training_batch_size"]))) for p in pool
        ]
        epoch_cost = [_epoch_seconds(c, data) for _, c in priced]
        count, epochs = _fit_count(epoch_cost, room, overhead, bounds, slots)
        if epochs >= (max(bounds[0], LARGER_INPUT_EPOCHS) if smaller < 0 else bounds[0]):
            break
    if smaller < 0:
        notes.append(
            f"the budget fits {epochs} epochs at {_size_of(pool[0])} px: inputs start one "
            "size above 64 px"
        )
    elif smaller:
        notes.append(
            f"64 px does not fit {bounds[0]} epochs in the budget: inputs start at "
            f"{_size_of(pool[0])} px"
        )
    if count < min(slots, len(priced)):
        notes.append(
            f"the budget fits {count} of the {len(priced)} portfolio candidates at "
            f">= {max(epochs, bounds[0])} epochs; the most expensive were left out"
        )
    if count >= 1 and epochs < bounds[0]:
        epochs = max(1, epochs)
        notes.append(f"the budget fits only {epochs} epoch(s) of the cheapest candidate")
    return priced, epoch_cost, count, epochs


def _fit_count(
    epoch_cost: list[float],
    room: float,
    overhead: float,
    bounds: tuple[int, int],
    slots: int,
) -> tuple[int, int]:
    """How many candidates (from the first) and epochs fit: fewer candidates rather than
    fewer than ``bounds[0]`` epochs, or than :data:`FIRST_TRIAL_SHARE` of the epochs the first
    candidate would get alone (the most promising configuration trains long enough)."""
    count = min(slots, len(epoch_cost))
    alone = _fit_epochs(epoch_cost[0], [], room, overhead, bounds)
    share = FIRST_TRIAL_SHARE["scratch" if bounds == EPOCHS_FROM_SCRATCH else "pretrained"]
    wanted = max(bounds[0], min(bounds[1], int(share * alone)))
    epochs = 0
    while count >= 1:
        epochs = _fit_epochs(epoch_cost[0], epoch_cost[1:count], room, overhead, bounds)
        if epochs >= wanted or count == 1:
            break
        count -= 1
    return count, epochs


def plan_automode(
    task: Task | str,
    budget: Budget,
    machine: Machine,
    data: DataProfile,
    *,
    pretrained: bool,
    cost: CostFunction,
    probe_summary: list[str] | None = None,
) -> Plan:
    """Choose AutoMode's trials so the sweep fits the budget (see the module docstring).

    Args:
        task: The task.
        budget: The job's limits.
        machine: The machine trials run on.
        data: The data profile.
        pretrained: Whether pretrained weights can be had (and are wanted).
        cost: ``cost(model_name, input_size, batch_size) -> Cost`` (seconds per image).
        probe_summary: Lines saying what the probe measured, for the plan's text.

    Returns:
        The :class:`Plan`.
    """
    task = as_task(task)
    device = machine.device
    overhead = TRIAL_OVERHEAD_SECONDS[device]
    # Trials on one CPU share its cores: no speed-up from running them side by side.
    parallel = min(budget.max_concurrent_trials, machine.gpu_count) if machine.gpu_count else 1
    parallel = max(1, parallel)
    seconds = budget.seconds * BUDGET_USE * parallel
    bounds = EPOCHS_PRETRAINED if pretrained else EPOCHS_FROM_SCRATCH
    notes: list[str] = []
    default, keep_default, first_reason = _first_trial(task, data, pretrained, cost, seconds)
    room = seconds - ((overhead + default.expected_seconds) if keep_default else 0.0)
    slots = budget.max_trials - (1 if keep_default else 0)
    priced, epoch_cost, count, epochs = _choose_portfolio(
        task, machine, data, pretrained, cost, (room, overhead, bounds, slots), notes
    )
    candidates: list[Candidate] = [default] if keep_default else []
    for (params, c), per_epoch in list(zip(priced, epoch_cost, strict=True))[: max(0, count)]:
        candidates.append(
            Candidate(
                params={**params, "number_of_epochs": epochs, "early_stopping": False},
                epochs=epochs,
                epoch_seconds=per_epoch,
                train_seconds_per_image=c.train,
                measured=c.measured,
                role="portfolio",
            )
        )
    min_resource = min_resource_for(epochs, from_scratch=not pretrained) if epochs else 1
    fraction = successive_halving_fraction(epochs, min_resource, REDUCTION_FACTOR)
    expected = _expected_total(candidates, overhead, fraction)
    extra, extra_seconds = _extra_trials(candidates, budget, seconds - expected, overhead)
    expected += extra_seconds if epochs >= bounds[1] else 0.0
    extra = extra if epochs >= bounds[1] else 0
    n_trials = len(candidates) + extra
    if n_trials < budget.max_trials:
        notes.append(
            f"max_trials is {budget.max_trials}; the budget fits {n_trials} trial(s) "
            "(resume with --max-trials / --timeout-minutes to run more)"
        )
    if data.imbalance >= 3 and task is Task.CLASSIFICATION:
        notes.append(f"classes are imbalanced ({data.imbalance:.1f}:1): weighted loss on")
        for candidate in candidates:
            if candidate.role == "portfolio":
                candidate.params["weighted_loss"] = 1
    return Plan(
        task=task.value,
        candidates=candidates,
        epochs=epochs,
        n_trials=n_trials,
        sampled_trials=extra,
        min_resource=min_resource,
        reduction_factor=REDUCTION_FACTOR,
        expected_seconds=expected / parallel,
        budget_seconds=budget.seconds,
        trial_overhead_seconds=overhead,
        parallel=parallel,
        pretrained=pretrained,
        machine=machine.describe(),
        data=data.describe(),
        first_is_default=keep_default,
        first_reason=first_reason,
        notes=notes,
        measured=list(probe_summary or []),
    )


def _extra_trials(
    candidates: list[Candidate], budget: Budget, spare: float, overhead: float
) -> tuple[int, float]:
    """Sampled trials that fit in ``spare`` seconds after the candidates, and their time."""
    sampled = [c for c in candidates if c.role == "portfolio"]
    if not sampled or len(candidates) >= budget.max_trials:
        return 0, 0.0
    epochs = sampled[0].epochs
    rung = min_resource_for(epochs, from_scratch="learning_rate" in sampled[0].params)
    fraction = successive_halving_fraction(epochs, rung, REDUCTION_FACTOR)
    mean = sum(c.epoch_seconds for c in sampled) / len(sampled)
    per_extra = overhead + fraction * epochs * mean
    extra = min(int(max(0.0, spare) // per_extra), budget.max_trials - len(candidates))
    return extra, extra * per_extra


def _expected_total(candidates: list[Candidate], overhead: float, fraction: float) -> float:
    total = 0.0
    for i, c in enumerate(candidates):
        share = 1.0 if i == 0 or c.role == "default" else fraction
        total += overhead + share * c.expected_seconds
    return total


def _default_size(task: Task) -> int:
    """The input size of the task's default model with its defaults (yolov5: 640 px)."""
    from automl_nb.models import get_model_defaults

    return _size_of(get_model_defaults(DEFAULT_MODEL[task], task))


def _default_candidate(
    task: Task, data: DataProfile, pretrained: bool, cost: CostFunction
) -> Candidate:
    """The task's default model with its defaults, priced (Azure's first AutoMode trial)."""
    from automl_nb.models import get_model_defaults

    model = DEFAULT_MODEL[task]
    defaults = get_model_defaults(model, task)
    size = _size_of(defaults)
    batch = int(defaults.get("training_batch_size") or 16)
    epochs = int(defaults.get("number_of_epochs") or DEFAULT_EPOCHS)
    c = cost(model, size, batch)
    return Candidate(
        params={"model_name": model},
        epochs=epochs,
        epoch_seconds=_epoch_seconds(c, data),
        train_seconds_per_image=c.train,
        measured=c.measured,
        role="default",
    )
