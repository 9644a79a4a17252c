"""Real background kernels: environment pinning, completion, interrupt and death."""

from __future__ import annotations

import os
import signal
import time

import pytest

from automl_nb.runner._kernels import TrialKernel
from automl_nb.runner._kernels import write_kernelspec

pytestmark = pytest.mark.timeout(180)


def _wait(kernel: TrialKernel, timeout: float = 60.0) -> str:
    end = time.time() + timeout
    while time.time() < end:
        outcome = kernel.poll()
        if outcome is not None:
            return outcome
        time.sleep(0.1)
    raise AssertionError("kernel did not finish in time")


@pytest.fixture
def spec_dir(tmp_path):
    return write_kernelspec(tmp_path / "kernelspec")


def test_kernel_runs_in_the_trial_folder_with_pinned_env(tmp_path, spec_dir):
    trial = tmp_path / "trials" / "0"
    kernel = TrialKernel(trial, kernelspec_dir=spec_dir, cuda_devices="", threads=1)
    code = (
        "import os, sys\n"
        "open('env.txt', 'w').write('|'.join([os.getcwd(), os.environ['CUDA_VISIBLE_DEVICES'],"
        " os.environ['OMP_NUM_THREADS'], sys.executable]))"
    )
    kernel.start(code)
    try:
        assert _wait(kernel) == "ok"
    finally:
        kernel.shutdown()
    cwd, cuda, threads, exe = (trial / "env.txt").read_text().split("|")
    assert os.path.realpath(cwd) == os.path.realpath(trial)
    assert (cuda, threads) == ("", "1")
    assert os.path.realpath(exe) == os.path.realpath(os.sys.executable)


def test_interrupt_raises_keyboard_interrupt_in_the_trial(tmp_path, spec_dir):
    trial = tmp_path / "t"
    kernel = TrialKernel(trial, kernelspec_dir=spec_dir)
    kernel.start(
        "import time\n"
        "try:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n"
        "    open('interrupted', 'w').write('yes')\n"
    )
    try:
        time.sleep(1.0)
        kernel.interrupt()
        assert _wait(kernel, 30) == "ok"
    finally:
        kernel.shutdown()
    assert (trial / "interrupted").read_text() == "yes"


def test_a_killed_kernel_is_reported_dead_with_its_log(tmp_path, spec_dir):
    kernel = TrialKernel(tmp_path / "t", kernelspec_dir=spec_dir)
    kernel.start(
        "import sys, time\nprint('about to hang', file=sys.__stderr__, flush=True)\ntime.sleep(60)"
    )
    try:
        time.sleep(1.0)
        os.kill(kernel.pid, signal.SIGKILL)
        assert _wait(kernel, 30) == "dead"
        assert "about to hang" in kernel.log_tail()
    finally:
        kernel.shutdown()
