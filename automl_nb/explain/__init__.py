"""Explanations of classifier predictions, in the shapes Azure's XAI endpoint returns.

Four algorithms, keyed by the Azure ``xai_algorithm`` names: ``xrai``,
``integrated_gradients``, ``guided_backprop`` and ``guided_gradcam``.

Example:
    >>> from automl_nb.explain import explain, list_explainers
    >>> list_explainers()
    ['guided_backprop', 'guided_gradcam', 'integrated_gradients', 'xrai']
"""

from __future__ import annotations

import sys
import types
from typing import Any

from automl_nb.explain._base import Explainer
from automl_nb.explain._base import get_explainer_class
from automl_nb.explain._base import list_explainers
from automl_nb.explain._base import register_explainer
from automl_nb.explain._explain import ExplainableModel
from automl_nb.explain._explain import Explanation
from automl_nb.explain._explain import ExplanationNotSupportedError
from automl_nb.explain._explain import ImageExplanation
from automl_nb.explain._explain import as_explainable
from automl_nb.explain._explain import explain
from automl_nb.explain._explain import explain_image
from automl_nb.explain._inputs import AttributionInput
from automl_nb.explain._params import PARAMETER_DEFAULTS
from automl_nb.explain._params import resolve_parameters
from automl_nb.explain._pointing import PointingScore
from automl_nb.explain._pointing import boxes_in_crop
from automl_nb.explain._pointing import pointing_score

__all__ = [
    "PARAMETER_DEFAULTS",
    "AttributionInput",
    "ExplainableModel",
    "Explainer",
    "Explanation",
    "ExplanationNotSupportedError",
    "ImageExplanation",
    "PointingScore",
    "as_explainable",
    "boxes_in_crop",
    "explain",
    "explain_image",
    "get_explainer_class",
    "list_explainers",
    "pointing_score",
    "register_explainer",
    "resolve_parameters",
]


class _CallableModule(types.ModuleType):
    """``automl_nb.explain`` names both this package and its main function (re-exported
    lazily by ``automl_nb``); once the package is imported, the attribute is the module, so
    calling it calls :func:`explain`."""

    def __call__(self, *args: Any, **kwargs: Any) -> list[dict]:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
