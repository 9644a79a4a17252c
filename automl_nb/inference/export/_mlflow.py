"""MLflow export: an MLflow pyfunc model folder around the model folder.

``mlflow.pyfunc.load_model(out).predict(df)`` takes a pandas DataFrame with an ``image``
column of base64-encoded images, like Azure's MLflow image models, and returns a DataFrame
in the Azure output schema (``probs``/``labels`` or ``boxes`` columns); ``mlflow models
serve -m OUT`` serves it. The model folder (weights, settings, labels) is an artifact, and
the ``automl_nb`` package is copied into the folder's ``code/`` (``include_code=False`` to
rely on an installed automl-nb instead).

A pyfunc wrapper is used rather than ``mlflow.pytorch.log_model``: that one defaults to
``torch.export`` serialisation, which specialises the batch size, and it would lose the
preprocessing and the Azure output schema.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.inference.export._base import missing_package_error
from automl_nb.inference.export._base import register_format
from automl_nb.tasks import TASK_NAMES

# The model folder files the MLflow model needs (plots and the like stay behind).
_MODEL_DIR_FILES = (
    "model.pt",
    "settings.json",
    "labels.json",
    "hyperparameters.json",
    "metrics.json",
    "job.yaml",
)
# Distributions that loading and predicting import.
_REQUIREMENTS = ("torch", "torchvision", "timm", "pillow", "numpy", "pyyaml", "pandas")


def _requirements(task: str) -> list[str]:
    names = list(_REQUIREMENTS)
    if task == "image_instance_segmentation":
        names.append("scikit-image")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def _copy_model_dir(loaded: Any, dest: Path) -> Path:
    dest.mkdir(parents=True)
    source = Path(loaded.model_dir)
    for name in _MODEL_DIR_FILES:
        if (source / name).is_file():
            shutil.copy2(source / name, dest / name)
    return dest


def _copy_package(dest: Path) -> Path:
    import automl_nb

    source = Path(automl_nb.__file__).parent
    target = dest / "automl_nb"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


@register_format(
    "mlflow",
    description="MLflow pyfunc model folder (base64 'image' column in, Azure schema out)",
    tasks=TASK_NAMES,
    options={"include_code": "copy the automl_nb package into the folder (default true)"},
    requires=("mlflow",),
)
def export_mlflow(loaded: Any, out: Path, *, include_code: bool = True) -> list[Path]:
    """Write an MLflow pyfunc model folder at ``out`` (replaced if it exists)."""
    try:
        import mlflow.pyfunc
        from mlflow.models import ModelSignature
        from mlflow.types import ColSpec
        from mlflow.types import Schema
    except ImportError:
        raise missing_package_error("mlflow", "mlflow") from None
    from automl_nb.inference.export._mlflow_model import ARTIFACT
    from automl_nb.inference.export._mlflow_model import IMAGE_COLUMN
    from automl_nb.inference.export._mlflow_model import AutoMLImagesModel

    if loaded.model_dir is None:
        raise ModelError("mlflow export needs a model folder")
    if out.exists():
        shutil.rmtree(out)
    with tempfile.TemporaryDirectory(prefix="automl-nb-mlflow-") as tmp:
        model_dir = _copy_model_dir(loaded, Path(tmp) / "model")
        code = [str(_copy_package(Path(tmp) / "code"))] if include_code else None
        mlflow.pyfunc.save_model(
            str(out),
            python_model=AutoMLImagesModel(),
            artifacts={ARTIFACT: str(model_dir)},
            code_paths=code,
            pip_requirements=_requirements(loaded.task.value),
            signature=ModelSignature(inputs=Schema([ColSpec("string", IMAGE_COLUMN)])),
            metadata={"task": loaded.task.value, "model_name": loaded.model_name},
        )
    return sorted(p for p in out.rglob("*") if p.is_file())
