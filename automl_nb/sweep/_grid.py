"""Grid sampling: every point of a (conditional) discrete search space, each exactly once.

Optuna's ``GridSampler`` takes one product over a fixed set of parameters, which cannot express
Azure's list of sub-spaces. :func:`grid_points` enumerates the explicit list instead: for each
sub-space in order, the product of its ``choice`` values (and ``randint`` ranges, which are
finite too) in key order; a point that an earlier sub-space already produced (the same
hyperparameter dict) is kept once. :class:`GridSearchSampler` hands the lowest unvisited point
to each new trial.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import warnings
from dataclasses import dataclass
from typing import Any

from optuna.samplers import BaseSampler
from optuna.samplers import RandomSampler

from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Randint
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.sweep._search_space import categorical_choices
from automl_nb.sweep._search_space import compile_search_space

GRID_ID_ATTR = "automl_nb:grid_id"
GRID_KEY_ATTR = "automl_nb:grid"


@dataclass(frozen=True)
class GridPoint:
    """One grid point.

    Attributes:
        hyperparameters: The plain hyperparameter dict the trial trains with.
        optuna_params: The Optuna parameter values (selector and namespaced names) that make
            :func:`~automl_nb.sweep.suggest_parameters` return ``hyperparameters``.
    """

    hyperparameters: dict[str, Any]
    optuna_params: dict[str, Any]


def grid_points(search_space: Any) -> list[GridPoint]:
    """Enumerate the grid of a search space.

    Args:
        search_space: A tuple of sub-space dicts, one dict, or ``None``.

    Returns:
        The distinct points, sub-space by sub-space.

    Raises:
        ConfigError: A parameter has a continuous distribution (grid sampling takes only
            ``choice``, and ``randint``); every such parameter is listed.
    """
    space = compile_search_space(search_space)
    problems = [
        Problem(
            f"grid sampling takes only choice (or randint) distributions, not {p.spec.type}",
            path=f"search_space[{i}].{p.name}",
            value=p.spec.to_expression(),
            suggestion="choice(...)",
        )
        for i, sub in enumerate(space.subspaces)
        for p in sub
        if not p.is_fixed and not isinstance(p.spec, (Choice, Randint))
    ]
    if problems:
        raise ConfigError(problems, header="search space not usable with sampling_algorithm: grid")

    points: list[GridPoint] = []
    seen: set[str] = set()
    for i, sub in enumerate(space.subspaces):
        # per parameter: list of (optuna value or None, hyperparameter value)
        axes: list[list[tuple[Any, Any]]] = []
        for p in sub:
            if p.is_fixed:
                axes.append([(None, p.spec)])
            elif isinstance(p.spec, Randint):
                axes.append([(v, v) for v in range(int(p.spec.upper))])
            else:
                choices, by_index = categorical_choices(p.spec.values)
                axes.append(
                    list(zip(choices, p.spec.values)) if by_index else [(v, v) for v in choices]
                )
        for combo in itertools.product(*axes):
            hyper = {p.name: value for p, (_, value) in zip(sub, combo)}
            key = json.dumps(hyper, sort_keys=True, default=repr)
            if key in seen:
                continue
            seen.add(key)
            optuna_params = {p.key: o for p, (o, _) in zip(sub, combo) if not p.is_fixed}
            if space.selector is not None:
                optuna_params[space.selector] = space.selector_choices[i]
            points.append(GridPoint(hyperparameters=hyper, optuna_params=optuna_params))
    return points


def grid_size(search_space: Any) -> int:
    """The number of grid points of a search space (see :func:`grid_points`)."""
    return len(grid_points(search_space))


class GridSearchSampler(BaseSampler):
    """Visit each grid point of a conditional discrete search space once.

    Each new trial takes the lowest-numbered point that no trial of the study (in any state,
    failed included) holds yet; the point is recorded in the trial's system attributes, so a
    resumed study goes on where it stopped. Once every point is taken, :meth:`is_exhausted`
    is true and further trials revisit points (with a warning); the runner stops at
    ``min(max_trials, n_points)``. Enqueued trials (fixed parameters) take no point.

    Args:
        search_space: The search space; must be discrete (see :func:`grid_points`).
        seed: Seed of the random fallback for a parameter outside the grid.
    """

    def __init__(self, search_space: Any, *, seed: int | None = None) -> None:
        self._points = grid_points(search_space)
        payload = json.dumps([p.hyperparameters for p in self._points], default=repr)
        self._key = hashlib.sha1(payload.encode()).hexdigest()[:16]
        self._fallback = RandomSampler(seed=seed)

    @property
    def points(self) -> list[GridPoint]:
        """The grid points, in visiting order."""
        return list(self._points)

    @property
    def n_points(self) -> int:
        """The number of grid points."""
        return len(self._points)

    def _taken(self, study: Any) -> set[int]:
        return {
            t.system_attrs[GRID_ID_ATTR]
            for t in study.get_trials(deepcopy=False)
            if t.system_attrs.get(GRID_KEY_ATTR) == self._key and GRID_ID_ATTR in t.system_attrs
        }

    def is_exhausted(self, study: Any) -> bool:
        """True when every grid point is taken by a trial of ``study``."""
        return len(self._taken(study)) >= len(self._points)

    def before_trial(self, study: Any, trial: Any) -> None:
        if GRID_ID_ATTR in trial.system_attrs or "fixed_params" in trial.system_attrs:
            return
        taken = self._taken(study)
        free = [i for i in range(len(self._points)) if i not in taken]
        if free:
            grid_id = free[0]
        else:
            warnings.warn(
                f"all {len(self._points)} grid points were visited; revisiting one",
                UserWarning,
                stacklevel=2,
            )
            grid_id = trial.number % max(1, len(self._points))
        study._storage.set_trial_system_attr(trial._trial_id, GRID_KEY_ATTR, self._key)
        study._storage.set_trial_system_attr(trial._trial_id, GRID_ID_ATTR, grid_id)

    def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
        return {}

    def sample_relative(self, study: Any, trial: Any, search_space: Any) -> dict[str, Any]:
        return {}

    def sample_independent(
        self, study: Any, trial: Any, param_name: str, param_distribution: Any
    ) -> Any:
        grid_id = trial.system_attrs.get(GRID_ID_ATTR)
        if grid_id is not None and self._points:
            params = self._points[grid_id].optuna_params
            if param_name in params:
                return params[param_name]
        return self._fallback.sample_independent(study, trial, param_name, param_distribution)
