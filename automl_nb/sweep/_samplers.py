"""Samplers, keyed by Azure's ``sweep.sampling_algorithm`` names.

- ``random``: Optuna's ``RandomSampler``; works with every distribution and with several
  sub-spaces.
- ``grid``: :class:`~automl_nb.sweep.GridSearchSampler`; every point of the product of the
  ``choice`` values of each sub-space, once. Continuous distributions are a ``ConfigError``.
- ``bayesian``: Optuna's ``TPESampler(multivariate=True, group=True, constant_liar=True)``.
  automl-nb goes beyond Azure here: **conditional spaces (several sub-spaces) are supported**,
  because ``group=True`` models each sub-space's parameters as its own group, and every
  distribution works (``loguniform`` as a log-scale float, ``normal`` through its uniform
  parameter). Azure accepts only ``choice``, ``uniform`` and ``quniform`` for bayesian
  sampling; other distributions are accepted with a ``UserWarning`` saying the job would not
  run on Azure as is. The first 10 trials are random (TPE's start-up); Azure advises at least
  20 trials per swept hyperparameter.

Names are matched case-insensitively (v1 wrote ``Random``, ``Grid``, ``Bayesian``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import optuna

from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Distribution
from automl_nb.config._distributions import QUniform
from automl_nb.config._distributions import Uniform
from automl_nb.errors import ConfigError
from automl_nb.registry import Registry
from automl_nb.registry import not_one_of
from automl_nb.sweep._grid import GridSearchSampler
from automl_nb.sweep._search_space import normalize_search_space

SamplerFactory = Callable[..., "optuna.samplers.BaseSampler"]
# Keyed by the lower-case Azure name; lookups ignore case (v1 wrote ``Random``).
SAMPLERS: Registry[SamplerFactory] = Registry("sampling algorithm", error=ConfigError)

AZURE_BAYESIAN_DISTRIBUTIONS = (Choice, Uniform, QUniform)


def register_sampler(name: str) -> Callable[[SamplerFactory], SamplerFactory]:
    """Register a sampler factory ``(search_space, *, seed) -> BaseSampler`` under ``name``."""

    return SAMPLERS.register(name)


def list_samplers() -> list[str]:
    """The registered ``sampling_algorithm`` names."""
    return sorted(SAMPLERS.names())


@register_sampler("random")
def _random(search_space: Any, *, seed: int | None = None) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


@register_sampler("grid")
def _grid(search_space: Any, *, seed: int | None = None) -> optuna.samplers.BaseSampler:
    return GridSearchSampler(search_space, seed=seed)


@register_sampler("bayesian")
def _bayesian(search_space: Any, *, seed: int | None = None) -> optuna.samplers.BaseSampler:
    outside = sorted(
        {
            f"{name} ({spec.type})"
            for sub in normalize_search_space(search_space)
            for name, spec in sub.items()
            if isinstance(spec, Distribution)
            and not isinstance(spec, AZURE_BAYESIAN_DISTRIBUTIONS)
        }
    )
    if outside:
        warnings.warn(
            "bayesian sampling on Azure takes only choice, uniform and quniform; automl-nb "
            f"also samples {', '.join(outside)}, but Azure would reject this job",
            UserWarning,
            stacklevel=3,
        )
    with warnings.catch_warnings():
        # group=True is flagged experimental by Optuna; it is what makes conditional spaces work.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            multivariate=True, group=True, constant_liar=True, seed=seed
        )


def create_sampler(
    sampling_algorithm: str | None, search_space: Any = None, *, seed: int | None = None
) -> optuna.samplers.BaseSampler:
    """Create the Optuna sampler for a ``sweep.sampling_algorithm``.

    Example:
        .. testcode::

            from automl_nb.config._distributions import Choice
            from automl_nb.sweep import create_sampler

            sampler = create_sampler("grid", ({"model_name": Choice(("a", "b"))},))
            assert sampler.n_points == 2

    Args:
        sampling_algorithm: ``random``, ``grid`` or ``bayesian`` (any case); ``None`` means
            ``random`` (AutoMode and sweeps without a ``sweep`` section).
        search_space: The job's search space (needed by ``grid``, checked by ``bayesian``).
        seed: Seed for reproducible sampling.

    Returns:
        An ``optuna.samplers.BaseSampler``.

    Raises:
        ConfigError: Unknown algorithm (with the closest name), or a search space that the
            algorithm cannot sample.
    """
    name = "random" if sampling_algorithm is None else str(sampling_algorithm).strip().lower()
    if name not in SAMPLERS:
        raise ConfigError(
            not_one_of(
                sampling_algorithm,
                SAMPLERS.names(),
                path="sweep.sampling_algorithm",
                message=f"unknown sampling algorithm; expected one of: {', '.join(list_samplers())}",
            )
        )
    return SAMPLERS.get(name)(search_space, seed=seed)
