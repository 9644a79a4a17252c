"""Use a trained model: the model folder, predictions in the Azure output schema, drawing.

Example:
    >>> from automl_nb.inference import load_model  # doctest: +SKIP
    >>> model = load_model("automl_runs/fridge/job-1/best_model")  # doctest: +SKIP
    >>> model.predict("fridge/1.jpg")  # doctest: +SKIP
    [{'probs': [0.01, 0.02, 0.95, 0.02], 'labels': ['can', 'carton', 'milk_bottle', ...]}]

Importing this package does not import torch; loading or predicting does.
"""

from __future__ import annotations

from automl_nb.inference._draw import draw_predictions
from automl_nb.inference._images import load_image
from automl_nb.inference._model_dir import save_model_dir
from automl_nb.inference._polygons import mask_to_polygons
from automl_nb.inference._predictor import LoadedModel
from automl_nb.inference._predictor import load_model
from automl_nb.inference._predictor import predict
from automl_nb.inference._schema import SchemaError
from automl_nb.inference._schema import prediction_problems
from automl_nb.inference._schema import validate_prediction
from automl_nb.inference._scoring import ScoringLimits
from automl_nb.inference._scoring import ScoringRequestError
from automl_nb.inference._scoring import parse_scoring_request
from automl_nb.inference._server import ScoringServer
from automl_nb.inference._server import serve
from automl_nb.inference._settings import canonical_setting_name
from automl_nb.inference._settings import default_inference_settings
from automl_nb.inference._settings import setting_names

__all__ = [
    "LoadedModel",
    "SchemaError",
    "ScoringLimits",
    "ScoringRequestError",
    "ScoringServer",
    "canonical_setting_name",
    "default_inference_settings",
    "draw_predictions",
    "load_image",
    "load_model",
    "mask_to_polygons",
    "parse_scoring_request",
    "predict",
    "prediction_problems",
    "save_model_dir",
    "serve",
    "setting_names",
    "validate_prediction",
]
