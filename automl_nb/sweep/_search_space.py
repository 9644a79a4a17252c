"""Search spaces on Optuna's define-by-run API.

A job's ``search_space`` is a list of sub-spaces (Azure's conditional form); each maps a
hyperparameter name to a :class:`~automl_nb.config._distributions.Distribution` or to a fixed
value. :func:`suggest_parameters` turns one sub-space into ``trial.suggest_*`` calls and returns
the plain hyperparameter dict a trial trains with.

How the space appears to Optuna (the names matter for samplers and dashboards):

- With several sub-spaces, the sub-space is picked first, by a categorical parameter. When each
  sub-space pins a distinct ``model_name`` (a fixed string or a one-value ``choice``), that
  parameter is ``model_name`` over the model names; otherwise it is ``subspace`` over the
  indices ``0..n-1``.
- A hyperparameter that appears in several sub-spaces with the *same* distribution keeps its
  name, so samplers learn across sub-spaces. If its distributions differ, every occurrence is
  namespaced by its sub-space (``resnet50:learning_rate`` with a ``model_name`` selector,
  ``0:learning_rate`` with an index selector), because Optuna ties one distribution to a name.
- ``normal`` and ``lognormal`` have no Optuna counterpart: the Optuna parameter is
  ``<name>__u``, uniform in ``(1e-6, 1 - 1e-6)``, mapped through the normal inverse CDF, so the
  value is exactly ``normal(mu, sigma)`` (truncated at about 4.75 sigma) and TPE still models
  it.
- ``loguniform`` bounds are natural logs: the Optuna parameter is the value itself, drawn
  log-uniformly in ``[exp(min), exp(max)]``.
- ``q*`` variants draw the continuous value and round it, ``round(x / q) * q`` (Python's
  ``round``: halves to even, like NumPy's); the result is an ``int`` when ``q`` and the
  ``quniform`` bounds are integral (``quniform(8, 64, 8)`` gives ``16``, not ``16.0``).
- A ``choice`` whose values are not all ``None``/``bool``/``int``/``float``/``str``, or has
  values equal across types (``1`` and ``True``), is suggested by index and mapped back.
- Fixed values pass through and are not Optuna parameters.

The full hyperparameter dict of each trial is also stored as the trial's user attribute
``"hyperparameters"`` (read it back with :func:`trial_hyperparameters`), because the Optuna
parameters alone use the namespaced names above.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Distribution
from automl_nb.config._distributions import LogNormal
from automl_nb.config._distributions import LogUniform
from automl_nb.config._distributions import Normal
from automl_nb.config._distributions import QLogNormal
from automl_nb.config._distributions import QLogUniform
from automl_nb.config._distributions import QNormal
from automl_nb.config._distributions import QUniform
from automl_nb.config._distributions import Randint
from automl_nb.config._distributions import Uniform
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

NORMAL_EPS = 1e-6
"""The uniform parameter behind ``normal``/``lognormal`` lies in ``(NORMAL_EPS, 1 - NORMAL_EPS)``."""

HYPERPARAMETERS_ATTR = "hyperparameters"
"""Trial user attribute holding the full hyperparameter dict."""

FIXED_HYPERPARAMETERS_ATTR = "fixed_hyperparameters"
"""Trial user attribute of an enqueued trial whose hyperparameters are given, not sampled."""

_SIMPLE_TYPES = (type(None), bool, int, float, str)


@dataclass(frozen=True)
class SpaceParam:
    """One hyperparameter of one sub-space.

    Attributes:
        name: The hyperparameter name the trial trains with (``learning_rate``).
        key: The Optuna parameter name (``learning_rate``, ``0:learning_rate``).
        spec: A :class:`Distribution`, or the fixed value.
    """

    name: str
    key: str
    spec: Any

    @property
    def is_fixed(self) -> bool:
        """True when ``spec`` is a fixed value, not a distribution."""
        return not isinstance(self.spec, Distribution)


@dataclass(frozen=True)
class CompiledSpace:
    """A search space laid out for Optuna (see the module docstring).

    Attributes:
        selector: ``"model_name"``, ``"subspace"`` or ``None`` (one sub-space).
        selector_choices: The categorical choices of ``selector``, one per sub-space.
        subspaces: The parameters of each sub-space, in the user's order.
    """

    selector: str | None
    selector_choices: tuple[Any, ...]
    subspaces: tuple[tuple[SpaceParam, ...], ...]


def normalize_search_space(search_space: Any) -> tuple[dict[str, Any], ...]:
    """Return the search space as a tuple of sub-space dicts.

    Args:
        search_space: ``None`` or empty (no sweep parameters), one mapping, or a sequence of
            mappings (Azure's list of sub-spaces).

    Returns:
        A tuple of plain dicts; ``({},)`` when there is nothing to sweep.

    Raises:
        ConfigError: When a sub-space is not a mapping.
    """
    if search_space is None:
        return ({},)
    if isinstance(search_space, Mapping):
        return (dict(search_space),)
    subspaces = tuple(search_space)
    if not subspaces:
        return ({},)
    problems = [
        Problem("must be a mapping of hyperparameter names", path=f"search_space[{i}]")
        for i, sub in enumerate(subspaces)
        if not isinstance(sub, Mapping)
    ]
    if problems:
        raise ConfigError(problems)
    return tuple(dict(sub) for sub in subspaces)


def _pinned_model(sub: Mapping[str, Any]) -> str | None:
    value = sub.get("model_name")
    if isinstance(value, Choice) and len(value.values) == 1:
        value = value.values[0]
    return value if isinstance(value, str) else None


def compile_search_space(search_space: Any) -> CompiledSpace:
    """Lay out a search space for Optuna: the sub-space selector and the parameter names.

    Args:
        search_space: See :func:`normalize_search_space`.

    Returns:
        The :class:`CompiledSpace`.
    """
    subspaces = normalize_search_space(search_space)
    selector: str | None = None
    choices: tuple[Any, ...] = ()
    if len(subspaces) > 1:
        models = [_pinned_model(sub) for sub in subspaces]
        if all(m is not None for m in models) and len(set(models)) == len(models):
            selector, choices = "model_name", tuple(models)
        else:
            selector, choices = "subspace", tuple(range(len(subspaces)))

    # A name whose distributions differ between sub-spaces is namespaced everywhere.
    seen: dict[str, list[Distribution]] = {}
    for sub in subspaces:
        for name, spec in sub.items():
            if isinstance(spec, Distribution):
                seen.setdefault(name, [])
                if spec not in seen[name]:
                    seen[name].append(spec)
    clashing = {name for name, specs in seen.items() if len(specs) > 1}

    compiled = []
    for i, sub in enumerate(subspaces):
        params = []
        for name, spec in sub.items():
            if selector == "model_name" and name == "model_name":
                spec = choices[i]  # picked by the selector; never suggested twice
            key = f"{choices[i]}:{name}" if name in clashing else name
            params.append(SpaceParam(name=name, key=key, spec=spec))
        compiled.append(tuple(params))
    return CompiledSpace(selector=selector, selector_choices=choices, subspaces=tuple(compiled))


def categorical_choices(values: Sequence[Any]) -> tuple[tuple[Any, ...], bool]:
    """The Optuna categorical choices for a ``choice``'s values.

    Args:
        values: The ``choice`` values.

    Returns:
        ``(choices, by_index)``: the values themselves, or their indices when the values are
        not all Optuna-storable scalars or two of them compare equal (``1`` and ``True``).
    """
    values = tuple(values)
    simple = all(type(v) in _SIMPLE_TYPES for v in values)
    if simple and len(set(values)) == len(values):
        return values, False
    return tuple(range(len(values))), True


def _quantize(value: float, dist: Any, bounds: Sequence[Any]) -> float | int:
    q = dist.q
    if q <= 0:
        raise ConfigError(Problem("q must be > 0", value=repr(q)))
    rounded = round(value / q) * q
    # The job spec stores every bound as a float, so "integer" means integral-valued here.
    if float(q).is_integer() and all(float(b).is_integer() for b in bounds):
        return int(rounded)
    # Drop float noise such as 0.30000000000000004 from the multiplication.
    return float(f"{rounded:.12g}")


def _suggest_normal(trial: Any, key: str, mu: float, sigma: float) -> float:
    if sigma < 0:
        raise ConfigError(Problem("sigma must be >= 0", path=key, value=repr(sigma)))
    if sigma == 0:
        return mu  # a point mass: nothing to sample
    u = trial.suggest_float(f"{key}__u", NORMAL_EPS, 1.0 - NORMAL_EPS)
    return NormalDist(mu, sigma).inv_cdf(u)


def _check_bounds(key: str, low: float, high: float) -> None:
    if low > high:
        raise ConfigError(
            Problem("min_value must be <= max_value", path=key, value=f"{low!r} > {high!r}")
        )


def suggest_value(trial: Any, key: str, dist: Distribution) -> Any:
    """Suggest one value of ``dist`` under the Optuna parameter name ``key``.

    Args:
        trial: An ``optuna.Trial`` (or anything with its ``suggest_*`` methods).
        key: The Optuna parameter name.
        dist: The distribution.

    Returns:
        The value, with the reference semantics of ``dist``.
    """
    if isinstance(dist, Choice):
        if not dist.values:
            raise ConfigError(Problem("choice needs at least one value", path=key))
        choices, by_index = categorical_choices(dist.values)
        picked = trial.suggest_categorical(key, choices)
        return dist.values[picked] if by_index else picked
    if isinstance(dist, Randint):
        if dist.upper < 1:
            raise ConfigError(Problem("randint upper must be >= 1", path=key))
        return trial.suggest_int(key, 0, int(dist.upper) - 1)
    if isinstance(dist, QUniform):
        _check_bounds(key, dist.min_value, dist.max_value)
        x = trial.suggest_float(key, dist.min_value, dist.max_value)
        return _quantize(x, dist, (dist.min_value, dist.max_value))
    if isinstance(dist, Uniform):
        _check_bounds(key, dist.min_value, dist.max_value)
        return trial.suggest_float(key, dist.min_value, dist.max_value)
    if isinstance(dist, (LogUniform, QLogUniform)):
        _check_bounds(key, dist.min_value, dist.max_value)
        x = trial.suggest_float(key, math.exp(dist.min_value), math.exp(dist.max_value), log=True)
        return _quantize(x, dist, ()) if isinstance(dist, QLogUniform) else x
    if isinstance(dist, (Normal, QNormal)):
        x = _suggest_normal(trial, key, dist.mu, dist.sigma)
        return _quantize(x, dist, ()) if isinstance(dist, QNormal) else x
    if isinstance(dist, (LogNormal, QLogNormal)):
        x = math.exp(_suggest_normal(trial, key, dist.mu, dist.sigma))
        return _quantize(x, dist, ()) if isinstance(dist, QLogNormal) else x
    raise ConfigError(Problem(f"unsupported distribution {type(dist).__name__}", path=key))


def _json_safe(value: dict[str, Any]) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def suggest_parameters(trial: Any, search_space: Any) -> dict[str, Any]:
    """Suggest one trial's hyperparameters from a (possibly conditional) search space.

    Example:
        .. testcode::

            import optuna
            from automl_nb.config._distributions import Uniform
            from automl_nb.sweep import suggest_parameters

            space = (
                {"model_name": "resnet50", "learning_rate": Uniform(0.001, 0.01)},
                {"model_name": "vitb16r224", "learning_rate": Uniform(0.0001, 0.001)},
            )
            study = optuna.create_study(direction="maximize")
            trial = study.ask()
            params = suggest_parameters(trial, space)
            assert params["model_name"] in ("resnet50", "vitb16r224")

    Args:
        trial: An ``optuna.Trial`` from ``study.ask()`` or inside ``study.optimize``. A trial
            enqueued by :func:`enqueue_hyperparameters` returns its given hyperparameters.
        search_space: A tuple of sub-space dicts (``JobSpec.search_space``), one dict, or
            ``None``.

    Returns:
        The plain hyperparameter dict (``{"model_name": ..., "learning_rate": ...}``), in the
        sub-space's key order. Also stored as the trial's ``"hyperparameters"`` user attribute
        when it is JSON-serialisable.

    Raises:
        ConfigError: A distribution with invalid parameters.
    """
    space = compile_search_space(search_space)
    user_attrs = getattr(trial, "user_attrs", None) or {}
    fixed = user_attrs.get(FIXED_HYPERPARAMETERS_ATTR)
    if fixed is not None:
        params = dict(fixed)
        if space.selector == "model_name" and params.get("model_name") in space.selector_choices:
            trial.suggest_categorical("model_name", space.selector_choices)
    else:
        index = 0
        if space.selector is not None:
            picked = trial.suggest_categorical(space.selector, space.selector_choices)
            index = space.selector_choices.index(picked)
        params = {}
        for p in space.subspaces[index]:
            params[p.name] = p.spec if p.is_fixed else suggest_value(trial, p.key, p.spec)
    if hasattr(trial, "set_user_attr") and _json_safe(params):
        trial.set_user_attr(HYPERPARAMETERS_ATTR, params)
    return params


def trial_hyperparameters(trial: Any) -> dict[str, Any]:
    """The hyperparameters a trial trained with (its ``"hyperparameters"`` user attribute).

    Args:
        trial: An ``optuna.trial.FrozenTrial`` or ``optuna.Trial``.

    Returns:
        The dict stored by :func:`suggest_parameters`, else the trial's Optuna ``params``.
    """
    stored = trial.user_attrs.get(HYPERPARAMETERS_ATTR)
    return dict(stored) if stored is not None else dict(trial.params)


def enqueue_hyperparameters(
    study: Any, hyperparameters: Mapping[str, Any], search_space: Any = None
) -> None:
    """Queue a trial that trains with exactly ``hyperparameters`` (nothing sampled).

    AutoMode uses this for its first trial (the task's default model with its default
    hyperparameters). When the search space selects sub-spaces by ``model_name`` and the model
    is one of them, the trial also records ``model_name`` as its Optuna parameter.

    Args:
        study: The ``optuna.Study``.
        hyperparameters: The JSON-serialisable hyperparameter dict.
        search_space: The search space the study samples from, if any.
    """
    params: dict[str, Any] = {}
    space = compile_search_space(search_space)
    if space.selector == "model_name" and hyperparameters.get("model_name") in (
        space.selector_choices
    ):
        params["model_name"] = hyperparameters["model_name"]
    study.enqueue_trial(params, user_attrs={FIXED_HYPERPARAMETERS_ATTR: dict(hyperparameters)})
