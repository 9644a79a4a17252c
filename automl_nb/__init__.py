"""automl-nb: notebook-native AutoML for computer vision.

Azure ML "AutoML for Images" jobs (same YAML keys, JSONL schemas and output schema) run on
your own GPUs or CPU, from JupyterLab (``%load_ext automl_nb``), Python or the
``automl-vision`` command.

Importing this package is cheap: torch, timm, optuna and captum are imported only when a
function that needs them is called.
"""

from __future__ import annotations

from typing import Any

from automl_nb._lazy import lazy_exports

__version__ = "0.1.0"

# Public name -> module that defines it. Resolved on first attribute access (PEP 562) so that
# ``import automl_nb`` and ``%load_ext automl_nb`` stay fast.
_LAZY_EXPORTS: dict[str, str] = {
    "load_job": "automl_nb.config",
    "dump_job": "automl_nb.config",
    "JobSpec": "automl_nb.config",
    "image_classification": "automl_nb.config",
    "image_classification_multilabel": "automl_nb.config",
    "image_object_detection": "automl_nb.config",
    "image_instance_segmentation": "automl_nb.config",
    "read_dataset": "automl_nb.data",
    "list_models": "automl_nb.models",
    "load_model": "automl_nb.inference",
    "explain": "automl_nb.explain",
    "ConfigError": "automl_nb.errors",
    "DataError": "automl_nb.errors",
}

__all__ = ["__version__", *sorted(_LAZY_EXPORTS)]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY_EXPORTS)


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%automl_vision`` magics (``%load_ext automl_nb``)."""
    from automl_nb.notebook import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Unregister the magics (``%unload_ext automl_nb``)."""
    from automl_nb.notebook import unload_ipython_extension as _unload

    _unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension (the ``/automl-nb/`` REST API)."""
    return [{"module": "automl_nb"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Load the REST API into a running Jupyter server."""
    from automl_nb.server import load_jupyter_server_extension

    load_jupyter_server_extension(server_app)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension shipped in the package (for development installs)."""
    return [{"src": "labextension", "dest": "automl-nb"}]
