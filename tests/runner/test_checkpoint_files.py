"""Checkpoint files under faults: a failed or killed write, plain values, foreign pickles."""

from __future__ import annotations

import enum
import logging
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from automl_nb.errors import ConfigError
from automl_nb.training._checkpoint import load_checkpoint
from automl_nb.training._checkpoint import save_checkpoint

pytestmark = pytest.mark.timeout(120)


class _Colour(enum.Enum):
    RED = "red"


def test_numpy_scalars_paths_and_enums_are_saved_as_plain_values(tmp_path):
    state = {
        "epoch": np.int64(3),
        "score": np.float32(0.5),
        "weights": torch.ones(2),
        "labels": (Path("a/b"), _Colour.RED),
        "history": [{"loss": np.float64(0.25), "flags": {np.bool_(True)}}],
        "array": np.arange(3),
        "model": torch.nn.BatchNorm1d(2).state_dict(),
    }
    path = save_checkpoint(tmp_path / "last.pt", state)
    loaded = load_checkpoint(path)  # weights_only=True
    assert type(loaded["epoch"]) is int and loaded["epoch"] == 3
    assert type(loaded["score"]) is float and loaded["score"] == 0.5
    assert loaded["labels"] == ("a/b", "red")
    assert loaded["history"] == [{"loss": 0.25, "flags": {True}}]
    assert torch.equal(loaded["array"], torch.arange(3))
    # A module state_dict keeps its version metadata, so it loads back as before.
    assert loaded["model"]._metadata[""]["version"] == 2
    torch.nn.BatchNorm1d(2).load_state_dict(loaded["model"])


def test_a_pickle_that_would_run_code_is_refused_and_named(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "last.pt"
    torch.save({"model": Evil()}, bad)
    with pytest.raises(ConfigError) as caught:
        load_checkpoint(bad)
    assert str(bad) in str(caught.value)
    assert "refused" in str(caught.value)
    assert not marker.exists()
    # A plain pickle file (not torch's zip format) is refused the same way.
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ConfigError, match="raw.pt"):
        load_checkpoint(raw)
    assert not marker.exists()


def test_a_disk_full_write_keeps_the_previous_checkpoint_and_says_so(tmp_path, caplog):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.zeros(4)})
    # The temporary file lands on /dev/full: every write fails with ENOSPC, as on a full disk.
    (tmp_path / "last.pt.tmp").symlink_to("/dev/full")
    with caplog.at_level(logging.WARNING, logger="automl_nb.training"):
        assert save_checkpoint(path, {"epoch": 2, "w": torch.ones(4)}) is None
    assert load_checkpoint(path)["epoch"] == 1
    assert not (tmp_path / "last.pt.tmp").exists()
    assert "could not write checkpoint" in caplog.text
    assert "previous one is kept and still loadable" in caplog.text


def test_a_process_killed_mid_write_leaves_the_previous_checkpoint(tmp_path):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.zeros(4)})
    # A child writes a large checkpoint through save_checkpoint and is killed while writing.
    script = textwrap.dedent(
        f"""
        import torch
        from automl_nb.training._checkpoint import save_checkpoint
        big = {{"epoch": 2, "w": torch.rand(64, 1024, 1024)}}  # 256 MB: seconds to write
        print("writing", flush=True)
        save_checkpoint({str(path)!r}, big)
        print("written", flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        tmp = tmp_path / "last.pt.tmp"
        end = time.time() + 60
        while not (tmp.exists() and tmp.stat().st_size > 0) and time.time() < end:
            time.sleep(0.005)
        assert tmp.exists(), "the child never started writing"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert load_checkpoint(path)["epoch"] == 1
    assert tmp.exists()  # the stale temporary file, removed by the runner on resume


def test_an_interrupt_during_a_write_stays_an_interrupt(tmp_path):
    # Pruning and cancel stop a trial with SIGINT: it must not pass for a failed write.
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"epoch": 1, "w": torch.zeros(4)})
    script = textwrap.dedent(
        f"""
        import torch
        from automl_nb.training._checkpoint import save_checkpoint
        big = {{"epoch": 2, "w": torch.rand(64, 1024, 1024)}}
        print("writing", flush=True)
        try:
            # Enough writes that the interrupt always lands during one, however slow the
            # machine is to notice the first.
            for _ in range(200):
                save_checkpoint({str(path)!r}, big)
            print("not interrupted", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        tmp = tmp_path / "last.pt.tmp"
        end = time.time() + 60
        while not (tmp.exists() and tmp.stat().st_size > 0) and time.time() < end:
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGINT)
        assert child.stdout.readline().strip() == "interrupted"
    finally:
        child.kill()
        child.wait(timeout=30)
    assert load_checkpoint(path)["epoch"] in (1, 2)  # the previous or the finished write
