from __future__ import annotations

import math
import statistics

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.distributions import FloatDistribution
from optuna.trial import FixedTrial

from automl_nb.config import Choice
from automl_nb.config import LogNormal
from automl_nb.config import LogUniform
from automl_nb.config import Normal
from automl_nb.config import QLogNormal
from automl_nb.config import QLogUniform
from automl_nb.config import QNormal
from automl_nb.config import QUniform
from automl_nb.config import Randint
from automl_nb.config import Uniform
from automl_nb.config import load_job
from automl_nb.errors import ConfigError
from automl_nb.sweep import compile_search_space
from automl_nb.sweep import enqueue_hyperparameters
from automl_nb.sweep import normalize_search_space
from automl_nb.sweep import suggest_parameters
from automl_nb.sweep import trial_hyperparameters

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sample(space, n=60, seed=0):
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    out = []
    for _ in range(n):
        trial = study.ask()
        out.append(suggest_parameters(trial, space))
        study.tell(trial, 0.0)
    return study, out


def test_choice_keeps_mixed_types_and_draws_every_value() -> None:
    values = ("sgd", 1, None, 2.5, True)
    _, drawn = _sample({"x": Choice(values)}, n=80)
    got = [d["x"] for d in drawn]
    # 1 and True compare equal, so the choice goes by index and keeps each value's type.
    assert {repr(v) for v in got} == {repr(v) for v in values}
    assert any(v is True for v in got) and any(type(v) is int and v == 1 for v in got)


def test_choice_of_unhashable_values_goes_by_index() -> None:
    study, drawn = _sample({"sizes": Choice(([1, 2], [3, 4]))}, n=20)
    assert {tuple(d["sizes"]) for d in drawn} == {(1, 2), (3, 4)}
    assert study.trials[0].distributions["sizes"] == CategoricalDistribution((0, 1))


def test_randint_is_zero_to_upper_exclusive() -> None:
    _, drawn = _sample({"n": Randint(3)}, n=40)
    assert {d["n"] for d in drawn} == {0, 1, 2}
    assert all(type(d["n"]) is int for d in drawn)


def test_uniform_and_loguniform_bounds() -> None:
    space = {"u": Uniform(0.2, 0.4), "lr": LogUniform(math.log(1e-4), math.log(1e-2))}
    study, drawn = _sample(space, n=60)
    assert all(0.2 <= d["u"] <= 0.4 for d in drawn)
    assert all(1e-4 <= d["lr"] <= 1e-2 for d in drawn)
    # loguniform bounds are natural logs; Optuna sees the value on a log scale.
    dist = study.trials[0].distributions["lr"]
    assert isinstance(dist, FloatDistribution) and dist.log
    assert dist.low == pytest.approx(1e-4) and dist.high == pytest.approx(1e-2)
    # Roughly half of log-uniform draws fall below 1e-3 (uniform would give ~9 %).
    below = sum(d["lr"] < 1e-3 for d in drawn) / len(drawn)
    assert 0.3 < below < 0.7


def test_normal_maps_a_uniform_parameter_through_the_inverse_cdf() -> None:
    assert suggest_parameters(FixedTrial({"m__u": 0.5}), {"m": Normal(0.9, 0.05)}) == {
        "m": pytest.approx(0.9)
    }
    one_sigma = suggest_parameters(FixedTrial({"m__u": 0.8413447}), {"m": Normal(0.9, 0.05)})
    assert one_sigma["m"] == pytest.approx(0.95, abs=1e-6)
    log = suggest_parameters(FixedTrial({"w__u": 0.5}), {"w": LogNormal(-2.0, 1.0)})
    assert log["w"] == pytest.approx(math.exp(-2.0))


def test_normal_samples_have_the_requested_mean_and_spread() -> None:
    study, drawn = _sample({"m": Normal(3.0, 2.0)}, n=400, seed=1)
    xs = [d["m"] for d in drawn]
    assert statistics.fmean(xs) == pytest.approx(3.0, abs=0.4)
    assert statistics.stdev(xs) == pytest.approx(2.0, abs=0.4)
    assert set(study.trials[0].params) == {"m__u"}


def test_zero_sigma_is_a_point_mass() -> None:
    assert suggest_parameters(FixedTrial({}), {"m": Normal(0.5, 0.0)}) == {"m": 0.5}


def test_quniform_rounds_to_q_and_gives_ints_for_integral_q_and_bounds() -> None:
    _, drawn = _sample({"bs": QUniform(8, 64, 8), "p": QUniform(0.0, 1.0, 0.1)}, n=40)
    assert all(type(d["bs"]) is int and d["bs"] % 8 == 0 and 8 <= d["bs"] <= 64 for d in drawn)
    # No float noise: 0.30000000000000004 comes out as 0.3.
    assert all(type(d["p"]) is float and d["p"] == round(d["p"], 1) for d in drawn)


@pytest.mark.parametrize(
    ("dist", "params", "expected"),
    [
        (QUniform(0.0, 10.0, 3), {"x": 4.4}, 3),
        (QUniform(1.0, 2.0, 0.25), {"x": 1.6}, 1.5),
        (QLogUniform(0.0, 5.0, 5), {"x": 17.6}, 20),
        (QNormal(10.0, 2.0, 4), {"x__u": 0.5}, 8),  # round(10 / 4) = 2 (halves to even)
        (QLogNormal(0.0, 1.0, 0.5), {"x__u": 0.5}, 1.0),
    ],
)
def test_q_variants_round_the_drawn_value(dist, params, expected) -> None:
    value = suggest_parameters(FixedTrial(params), {"x": dist})["x"]
    assert value == expected and type(value) is type(expected)


