"""The bad-input corpus: every case fails with a located message, fast, without a traceback,
and leaves what was already written alone; every good variant is accepted.

Most CLI cases run ``automl_nb.cli.main`` in this process (stdout and stderr captured, a
per-case alarm as the time limit); a sample runs as real ``python -m automl_nb.cli``
processes. Build the cases with ``corpus_cases.all_cases()``.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from corpus_cases import Case
from corpus_cases import Run
from corpus_cases import all_cases

from automl_nb.errors import AutoMLError

REPO = Path(__file__).resolve().parents[2]
CASE_TIME_LIMIT = 30  # seconds; the slowest case (a model load and an explanation) needs ~3
CASES = all_cases()


class CaseTimeout(BaseException):
    """Raised by the alarm when a case runs past its time limit (a hang)."""


@dataclass
class Outcome:
    status: int
    message: str  # what the CLI printed (stderr first), the exception text for calls
    output: str  # everything printed
    seconds: float


class Context:
    """What many cases share: a small trained-shape classifier folder and its scorer."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model_dir: Path | None = None
        self._server = None

    @property
    def model_dir(self) -> Path:
        if self._model_dir is None:
            import torch

            from automl_nb.inference import save_model_dir
            from automl_nb.models import create_model

            torch.manual_seed(0)
            model = create_model(
                "resnet18", task="image_classification", num_classes=3, pretrained=False
            )
            self._model_dir = save_model_dir(
                self.folder / "classifier",
                model=model,
                model_name="resnet18",
                task="image_classification",
                labels=["cat", "dog", "fox"],
                hyperparameters={"validation_resize_size": 40, "validation_crop_size": 32},
            )
        return self._model_dir

    @property
    def server(self):
        if self._server is None:
            from automl_nb.inference import ScoringServer

            self._server = ScoringServer(self.model_dir, device="cpu")
        return self._server


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> Context:
    return Context(tmp_path_factory.mktemp("corpus-shared"))


def _alarm(signum, frame):
    raise CaseTimeout()


def _in_process(run: Run) -> Outcome:
    from automl_nb.cli import main

    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_TIME_LIMIT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if run.argv is not None:
                try:
                    status = main(run.argv)
                except SystemExit as exc:  # argparse usage errors
                    status = int(exc.code or 0)
                message = err.getvalue() + out.getvalue()  # check reports on stdout
            else:
                try:
                    run.call()
                    status, message = 0, ""
                except AutoMLError as exc:
                    status, message = getattr(exc, "status", 2), str(exc)
    except CaseTimeout:
        pytest.fail(f"no answer within {CASE_TIME_LIMIT} s (a hang)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return Outcome(status, message, out.getvalue() + err.getvalue(), time.monotonic() - start)


def _as_process(run: Run) -> Outcome:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "automl_nb.cli", *run.argv],
            capture_output=True,
            text=True,
            timeout=CASE_TIME_LIMIT * 2,
            env=env,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the process did not finish within {CASE_TIME_LIMIT * 2} s (a hang)")
    output = done.stdout + done.stderr
    return Outcome(done.returncode, output, output, time.monotonic() - start)


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_fails_cleanly(case: Case, context: Context, tmp_path: Path) -> None:
    run = case.build(tmp_path, context)
    before = {path: path.read_bytes() for path in run.untouched}
    outcome = _as_process(run) if run.subprocess else _in_process(run)
    assert "Traceback" not in outcome.output, outcome.output[-3000:]
    if case.good:
        assert outcome.status == 0, outcome.output[-2000:]
        for text in run.expect:
            assert text in outcome.output, f"{text!r} not in: {outcome.output[-2000:]}"
    else:
        assert outcome.status != 0, f"accepted silently: {outcome.output[-2000:]}"
        if run.status:
            assert outcome.status == run.status, outcome.message
        for text in run.expect:
            assert text in outcome.message, f"{text!r} not in: {outcome.message[-2000:]}"
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path.name} was changed by a failed command"
    for path in run.forbidden:
        assert not path.exists(), f"code from an input file ran: {path.name} was created"


def test_the_corpus_is_large_and_covers_every_entry_point() -> None:
    assert len(CASES) >= 400
    prefixes = {case.id.split("-")[0] for case in CASES}
    expected = {
        "jsonl",
        "image",
        "job",
        "mltable",
        "sdk",
        "convert",
        "predict",
        "explain",
        "check",
    }
    assert expected | {"score", "process", "good"} <= prefixes
