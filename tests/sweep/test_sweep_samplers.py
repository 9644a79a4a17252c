from __future__ import annotations

import json
import warnings

import optuna
import pytest

from automl_nb.config import Choice
from automl_nb.config import LogUniform
from automl_nb.config import Normal
from automl_nb.config import QUniform
from automl_nb.config import Randint
from automl_nb.config import SweepSettings
from automl_nb.config import Uniform
from automl_nb.errors import ConfigError
from automl_nb.sweep import GridSearchSampler
from automl_nb.sweep import create_sampler
from automl_nb.sweep import grid_points
from automl_nb.sweep import grid_size
from automl_nb.sweep import list_samplers
from automl_nb.sweep import suggest_parameters

optuna.logging.set_verbosity(optuna.logging.WARNING)

DISCRETE = (
    {
        "model_name": "resnet18",
        "learning_rate": Choice((0.1, 0.01, 0.001)),
        "optimizer": Choice(("sgd", "adam")),
    },
    {"model_name": "mobilenetv2", "learning_rate": Choice((0.05, 0.005))},
)


def _run(sampler, space, n, value=lambda params: 0.5):
    study = optuna.create_study(direction="maximize", sampler=sampler)
    drawn = []
    for _ in range(n):
        trial = study.ask()
        params = suggest_parameters(trial, space)
        drawn.append(params)
        study.tell(trial, value(params))
    return study, drawn


def _key(params):
    return json.dumps(params, sort_keys=True)


@pytest.mark.parametrize("algorithm", ["random", "grid", "bayesian"])
def test_every_sampler_samples_a_conditional_space(algorithm) -> None:
    assert algorithm in list_samplers()
    sampler = create_sampler(algorithm, DISCRETE, seed=0)
    _, drawn = _run(sampler, DISCRETE, 8)
    for params in drawn:
        if params["model_name"] == "resnet18":
            assert params["learning_rate"] in (0.1, 0.01, 0.001)
            assert params["optimizer"] in ("sgd", "adam")
        else:
            assert set(params) == {"model_name", "learning_rate"}
            assert params["learning_rate"] in (0.05, 0.005)


def test_grid_visits_each_point_of_every_sub_space_once() -> None:
    assert grid_size(DISCRETE) == 3 * 2 + 2
    sampler = create_sampler("grid", DISCRETE)
    assert isinstance(sampler, GridSearchSampler) and sampler.n_points == 8
    study, drawn = _run(sampler, DISCRETE, 8)
    expected = {_key(p.hyperparameters) for p in grid_points(DISCRETE)}
    assert len({_key(p) for p in drawn}) == 8
    assert {_key(p) for p in drawn} == expected
    assert sampler.is_exhausted(study)


def test_grid_in_order_and_randint_axes() -> None:
    space = {"a": Choice(("x", "y")), "n": Randint(2), "fixed": 7}
    points = [p.hyperparameters for p in grid_points(space)]
    assert points == [
        {"a": "x", "n": 0, "fixed": 7},
        {"a": "x", "n": 1, "fixed": 7},
        {"a": "y", "n": 0, "fixed": 7},
        {"a": "y", "n": 1, "fixed": 7},
    ]


def test_grid_counts_a_point_shared_by_two_sub_spaces_once() -> None:
    space = (
        {"model_name": "resnet18", "learning_rate": Choice((0.1, 0.01))},
        {"model_name": "resnet18", "learning_rate": Choice((0.01, 0.001))},
    )
    assert grid_size(space) == 3
    sampler = create_sampler("grid", space)
    _, drawn = _run(sampler, space, 3)
    assert sorted(p["learning_rate"] for p in drawn) == [0.001, 0.01, 0.1]


def test_grid_beyond_its_size_revisits_with_a_warning() -> None:
    space = {"a": Choice((1, 2))}
    sampler = create_sampler("grid", space)
    study, _ = _run(sampler, space, 2)
    with pytest.warns(UserWarning, match="all 2 grid points"):
        trial = study.ask()
    assert suggest_parameters(trial, space)["a"] in (1, 2)


def test_grid_goes_on_where_a_resumed_study_stopped() -> None:
    storage = optuna.storages.InMemoryStorage()
    study = optuna.create_study(
        storage=storage,
        study_name="s",
        direction="maximize",
        sampler=create_sampler("grid", DISCRETE),
    )
    first = []
    for _ in range(3):
        trial = study.ask()
        first.append(suggest_parameters(trial, DISCRETE))
        study.tell(trial, 0.1)
    # A fresh sampler on the same storage (a restarted controller) takes the other points.
    resumed = optuna.load_study(
        study_name="s", storage=storage, sampler=create_sampler("grid", DISCRETE)
    )
    rest = []
    for _ in range(5):
        trial = resumed.ask()
        rest.append(suggest_parameters(trial, DISCRETE))
        resumed.tell(trial, 0.1)
    assert len({_key(p) for p in first + rest}) == 8


