"""The MLflow ``PythonModel`` of an exported model folder.

MLflow pickles an instance of :class:`AutoMLImagesModel` by reference, so this module must be
importable where the MLflow model is loaded: the export copies the ``automl_nb`` package into
the MLflow folder's ``code/`` unless told not to.
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc

ARTIFACT = "model_dir"
IMAGE_COLUMN = "image"


def _images(model_input: Any) -> list[Any]:
    """The images of a pyfunc input: a DataFrame with an ``image`` column of base64 strings
    (or raw bytes), a Series, or a list."""
    columns = getattr(model_input, "columns", None)
    if columns is not None:
        if IMAGE_COLUMN not in columns:
            raise ValueError(
                f"expected a DataFrame with an {IMAGE_COLUMN!r} column of base64-encoded "
                f"images (got columns {list(columns)})"
            )
        return list(model_input[IMAGE_COLUMN])
    if hasattr(model_input, "tolist"):
        return list(model_input.tolist())
    if isinstance(model_input, (list, tuple)):
        return list(model_input)
    return [model_input]


class AutoMLImagesModel(mlflow.pyfunc.PythonModel):
    """Predicts base64 images in the Azure AutoML-for-Images output schema.

    ``predict`` takes a pandas DataFrame with an ``image`` column of base64-encoded images
    (as Azure's MLflow image models do) and returns a DataFrame with one row per image:
    ``probs`` and ``labels`` columns for classification, ``boxes`` for detection and
    instance segmentation.
    """

    def load_context(self, context: Any) -> None:
        from automl_nb.inference import load_model

        self._model = load_model(context.artifacts[ARTIFACT])

    # No type hints here: MLflow would read them as an input schema.
    def predict(self, context, model_input, params=None):
        """Predict the images of ``model_input``; one output row per image."""
        import pandas as pd

        predictions = self._model.predict(_images(model_input))
        return pd.DataFrame(predictions)
