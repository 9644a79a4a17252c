"""Widget panels: job builder, sweep editor, live dashboard, data preview, explanation
viewer (ipywidgets; plots are Agg PNGs in ``widgets.Image``)."""

from __future__ import annotations

from automl_nb.notebook.widgets._builder import JobBuilder
from automl_nb.notebook.widgets._dashboard import Dashboard
from automl_nb.notebook.widgets._data_preview import DataPreview
from automl_nb.notebook.widgets._explain_viewer import ExplanationViewer
from automl_nb.notebook.widgets._sweep_editor import SweepEditor
from automl_nb.notebook.widgets._watcher import JobWatcher

__all__ = [
    "Dashboard",
    "DataPreview",
    "ExplanationViewer",
    "JobBuilder",
    "JobWatcher",
    "SweepEditor",
]
