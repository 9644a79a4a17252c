"""The explainer base class and the registry keyed by the Azure ``xai_algorithm`` names."""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable
from typing import Any
from typing import ClassVar

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.registry import Registry
from automl_nb.registry import suggest

_EXPLAINERS: Registry[type[Explainer]] = Registry("explanation algorithm", error=ConfigError)
# The built-in explainers, imported on first use so that importing the package stays free of
# torch and captum.
_BUILTIN: dict[str, str] = {
    "xrai": "automl_nb.explain._xrai",
    "integrated_gradients": "automl_nb.explain._integrated_gradients",
    "guided_backprop": "automl_nb.explain._guided_backprop",
    "guided_gradcam": "automl_nb.explain._guided_gradcam",
}


class Explainer(abc.ABC):
    """One attribution method: ``attribute(inputs, target)`` -> ``[3, H, W]`` numpy array.

    Attributes:
        name: The ``xai_algorithm`` value that selects it.
        params: The validated XAI parameters (see ``resolve_parameters``); each explainer reads
            the ones it uses.
    """

    name: ClassVar[str]

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    @abc.abstractmethod
    def attribute(self, inputs: Any, target: int) -> Any:
        """Attributions of ``target``'s logit to ``inputs`` (an :class:`AttributionInput`)."""


def register_explainer(name: str) -> Callable[[type[Explainer]], type[Explainer]]:
    """Class decorator: make an :class:`Explainer` available under ``name``."""

    def decorate(cls: type[Explainer]) -> type[Explainer]:
        cls.name = name
        return _EXPLAINERS.add(name, cls)

    return decorate


def list_explainers() -> list[str]:
    """The registered algorithm names, sorted."""
    return sorted(set(_EXPLAINERS.names()) | set(_BUILTIN))


def get_explainer_class(name: str) -> type[Explainer]:
    """The explainer class registered as ``name``; unknown names list close matches."""
    key = str(name).strip().lower() if isinstance(name, str) else None
    if key is not None and key not in _EXPLAINERS and key in _BUILTIN:
        importlib.import_module(_BUILTIN[key])
    if key is None or key not in _EXPLAINERS:
        raise ConfigError(
            Problem(
                f"unknown explanation algorithm; expected one of {', '.join(list_explainers())}",
                path="xai_algorithm",
                value=repr(name),
                suggestion=suggest(str(name), list_explainers()),
            )
        )
    return _EXPLAINERS.get(key)
