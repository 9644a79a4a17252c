"""The shared registry helper and did-you-mean suggestions."""

from __future__ import annotations

import pytest

from automl_nb.errors import ConfigError
from automl_nb.registry import Registry
from automl_nb.registry import did_you_mean
from automl_nb.registry import suggest
from automl_nb.registry import suggestions


def test_suggest_finds_the_nearest_name_ignoring_case() -> None:
    assert suggest("SGD", ["sgd", "adam"]) == "sgd"
    assert suggest("adamm", ["sgd", "adam", "adamw"]) in ("adam", "adamw")
    assert suggest("qqqq", ["sgd", "adam"]) is None


def test_suggestions_are_best_first_and_bounded() -> None:
    found = suggestions("resnet5", ["resnet50", "resnet18", "resnet152", "vit"], n=2)
    assert found[0] == "resnet50"
    assert len(found) <= 2


def test_did_you_mean_text() -> None:
    assert did_you_mean("grd", ["grid"]) == "; did you mean 'grid'?"
    assert did_you_mean("zzz", ["grid"]) == ""


def test_registry_registers_in_order_and_resolves_aliases() -> None:
    reg: Registry[int] = Registry("policy")
    reg.add("bandit", 1)
    reg.add("median_stopping", 2, aliases=["median"])
    assert reg.names() == ["bandit", "median_stopping"]
    assert reg.get("Median") == 2
    assert "MEDIAN_STOPPING" in reg
    assert "truncation" not in reg
    assert len(reg) == 2


def test_unknown_name_raises_the_registry_error_with_a_suggestion() -> None:
    reg: Registry[int] = Registry("policy", error=lambda m: ConfigError(m))
    reg.add("bandit", 1)
    with pytest.raises(ConfigError, match="unknown policy 'bandt'; did you mean 'bandit'"):
        reg.get("bandt")
    with pytest.raises(ConfigError, match="expected one of: bandit"):
        reg.get("zzzzzz")


def test_a_name_registered_twice_is_refused() -> None:
    reg: Registry[int] = Registry("format")
    reg.register("onnx")(1)
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("ONNX", 2)


def test_extension_points_are_registries_with_one_kind_of_error() -> None:
    from automl_nb.data.converters._registry import _FORMATS
    from automl_nb.explain._base import _EXPLAINERS
    from automl_nb.inference.export._base import _FORMATS as EXPORTS
    from automl_nb.models._registry import _REGISTRY
    from automl_nb.sweep._samplers import SAMPLERS

    for registry in (_FORMATS, _EXPLAINERS, EXPORTS, _REGISTRY, SAMPLERS):
        assert isinstance(registry, Registry)
    assert "resnet50" in _REGISTRY and "Bayesian" in SAMPLERS


def test_sampler_names_ignore_case_and_suggest() -> None:
    from automl_nb.sweep import create_sampler

    assert type(create_sampler("Random")).__name__ == "RandomSampler"
    with pytest.raises(ConfigError, match="did you mean 'bayesian'"):
        create_sampler("bayesain")


def test_converter_formats_keep_their_writers() -> None:
    from automl_nb.data.converters import get_format
    from automl_nb.data.converters import list_formats

    assert get_format("COCO").writer is not None
    assert get_format("csv").writer is None
    assert set(list_formats(writable=True)) == {"coco", "voc", "yolo"}
    with pytest.raises(ConfigError, match="did you mean 'yolo'"):
        get_format("yolov")


def test_export_and_explainer_names_suggest() -> None:
    from automl_nb.errors import ModelError
    from automl_nb.explain._base import get_explainer_class
    from automl_nb.inference.export import get_export_format

    assert get_export_format("ONNX").name == "onnx"
    with pytest.raises(ModelError, match="did you mean 'onnx'"):
        get_export_format("onx")
    with pytest.raises(ConfigError, match="did you mean 'xrai'"):
        get_explainer_class("xrau")


def test_a_model_registered_twice_is_refused() -> None:
    from automl_nb.models import register_model
    from automl_nb.tasks import Task

    def resnet18(task):  # the name of a registered model
        raise AssertionError("never built")

    with pytest.raises(ValueError, match="registered twice"):
        register_model(tasks=(Task.CLASSIFICATION,), family="timm")(resnet18)
