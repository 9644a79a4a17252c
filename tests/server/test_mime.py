"""The notebook's job outputs carry the job JSON the JupyterLab MIME renderer shows."""

from __future__ import annotations

import json

from IPython.core.formatters import DisplayFormatter

from automl_nb.notebook._job_views import JobView
from automl_nb.notebook._jobs import take_snapshot
from automl_nb.server._payload import JOB_MIME


def test_job_view_output_has_job_json_next_to_html(finished_job):
    view = JobView(finished_job, take_snapshot(finished_job), note="done")
    data, _ = DisplayFormatter().format(view)
    assert {"text/plain", "text/html", JOB_MIME} <= set(data)
    payload = json.loads(json.dumps(data[JOB_MIME], allow_nan=False))
    assert payload["id"] == finished_job.id and payload["status"] == "completed"
    failed = next(t for t in payload["trials"] if t["state"] == "failed")
    assert "none of its weights fit this model" in failed["error"]
    assert finished_job.id in data["text/html"]
