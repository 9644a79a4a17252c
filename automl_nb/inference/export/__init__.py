"""Export a trained model folder: ONNX, TorchScript or an MLflow model folder.

Example:
    >>> from automl_nb.inference.export import export_model  # doctest: +SKIP
    >>> export_model("runs/job-1/best_model", "onnx", "exported/onnx")  # doctest: +SKIP
    PosixPath('exported/onnx')

Formats (``list_export_formats()``), each keyed by its user-facing name:

* ``onnx``: ``model.onnx`` + ``labels.json``; classification with a dynamic batch axis
  (optionally normalising inside, Azure's ``enable_onnx_normalization``), detection and
  instance segmentation with a fixed batch size and input size, as Azure generates them.
* ``torchscript``: ``model.pt`` for ``torch.jit.load`` (traced classifiers, scripted
  torchvision detectors).
* ``mlflow``: an MLflow pyfunc model taking a DataFrame of base64 images (column ``image``)
  and returning the Azure output schema; needs ``pip install automl-nb[export]``.

Each export folder also holds ``labels.json`` (names indexed by output label id),
``settings.json`` (inference settings) and ``export.json`` (input and output spec).
ONNX and TorchScript exports hold the network only: tiling (``tile_grid_size``), the
conversion of masks to polygons and the Azure JSON schema are left to the caller; the MLflow
export runs the full :meth:`LoadedModel.predict <automl_nb.inference.LoadedModel.predict>`.
Importing this package imports neither torch, onnx nor mlflow.
"""

from __future__ import annotations

from automl_nb.inference.export import _mlflow  # noqa: F401  (registers "mlflow")
from automl_nb.inference.export import _onnx  # noqa: F401  (registers "onnx")
from automl_nb.inference.export import _torchscript  # noqa: F401  (registers "torchscript")
from automl_nb.inference.export._base import ExportFormat
from automl_nb.inference.export._base import export_model
from automl_nb.inference.export._base import get_export_format
from automl_nb.inference.export._base import list_export_formats
from automl_nb.inference.export._base import register_format
from automl_nb.inference.export._base import written_files

__all__ = [
    "ExportFormat",
    "export_model",
    "get_export_format",
    "list_export_formats",
    "register_format",
    "written_files",
]
