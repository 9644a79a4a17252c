"""REST handlers under ``/automl-nb/``: the jobs of the server's workspace.

Every verb is ``@tornado.web.authenticated`` on a Jupyter ``APIHandler``: the Jupyter token
(or login cookie) is required, and writes also need the XSRF token that JupyterLab sends.
Folder reads run in a thread so a slow storage never blocks the server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado.ioloop import IOLoop

from automl_nb.errors import JobError
from automl_nb.server._payload import job_detail
from automl_nb.server._payload import job_summary

API_NAMESPACE = "automl-nb"
# The config section (``c.AutoMLNB.workspace = ...``) naming the workspace folder.
CONFIG_SECTION = "AutoMLNB"


def resolve_workspace(server_app: Any) -> Path:
    """The workspace the API serves: ``c.AutoMLNB.workspace``, else ``$AUTOML_NB_WORKSPACE``,
    else ``automl_runs``; a relative path is taken from the server's root dir."""
    from automl_nb.runner._layout import DEFAULT_WORKSPACE
    from automl_nb.runner._layout import WORKSPACE_ENV

    section = server_app.config.get(CONFIG_SECTION, {})
    configured = section.get("workspace") if hasattr(section, "get") else None
    workspace = Path(configured or os.environ.get(WORKSPACE_ENV) or DEFAULT_WORKSPACE)
    workspace = workspace.expanduser()
    if not workspace.is_absolute():
        workspace = Path(server_app.root_dir).expanduser() / workspace
    return workspace.resolve()


class _JobsHandler(APIHandler):
    """Base: the workspace, job lookup, JSON errors."""

    def initialize(self, workspace: Path) -> None:
        self.workspace = workspace

    def _job(self, job_id: str) -> Any:
        from automl_nb.runner import get_job

        if "/" in job_id or job_id in ("", ".", ".."):
            raise tornado.web.HTTPError(404, f"no job {job_id!r}")
        try:
            job = get_job(job_id, workspace=self.workspace)
        except (JobError, FileNotFoundError) as exc:
            raise tornado.web.HTTPError(404, str(exc)) from exc
        # A job id is looked up in the workspace only, never as a path elsewhere.
        if self.workspace not in job.dir.parents:
            raise tornado.web.HTTPError(404, f"no job {job_id!r} in the workspace")
        return job

    def _body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except ValueError as exc:
            raise tornado.web.HTTPError(400, f"the body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "the body must be a JSON object")
        return body


def _list_jobs(workspace: Path) -> dict[str, Any]:
    from automl_nb.runner import list_jobs

    jobs = list_jobs(workspace=workspace) if workspace.is_dir() else []
    return {"workspace": str(workspace), "jobs": [job_summary(job) for job in reversed(jobs)]}


class JobListHandler(_JobsHandler):
    """``GET /automl-nb/jobs``: every job of the workspace, newest first."""

    @tornado.web.authenticated
    async def get(self) -> None:
        payload = await IOLoop.current().run_in_executor(None, _list_jobs, self.workspace)
        self.finish(json.dumps(payload))


class JobHandler(_JobsHandler):
    """``GET /automl-nb/jobs/<id>``: a job with its trials and their per-epoch metrics."""

    @tornado.web.authenticated
    async def get(self, job_id: str) -> None:
        job = self._job(job_id)
        payload = await IOLoop.current().run_in_executor(None, job_detail, job)
        self.finish(json.dumps(payload))


class CancelHandler(_JobsHandler):
    """``POST /automl-nb/jobs/<id>/cancel`` with an optional ``{"trial": n}`` body."""

    @tornado.web.authenticated
    def post(self, job_id: str) -> None:
        job = self._job(job_id)
        trial = self._body().get("trial")
        if trial is not None and (isinstance(trial, bool) or not isinstance(trial, int)):
            raise tornado.web.HTTPError(400, f"'trial' must be a trial number, not {trial!r}")
        if job.done:
            raise tornado.web.HTTPError(409, f"job {job.id} is already {job.status}")
        try:
            job.cancel(trial=trial)
        except JobError as exc:
            raise tornado.web.HTTPError(404, str(exc)) from exc
        what = f"trial {trial} of job {job.id}" if trial is not None else f"job {job.id}"
        self.finish(json.dumps({"id": job.id, "trial": trial, "message": f"canceling {what}"}))


class ResumeHandler(_JobsHandler):
    """``POST /automl-nb/jobs/<id>/resume``: a new controller for a stopped job."""

    @tornado.web.authenticated
    def post(self, job_id: str) -> None:
        job = self._job(job_id)
        if job.status == "completed":
            raise tornado.web.HTTPError(409, f"job {job.id} is already completed")
        try:
            job.resume()
        except JobError as exc:
            raise tornado.web.HTTPError(409, str(exc)) from exc
        self.finish(json.dumps({"id": job.id, "message": f"resumed job {job.id}"}))


def setup_handlers(web_app: Any, workspace: Path) -> None:
    """Add the API's routes to the server's tornado application."""
    base = url_path_join(web_app.settings["base_url"], API_NAMESPACE, "jobs")
    job = r"/(?P<job_id>[^/]+)"
    kwargs = {"workspace": workspace}
    web_app.add_handlers(
        ".*$",
        [
            (base, JobListHandler, kwargs),
            (base + job, JobHandler, kwargs),
            (base + job + "/cancel", CancelHandler, kwargs),
            (base + job + "/resume", ResumeHandler, kwargs),
        ],
    )
