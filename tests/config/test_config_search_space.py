"""search_space: every distribution in YAML, string-expression and SDK form; validation."""

from __future__ import annotations

import pytest

from automl_nb.config import DISTRIBUTIONS
from automl_nb.config import Choice
from automl_nb.config import ConfigError
from automl_nb.config import LogNormal
from automl_nb.config import LogUniform
from automl_nb.config import Normal
from automl_nb.config import QLogNormal
from automl_nb.config import QLogUniform
from automl_nb.config import QNormal
from automl_nb.config import QUniform
from automl_nb.config import Randint
from automl_nb.config import Uniform
from automl_nb.config import dump_job
from automl_nb.config import load_job
from automl_nb.config import parse_expression

HEAD = """task: image_object_detection
target_column_name: label
training_data: {path: data/train, type: mltable}
sweep: {sampling_algorithm: random}
"""

# (parameter, SDK object, YAML mapping, string expression)
CASES = [
    (
        "optimizer",
        Choice(values=["sgd", "adam"]),
        "{type: choice, values: [sgd, adam]}",
        "choice('sgd', 'adam')",
    ),
    ("number_of_epochs", Randint(upper=5), "{type: randint, upper: 5}", "randint(5)"),
    (
        "learning_rate",
        Uniform(min_value=0.0001, max_value=0.01),
        "{type: uniform, min_value: 0.0001, max_value: 0.01}",
        "uniform(0.0001, 0.01)",
    ),
    (
        "learning_rate",
        LogUniform(min_value=-9.2, max_value=-4.6),
        "{type: loguniform, min_value: -9.2, max_value: -4.6}",
        "loguniform(-9.2, -4.6)",
    ),
    (
        "momentum",
        Normal(mu=0.9, sigma=0.02),
        "{type: normal, mu: 0.9, sigma: 0.02}",
        "normal(0.9, 0.02)",
    ),
    (
        "weight_decay",
        LogNormal(mu=-9, sigma=1),
        "{type: lognormal, mu: -9, sigma: 1}",
        "lognormal(-9, 1)",
    ),
    (
        "min_size",
        QUniform(min_value=600, max_value=800, q=32),
        "{type: quniform, min_value: 600, max_value: 800, q: 32}",
        "quniform(600, 800, 32)",
    ),
    (
        "max_size",
        QLogUniform(min_value=6.9, max_value=7.3, q=32),
        "{type: qloguniform, min_value: 6.9, max_value: 7.3, q: 32}",
        "qloguniform(6.9, 7.3, 32)",
    ),
    (
        "training_batch_size",
        QNormal(mu=8, sigma=2, q=1),
        "{type: qnormal, mu: 8, sigma: 2, q: 1}",
        "qnormal(8, 2, 1)",
    ),
    (
        "validation_batch_size",
        QLogNormal(mu=2, sigma=0.5, q=2),
        "{type: qlognormal, mu: 2, sigma: 0.5, q: 2}",
        "qlognormal(2, 0.5, 2)",
    ),
]


def test_cases_cover_every_distribution():
    assert {type(case[1]) for case in CASES} == set(DISTRIBUTIONS.values())


@pytest.mark.parametrize(("name", "obj", "mapping", "expression"), CASES)
def test_three_forms_are_equal(name, obj, mapping, expression):
    from_yaml = load_job(HEAD + f"search_space:\n  - {name}: {mapping}\n")
    from_expression = load_job(HEAD + f'search_space:\n  - {name}: "{expression}"\n')
    data = from_yaml.to_dict()
    data["search_space"] = [{name: obj}]
    from_sdk = load_job(data)
    assert from_yaml.search_space == ({name: obj},)
    assert from_yaml == from_expression == from_sdk
    assert load_job(dump_job(from_yaml)) == from_yaml
    assert parse_expression(obj.to_expression()) == obj
    assert type(obj).__name__.lower() == obj.type


def test_fixed_values_and_conditional_sub_spaces():
    spec = load_job(
        HEAD
        + """search_space:
  - model_name: yolov5
    model_size: xlarge
    tile_grid_size: "choice('3x2', '5x3')"
  - model_name: {type: choice, values: [fasterrcnn_resnet50_fpn]}
    box_score_thresh: 0.25
"""
    )
    first, second = spec.search_space
    assert first == {
        "model_name": "yolov5",
        "model_size": "extra_large",
        "tile_grid_size": Choice(values=[(3, 2), (5, 3)]),
    }
    assert second == {
        "model_name": Choice(values=["fasterrcnn_resnet50_fpn"]),
        "box_score_threshold": 0.25,
    }
    dumped = dump_job(spec)
    assert "- 3x2" in dumped and "box_score_threshold: 0.25" in dumped
    assert load_job(dumped) == spec


