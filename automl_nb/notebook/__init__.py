"""The notebook layer: the ``%automl_vision`` magics, widget panels and the live dashboard.

``%load_ext automl_nb`` registers ``%automl_vision`` / ``%%automl_vision``. The job draft
the magics build is :func:`current_draft` (a :class:`automl_nb.config.JobDraft`), so
magics and Python mix; :func:`automl_vision` runs a verb from plain Python.

Loading the extension imports neither torch nor ipywidgets; each verb imports what it needs.
"""

from __future__ import annotations

from automl_nb.notebook._dispatch import automl_vision
from automl_nb.notebook._magics import AutoMLVision
from automl_nb.notebook._magics import load_ipython_extension
from automl_nb.notebook._magics import unload_ipython_extension
from automl_nb.notebook._state import current_draft
from automl_nb.notebook._state import last_job
from automl_nb.notebook._state import set_draft
from automl_nb.notebook._state import settings

__all__ = [
    "AutoMLVision",
    "automl_vision",
    "current_draft",
    "last_job",
    "load_ipython_extension",
    "set_draft",
    "settings",
    "unload_ipython_extension",
]