def test_fixed_values_pass_through_and_are_not_optuna_params() -> None:
    study, drawn = _sample({"model_name": "resnet18", "epochs": 3, "lr": Uniform(0.1, 0.2)}, n=2)
    assert drawn[0]["model_name"] == "resnet18" and drawn[0]["epochs"] == 3
    assert set(study.trials[0].params) == {"lr"}


def test_sub_spaces_pinning_distinct_models_select_by_model_name() -> None:
    space = (
        {"model_name": "resnet50", "learning_rate": Uniform(1e-4, 1e-2), "wd": Choice((0, 1))},
        {
            "model_name": Choice(("vitb16r224",)),
            "learning_rate": Uniform(1e-4, 1e-3),
            "wd": Choice((0, 1)),
        },
    )
    layout = compile_search_space(space)
    assert layout.selector == "model_name"
    assert layout.selector_choices == ("resnet50", "vitb16r224")
    study, drawn = _sample(space, n=60)
    names = set()
    for trial, params in zip(study.trials, drawn):
        names.update(trial.params)
        model = params["model_name"]
        assert trial.params["model_name"] == model
        high = 1e-2 if model == "resnet50" else 1e-3
        assert 1e-4 <= params["learning_rate"] <= high
        assert set(params) == {"model_name", "learning_rate", "wd"}
    # Clashing distributions get namespaced names; identical ones are shared.
    assert names == {"model_name", "resnet50:learning_rate", "vitb16r224:learning_rate", "wd"}
    assert {d["model_name"] for d in drawn} == {"resnet50", "vitb16r224"}


def test_sub_spaces_without_distinct_models_select_by_index() -> None:
    space = (
        {"model_name": "resnet50", "learning_rate": Uniform(0.1, 0.2)},
        {"model_name": "resnet50", "learning_rate": Uniform(0.3, 0.4), "momentum": 0.5},
        {"optimizer": Choice(("adam", "sgd"))},
    )
    assert compile_search_space(space).selector == "subspace"
    study, drawn = _sample(space, n=60)
    for trial, params in zip(study.trials, drawn):
        index = trial.params["subspace"]
        if index == 0:
            assert 0.1 <= params["learning_rate"] <= 0.2 and "0:learning_rate" in trial.params
        elif index == 1:
            assert 0.3 <= params["learning_rate"] <= 0.4 and params["momentum"] == 0.5
        else:
            assert set(params) == {"optimizer"}


def test_hyperparameters_are_stored_on_the_trial() -> None:
    space = ({"model_name": "a", "lr": Uniform(0.1, 0.2)}, {"model_name": "b", "lr": Choice((1,))})
    study, drawn = _sample(space, n=3)
    for frozen, params in zip(study.trials, drawn):
        assert trial_hyperparameters(frozen) == params


def test_enqueued_hyperparameters_are_used_as_given() -> None:
    space = (
        {"model_name": "a", "lr": Uniform(0.1, 0.2)},
        {"model_name": "b", "lr": Uniform(1, 2)},
    )
    study = optuna.create_study(direction="maximize")
    enqueue_hyperparameters(study, {"model_name": "b", "epochs": 2}, space)
    trial = study.ask()
    assert suggest_parameters(trial, space) == {"model_name": "b", "epochs": 2}
    assert trial.params == {"model_name": "b"}
    study.tell(trial, 1.0)
    # The next trial samples normally again.
    assert "lr" in suggest_parameters(study.ask(), space)


def test_search_space_forms() -> None:
    assert normalize_search_space(None) == ({},)
    assert normalize_search_space(()) == ({},)
    assert normalize_search_space({"a": 1}) == ({"a": 1},)
    assert suggest_parameters(FixedTrial({}), ()) == {}
    with pytest.raises(ConfigError, match=r"search_space\[1\]"):
        normalize_search_space(({"a": 1}, "nope"))


def test_search_space_from_a_real_job_spec() -> None:
    spec = load_job(
        {
            "task": "image_classification",
            "primary_metric": "accuracy",
            "target_column_name": "label",
            "training_data": {"path": "train.jsonl", "type": "uri_file"},
            "limits": {"max_trials": 4},
            "sweep": {"sampling_algorithm": "random"},
            "search_space": [
                {
                    "model_name": {"type": "choice", "values": ["resnet18"]},
                    "learning_rate": "uniform(0.001, 0.01)",
                },
                {
                    "model_name": "mobilenetv2",
                    "learning_rate": "loguniform(-6, -4)",
                    "training_batch_size": "quniform(8, 32, 8)",
                },
            ],
        }
    )
    _, drawn = _sample(spec.search_space, n=30)
    for params in drawn:
        if params["model_name"] == "mobilenetv2":
            assert math.exp(-6) <= params["learning_rate"] <= math.exp(-4)
            assert type(params["training_batch_size"]) is int
        else:
            assert params["model_name"] == "resnet18"
            assert 0.001 <= params["learning_rate"] <= 0.01