def test_choice_expression_forms():
    assert parse_expression("choice(range(1, 4))") == Choice(values=[1, 2, 3])
    assert parse_expression("choice([16, 32])") == Choice(values=[16, 32])
    assert parse_expression("choice('a')") == Choice(values=["a"])
    assert parse_expression("uniform(min_value=0.1, max_value=0.2)") == Uniform(0.1, 0.2)
    assert parse_expression(" Uniform( 0.1 , 0.2 ) ") == Uniform(0.1, 0.2)


def test_choice_flags_normalised():
    spec = load_job(HEAD + "search_space:\n  - early_stopping: \"choice('True', 0)\"\n")
    assert spec.search_space[0]["early_stopping"] == Choice(values=[True, False])


def test_sdk_objects_validate_and_coerce():
    assert Uniform(min_value="1e-4", max_value=1) == Uniform(0.0001, 1.0)
    assert Choice("a", "b") == Choice(values=("a", "b"))
    for bad in (
        lambda: Uniform(0.2, 0.1),
        lambda: Normal(0, -1),
        lambda: QUniform(0, 1, 0),
        lambda: Randint(0),
        lambda: Randint(2.5),
        lambda: Choice(values=[]),
        lambda: Uniform("x", 1),
        lambda: Uniform(True, 1),
    ):
        with pytest.raises(ConfigError):
            bad()


def _error(text):
    with pytest.raises(ConfigError) as info:
        load_job(HEAD + text)
    return info.value.problems


def test_unknown_parameter_in_sub_space():
    (problem,) = _error("search_space:\n  - learning_rat: 'uniform(0.1, 0.2)'\n")
    assert problem.path == "search_space[0].learning_rat"
    assert problem.line == 6 and problem.suggestion == "learning_rate"


def test_bad_distribution_mappings():
    problems = _error(
        "search_space:\n"  # 5
        "  - learning_rate: {type: unifrom, min_value: 0.1, max_value: 0.2}\n"  # 6
        "    momentum: {type: normal, mu: 0.9, sigm: 0.1}\n"  # 7
        "    optimizer: {type: choice, values: [sgd, adamm]}\n"  # 8
        "    weight_decay: {type: uniform, min_value: 0.5, max_value: 2}\n"  # 9
        "    model_name: {type: uniform, min_value: 0, max_value: 1}\n"  # 10
        "    min_size: {type: choice, values: 600}\n"  # 11
    )
    by_path = {p.path: p for p in problems}
    assert by_path["search_space[0].learning_rate.type"].suggestion == "uniform"
    assert by_path["search_space[0].learning_rate.type"].line == 6
    assert by_path["search_space[0].momentum.sigm"].suggestion == "sigma"
    assert by_path["search_space[0].momentum.sigm"].line == 7
    bad_choice = by_path["search_space[0].optimizer.values[1]"]
    assert bad_choice.suggestion == "adam" and bad_choice.line == 8
    assert "must be in [0, 1]" in by_path["search_space[0].weight_decay.max_value"].message
    assert "only a choice" in by_path["search_space[0].model_name.type"].message
    assert by_path["search_space[0].min_size.values"].line == 11


def test_bad_expressions():
    problems = _error(
        "search_space:\n"
        "  - learning_rate: 'unifrom(0.1, 0.2)'\n"
        "    momentum: 'uniform(0.1)'\n"
        "    weight_decay: 'uniform(0.1, 0.2, 0.3)'\n"
        "    nesterov: 'choice(os.system(1))'\n"
        "    beta1: 'uniform(0.3, 0.2)'\n"
    )
    by_path = {p.path: p for p in problems}
    assert by_path["search_space[0].learning_rate"].suggestion == "uniform"
    assert "needs" in by_path["search_space[0].momentum"].message
    assert "takes 2 arguments" in by_path["search_space[0].weight_decay"].message
    assert "cannot read" in by_path["search_space[0].nesterov"].message
    assert "min_value must be <= max_value" in by_path["search_space[0].beta1"].message
    assert all(p.line is not None for p in problems)


def test_empty_sub_space_and_wrong_container():
    assert "non-empty mapping" in _error("search_space:\n  - {}\n")[0].message
    assert "list of sub-spaces" in _error("search_space: 3\n")[0].message


def test_single_mapping_is_one_sub_space():
    spec = load_job(HEAD + "search_space: {learning_rate: 'uniform(0.1, 0.2)'}\n")
    assert spec.search_space == ({"learning_rate": Uniform(0.1, 0.2)},)
