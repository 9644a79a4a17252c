"""A 2-process trial run from a notebook's own kernel: interrupting the cell stops every rank,
and after a kernel restart the same cell resumes the trial from its checkpoint; no process is
left behind at any point (DDP inside Jupyter otherwise hangs or kills the kernel)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from automl_nb.runner._layout import read_jsonl
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.testing.kernels import collect_until_idle
from automl_nb.testing.kernels import errors_of
from automl_nb.testing.kernels import running_kernel
from automl_nb.testing.kernels import stdout_of
from automl_nb.testing.processes import wait_for
from tests.scale.test_distributed import job_text
from tests.scale.test_distributed import processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CELL = """\
from automl_nb.config import load_job
from automl_nb.training import run_trial
result = run_trial(load_job({job!r}), {{}}, {folder!r}, resume={resume})
print("trial", result.status, result.epochs)
"""


@pytest.fixture(scope="module")
def colours(tmp_path_factory) -> Path:
    return make_classification_jsonl(
        tmp_path_factory.mktemp("colours"), n=40, size=32, classes=("red", "green")
    )


def test_interrupting_a_two_process_trial_in_a_notebook_and_restarting_it(tmp_path, colours):
    job = tmp_path / "job.yml"
    job.write_text(job_text(colours, processes=2, batch=5, epochs=12), encoding="utf-8")
    folder = tmp_path / "trial"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(Path.cwd())}
    with running_kernel(tmp_path, env) as (km, kc):
        msg_id = kc.execute(CELL.format(job=str(job), folder=str(folder), resume=False))
        wait_for(
            lambda: len(read_jsonl(folder / "metrics.jsonl")) >= 1,
            timeout=300,
            what="the first epoch of the 2-process trial",
        )
        assert len(processes_mentioning(str(folder))) >= 2, "torchrun and its ranks run"
        km.interrupt_kernel()
        # The interrupted cell ends and the kernel is usable.
        messages = collect_until_idle(kc, msg_id, timeout=120)
        assert [e["ename"] for e in errors_of(messages, msg_id)] == ["KeyboardInterrupt"]
        wait_for(lambda: not processes_mentioning(str(folder)), timeout=60, what="no rank left")
        done = len(read_jsonl(folder / "metrics.jsonl"))
        assert 1 <= done < 12

        # Restart the kernel, then run the same cell again with resume: it continues.
        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=120)
        again = kc.execute(CELL.format(job=str(job), folder=str(folder), resume=True))
        messages = collect_until_idle(kc, again, timeout=400)
        assert not errors_of(messages, again)
        assert "trial completed 12" in stdout_of(messages, again)
        epochs = [row["epoch"] for row in read_jsonl(folder / "metrics.jsonl")]
        assert epochs == list(range(1, 13)), "resumed after the last checkpointed epoch"
        assert not processes_mentioning(str(folder))
    assert not processes_mentioning(str(folder))
