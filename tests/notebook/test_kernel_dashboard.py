"""In a real kernel: the dashboard's background thread reaches the frontend (comm messages
on iopub, under the dashboard cell's parent header) while another cell is running."""

from __future__ import annotations

import os

import pytest

from automl_nb.testing.kernels import collect_until_idle
from automl_nb.testing.kernels import running_kernel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_dashboard_updates_reach_iopub_while_another_cell_runs(tmp_path, tiny_job):
    job_yaml = tiny_job(tmp_path, epochs=3)
    env = {**os.environ, "AUTOML_NB_WORKSPACE": str(tmp_path / "runs"), "HF_HUB_OFFLINE": "1"}
    with running_kernel(tmp_path, env) as (km, kc):
        submit_id = kc.execute(
            "%load_ext automl_nb\n"
            "%config AutoMLVision.refresh_seconds = 0.5\n"
            f"%automl_vision submit --file {job_yaml}"
        )
        first = collect_until_idle(kc, submit_id, timeout=120)
        results = [m for m in first if m["msg_type"] in ("execute_result", "error")]
        assert results and results[-1]["msg_type"] == "execute_result", results
        bundle = results[-1]["content"]["data"]
        assert "application/vnd.jupyter.widget-view+json" in bundle
        # Widgets open empty and get their values in update messages.
        header_ids = {
            m["content"]["comm_id"]
            for m in first
            if m["msg_type"] in ("comm_open", "comm_msg")
            and "job tiny-" in str(m["content"]["data"].get("state", {}).get("value", ""))
        }
        assert header_ids, "the dashboard's header widget was opened"

        # Another cell keeps the kernel busy until the job ends.
        wait_id = kc.execute(
            "import time\n"
            "from automl_nb.notebook import last_job\n"
            "job = last_job()\n"
            "while not job.done:\n"
            "    time.sleep(0.2)\n"
            "time.sleep(2)\n"
            "print(job.status)"
        )
        second = collect_until_idle(kc, wait_id, timeout=300)
        busy = next(
            i
            for i, m in enumerate(second)
            if m["msg_type"] == "status"
            and m["content"]["execution_state"] == "busy"
            and m["parent_header"].get("msg_id") == wait_id
        )
        during = [m for m in second[busy:] if m["msg_type"] == "comm_msg"]
        assert len(during) >= 2, "updates arrived while the other cell ran"
        # The watcher restored the dashboard cell's parent header.
        assert {m["parent_header"]["msg_id"] for m in during} == {submit_id}
        header_updates = [
            m["content"]["data"]["state"].get("value", "")
            for m in during
            if m["content"]["comm_id"] in header_ids
        ]
        assert "completed" in header_updates[-1]
        stdout = "".join(m["content"]["text"] for m in second if m["msg_type"] == "stream")
        assert "completed" in stdout
