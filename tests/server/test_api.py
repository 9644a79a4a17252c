"""The ``/automl-nb/`` REST API in a real Jupyter server over a real finished job."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from automl_nb.server._payload import job_detail

NO_TOKEN = {"Authorization": ""}


async def _json(jp_fetch, *parts, **kwargs):
    response = await jp_fetch("automl-nb", *parts, **kwargs)
    assert response.code == 200
    return json.loads(response.body)


async def test_job_list_counts_trials_and_best_score(jp_fetch, finished_job, workspace):
    payload = await _json(jp_fetch, "jobs")
    assert payload["workspace"] == str(workspace)
    (job,) = payload["jobs"]
    assert job["id"] == finished_job.id
    assert job["experiment"] == "lab"
    assert job["status"] == "completed"
    assert job["primary_metric"] == "accuracy"
    assert job["task"] == "image_classification"
    assert job["total"] == 2 and job["max_trials"] == 2
    assert job["counts"]["completed"] == 1 and job["counts"]["failed"] == 1
    assert job["counts"]["running"] == 0 and job["counts"]["pruned"] == 0
    best = finished_job.best_trial()
    assert job["best_trial"] == best.number == 0
    assert job["best_score"] == pytest.approx(best.best_score)
    assert 0 < job["elapsed"] < 600


async def test_job_detail_has_epoch_rows_and_full_error(jp_fetch, finished_job):
    detail = await _json(jp_fetch, "jobs", finished_job.id)
    assert detail["folder"] == str(finished_job.dir)
    trials = {t["number"]: t for t in detail["trials"]}
    done, failed = trials[0], trials[1]
    assert done["state"] == "completed"
    assert [row["epoch"] for row in done["metrics"]] == [1, 2]
    assert all(0.0 <= row["accuracy"] <= 1.0 for row in done["metrics"])
    assert done["hyperparameters"]["model_name"] == "resnet18"
    assert failed["state"] == "failed"
    # The whole message and the traceback.
    expected = next(t.error for t in finished_job.trials() if t.number == 1)
    assert failed["error"] == expected
    assert "none of its weights fit this model" in failed["error"]
    assert "foreign.pt" in failed["error"]
    assert "Traceback" in failed["traceback"]


async def test_job_detail_by_unique_prefix(jp_fetch, finished_job):
    detail = await _json(jp_fetch, "jobs", finished_job.id[:-2])
    assert detail["id"] == finished_job.id


async def test_unknown_job_is_404(jp_fetch):
    for parts, method in ((("jobs", "no-such-job"), "GET"), (("jobs", "nope", "cancel"), "POST")):
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch(
                "automl-nb", *parts, method=method, body=None if method == "GET" else ""
            )
        assert err.value.code == 404


async def test_requests_without_token_are_refused(jp_fetch, finished_job):
    for parts, method in (
        (("jobs",), "GET"),
        (("jobs", finished_job.id), "GET"),
        (("jobs", finished_job.id, "cancel"), "POST"),
        (("jobs", finished_job.id, "resume"), "POST"),
    ):
        body = None if method == "GET" else "{}"
        with pytest.raises(HTTPClientError) as err:
            await jp_fetch("automl-nb", *parts, method=method, body=body, headers=NO_TOKEN)
        assert err.value.code == 403, parts


async def test_cancel_of_a_finished_job_is_a_conflict(jp_fetch, finished_job):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("automl-nb", "jobs", finished_job.id, "cancel", method="POST", body="")
    assert err.value.code == 409
    assert not finished_job.paths.cancel_flag.exists()


async def test_bad_trial_number_is_400(jp_fetch, finished_job):
    body = json.dumps({"trial": "zero"})
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("automl-nb", "jobs", finished_job.id, "cancel", method="POST", body=body)
    assert err.value.code == 400


def test_payload_is_strict_json(finished_job):
    # NaN is not JSON: the payload must load in a browser's JSON.parse.
    text = json.dumps(job_detail(finished_job), allow_nan=False)
    assert finished_job.id in text
    # A manual sweep has no AutoMode plan.
    assert json.loads(text)["plan"] is None
