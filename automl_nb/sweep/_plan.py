"""``create_study_components``: everything a runner needs to drive a job's sweep."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

import optuna

from automl_nb.sweep._automode import automode_first_params
from automl_nb.sweep._automode import automode_search_space
from automl_nb.sweep._grid import GridSearchSampler
from automl_nb.sweep._policies import create_pruner
from automl_nb.sweep._samplers import create_sampler
from automl_nb.sweep._search_space import FIXED_HYPERPARAMETERS_ATTR
from automl_nb.sweep._search_space import enqueue_hyperparameters
from automl_nb.sweep._search_space import suggest_parameters

if TYPE_CHECKING:
    from automl_nb.sweep._plan_object import Plan

# Study attribute: how many planned trials were queued (resume does not queue them again).
QUEUED_ATTR = "automode_queued"


@dataclass(frozen=True)
class SweepPlan:
    """How a job samples and stops its trials.

    Attributes:
        sampler: The Optuna sampler.
        pruner: The Optuna pruner (``NopPruner`` without early termination).
        direction: Always ``"maximize"`` (every primary metric is maximised).
        search_space: The sub-spaces sampled (the job's, or AutoMode's portfolio).
        first_trial_params: Hyperparameters of a trial to run first (AutoMode: the default
            model with its defaults), or ``None``.
        n_trials: Trials to run: ``max_trials``, or fewer when the grid is smaller.
        sampling_algorithm: ``random``, ``grid`` or ``bayesian``.
        automode: True when the search space is AutoMode's.
        grid_size: Number of grid points with grid sampling, else ``None``.
        automode_plan: AutoMode's budget plan (its candidates are queued first), or ``None``.
    """

    sampler: optuna.samplers.BaseSampler
    pruner: optuna.pruners.BasePruner
    direction: str
    search_space: tuple[dict[str, Any], ...]
    first_trial_params: dict[str, Any] | None
    n_trials: int
    sampling_algorithm: str
    automode: bool
    grid_size: int | None
    automode_plan: Plan | None = None

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """The hyperparameters of ``trial`` (see :func:`~automl_nb.sweep.suggest_parameters`)."""
        return suggest_parameters(trial, self.search_space)

    def enqueue_first_trial(self, study: optuna.Study) -> bool:
        """Queue :attr:`first_trial_params` unless ``study`` already has it (resume-safe).

        Returns:
            True when a trial was queued.
        """
        if self.first_trial_params is None:
            return False
        if study.user_attrs.get(QUEUED_ATTR) or any(
            FIXED_HYPERPARAMETERS_ATTR in t.user_attrs for t in study.get_trials(deepcopy=False)
        ):
            return False
        queued = (
            [c.params for c in self.automode_plan.candidates]
            if self.automode_plan is not None
            else [self.first_trial_params]
        )
        for params in queued:
            enqueue_hyperparameters(study, params, self.search_space)
        study.set_user_attr(QUEUED_ATTR, len(queued))
        return True


def create_study_components(
    spec: Any,
    *,
    seed: int | None = None,
    gpu_memory_gb: float | None = None,
    automode_plan: Plan | None = None,
) -> SweepPlan:
    """Plan a job's sweep: sampler, pruner, direction and the trial to run first.

    A job with a ``search_space`` samples it with ``sweep.sampling_algorithm`` (``random``
    when there is no ``sweep`` section). A job with ``max_trials > 1`` and no search space is
    AutoMode: random sampling over :func:`~automl_nb.sweep.automode_search_space`, the default
    model first. A single trial (``max_trials == 1``, no search space) samples nothing.
    ``sweep.early_termination`` applies in every case.

    Args:
        spec: A ``JobSpec`` (read by attribute: ``task``, ``limits``, ``search_space``,
            ``sweep``, ``training_parameters``).
        seed: Sampler seed; defaults to ``training_parameters.random_seed`` when set.
        gpu_memory_gb: GPU memory per trial for AutoMode (``None``: CPU).
        automode_plan: AutoMode's budget :class:`~automl_nb.sweep.Plan`. With it, its
            candidates run first, in order; later trials sample its models and learning
            rates with TPE, and successive halving over epochs stops weak trials early
            (unless the job sets ``sweep.early_termination``). Without it, AutoMode is the
            fixed portfolio of :func:`~automl_nb.sweep.automode_search_space`.

    Returns:
        The :class:`SweepPlan`.
    """
    limits = getattr(spec, "limits", None)
    max_trials = max(1, int(getattr(limits, "max_trials", 1) or 1))
    sweep = getattr(spec, "sweep", None)
    if seed is None:
        seed = getattr(getattr(spec, "training_parameters", None), "random_seed", None)
    search_space = tuple(getattr(spec, "search_space", None) or ())
    algorithm = getattr(sweep, "sampling_algorithm", None) or "random"
    first: dict[str, Any] | None = None
    automode = not search_space and max_trials > 1
    policy = getattr(sweep, "early_termination", None)
    pruner = create_pruner(policy)
    if automode and automode_plan is not None and automode_plan.candidates:
        search_space = automode_plan.search_space() or tuple(
            {**c.params} for c in automode_plan.candidates
        )
        first = dict(automode_plan.candidates[0].params)
        algorithm = "bayesian"
        if policy is None:
            pruner = optuna.pruners.SuccessiveHalvingPruner(
                min_resource=automode_plan.min_resource,
                reduction_factor=automode_plan.reduction_factor,
            )
    elif automode:
        automode_plan = None
        search_space = automode_search_space(
            spec.task, gpu_memory_gb=gpu_memory_gb, max_trials=max_trials
        )
        first = automode_first_params(spec.task)
        algorithm = "random"
    else:
        automode_plan = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # AutoMode's own space, not the user's
        sampler = create_sampler(algorithm, search_space, seed=seed)
    n_grid = sampler.n_points if isinstance(sampler, GridSearchSampler) else None
    return SweepPlan(
        sampler=sampler,
        pruner=pruner,
        direction="maximize",
        search_space=search_space,
        first_trial_params=first,
        n_trials=min(max_trials, n_grid) if n_grid is not None else max_trials,
        sampling_algorithm=str(algorithm).strip().lower(),
        automode=automode,
        grid_size=n_grid,
        automode_plan=automode_plan,
    )