@pytest.mark.parametrize(
    "dist", [Uniform(0.1, 0.2), LogUniform(-5, -2), Normal(0, 1), QUniform(8, 64, 8)]
)
def test_grid_rejects_continuous_distributions_naming_the_parameter(dist) -> None:
    space = ({"model_name": "a", "lr": Choice((1, 2))}, {"model_name": "b", "lr": dist})
    with pytest.raises(ConfigError) as info:
        create_sampler("grid", space)
    assert "search_space[1].lr" in str(info.value)
    assert dist.type in str(info.value)


def test_random_is_reproducible_with_a_seed() -> None:
    space = ({"model_name": "a", "lr": Uniform(0.0, 1.0)}, {"model_name": "b", "m": Normal(0, 1)})
    _, one = _run(create_sampler("random", space, seed=7), space, 10)
    _, two = _run(create_sampler("random", space, seed=7), space, 10)
    _, other = _run(create_sampler("random", space, seed=8), space, 10)
    assert one == two
    assert one != other


def test_bayesian_samples_a_conditional_continuous_space_past_its_startup() -> None:
    space = (
        {"model_name": "good", "learning_rate": Uniform(0.0, 1.0), "wd": Choice((0, 1))},
        {"model_name": "bad", "learning_rate": Uniform(0.0, 0.5)},
    )
    sampler = create_sampler("bayesian", space, seed=3)
    assert isinstance(sampler, optuna.samplers.TPESampler)

    def value(params):
        if params["model_name"] == "bad":
            return 0.0
        return 1.0 - abs(params["learning_rate"] - 0.7)

    _, drawn = _run(sampler, space, 30, value)
    models = [p["model_name"] for p in drawn]
    assert set(models[:10]) == {"good", "bad"}
    # After the 10 random start-up trials, TPE prefers the sub-space that scores.
    assert models[10:].count("good") > models[10:].count("bad")
    for p in drawn:
        assert 0.0 <= p["learning_rate"] <= (1.0 if p["model_name"] == "good" else 0.5)


def test_bayesian_warns_only_outside_azure_distributions() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_sampler(
            "bayesian", {"a": Choice((1, 2)), "b": Uniform(0, 1), "c": QUniform(0, 8, 2)}
        )
    with pytest.warns(UserWarning, match=r"lr \(loguniform\)"):
        create_sampler("bayesian", {"lr": LogUniform(-5, -2)})


def test_sampler_names_case_and_errors() -> None:
    assert isinstance(create_sampler("Bayesian", {}), optuna.samplers.TPESampler)
    assert isinstance(create_sampler(None, {}), optuna.samplers.RandomSampler)
    sweep = SweepSettings(sampling_algorithm="grid")
    assert isinstance(create_sampler(sweep.sampling_algorithm, DISCRETE), GridSearchSampler)
    with pytest.raises(ConfigError) as info:
        create_sampler("randm", {})
    assert "did you mean 'random'" in str(info.value)


def test_grid_gives_concurrent_running_trials_distinct_points() -> None:
    sampler = create_sampler("grid", DISCRETE)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    running = [study.ask() for _ in range(8)]  # eight trials in flight at once
    drawn = [suggest_parameters(trial, DISCRETE) for trial in running]
    assert len({_key(p) for p in drawn}) == 8


def test_grid_and_hyperparameters_survive_a_journal_file_storage(tmp_path) -> None:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from automl_nb.sweep import trial_hyperparameters

    path = str(tmp_path / "journal.log")
    study = optuna.create_study(
        storage=JournalStorage(JournalFileBackend(path)),
        study_name="job",
        direction="maximize",
        sampler=create_sampler("grid", DISCRETE),
    )
    for _ in range(4):
        trial = study.ask()
        suggest_parameters(trial, DISCRETE)
        study.tell(trial, 0.5)
    # Another process (here: a fresh storage object on the same file) continues the grid.
    other = optuna.load_study(
        study_name="job",
        storage=JournalStorage(JournalFileBackend(path)),
        sampler=create_sampler("grid", DISCRETE),
    )
    for _ in range(4):
        trial = other.ask()
        suggest_parameters(trial, DISCRETE)
        other.tell(trial, 0.5)
    seen = [_key(trial_hyperparameters(t)) for t in other.trials]
    assert len(seen) == 8 and len(set(seen)) == 8
