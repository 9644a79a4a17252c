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
