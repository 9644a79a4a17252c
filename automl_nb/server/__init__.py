"""The Jupyter server extension: a REST API under ``/automl-nb/`` over the job store.

Enabled by the ``etc/jupyter/jupyter_server_config.d/automl_nb.json`` that ``pip install``
puts in place. The workspace is ``c.AutoMLNB.workspace``, else ``$AUTOML_NB_WORKSPACE``, else
``automl_runs`` under the server's root dir.

Routes: ``GET jobs``, ``GET jobs/<id>``, ``POST jobs/<id>/cancel`` (body ``{"trial": n}``
optional) and ``POST jobs/<id>/resume``.
"""

from __future__ import annotations

from typing import Any


def load_jupyter_server_extension(server_app: Any) -> None:
    """Register the ``/automl-nb/`` handlers on ``server_app``."""
    from automl_nb.server._handlers import resolve_workspace
    from automl_nb.server._handlers import setup_handlers

    workspace = resolve_workspace(server_app)
    setup_handlers(server_app.web_app, workspace)
    server_app.log.info("automl-nb: serving the jobs of %s under /automl-nb/", workspace)
