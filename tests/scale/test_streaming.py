"""Remote images through the on-disk cache: streamed under a size cap, or copied once."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from automl_nb.config import load_job
from automl_nb.data._cache import CACHE_CAP_ENV
from automl_nb.data._cache import CACHE_DIR_ENV
from automl_nb.data._cache import ImageCache
from automl_nb.data._cache import cache_folder
from automl_nb.testing.datasets import make_classification_jsonl
from automl_nb.training import run_trial

pytestmark = pytest.mark.timeout(300)


class CountingFileSystem(LocalFileSystem):
    """Local files under the ``countfs://`` protocol, counting every file opened: a remote
    store whose downloads the test can count."""

    protocol = ("countfs",)
    opened: Counter = Counter()

    @classmethod
    def _strip_protocol(cls, path):
        path = str(path)
        if path.startswith("countfs://"):
            path = path[len("countfs://") :]
        return super()._strip_protocol(path)

    def _open(self, path, mode="rb", **kwargs):
        CountingFileSystem.opened[path] += 1
        return super()._open(path, mode, **kwargs)


fsspec.register_implementation("countfs", CountingFileSystem, clobber=True)

# BMP (uncompressed): 64 x 64 x 3 = 12 KB an image, 40 images = 480 KB.
N_IMAGES = 40


@pytest.fixture(scope="module")
def image_jsonls(tmp_path_factory) -> tuple[Path, Path]:
    """The same 40 images as local paths and as ``countfs://`` URLs (two JSONL files)."""
    root = tmp_path_factory.mktemp("remote")
    local = make_classification_jsonl(
        root, n=N_IMAGES, size=64, classes=("red", "green"), image_format="bmp"
    )
    lines = [json.loads(line) for line in local.read_text().splitlines()]
    for line in lines:
        line["image_url"] = f"countfs://{(root / line['image_url']).resolve()}"
    remote = root / "remote.jsonl"
    remote.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return local, remote


def _job(tmp_path: Path, jsonl: Path, *, stream: bool) -> Path:
    advanced = json.dumps({"use_pretrained": False, "stream_image_files": stream})
    text = f"""\
type: automl
task: image_classification
target_column_name: label
training_data: {{path: {jsonl}, type: uri_file}}
validation_data_size: 0.25
training_parameters:
  model_name: resnet18
  number_of_epochs: 2
  training_batch_size: 10
  validation_batch_size: 10
  training_crop_size: 32
  validation_crop_size: 32
  validation_resize_size: 36
  learning_rate: 0.02
  early_stopping: false
  random_seed: 3
  advanced_settings: '{advanced}'
"""
    path = tmp_path / f"job-{jsonl.stem}-{stream}.yml"
    path.write_text(text)
    return path


def _losses(result) -> list[float]:
    return [row["train_loss"] for row in result.history]


def test_a_streamed_dataset_larger_than_its_cache_trains_and_stays_under_the_cap(
    tmp_path, image_jsonls, monkeypatch
):
    local, remote = image_jsonls
    cap_mb = 0.2
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(CACHE_CAP_ENV, str(cap_mb))
    dataset_bytes = sum(p.stat().st_size for p in (local.parent / "images").iterdir())
    assert dataset_bytes > 2 * cap_mb * 2**20  # the cache cannot hold the dataset

    CountingFileSystem.opened.clear()
    streamed = run_trial(load_job(_job(tmp_path, remote, stream=True)), {}, tmp_path / "s")
    baseline = run_trial(load_job(_job(tmp_path, local, stream=False)), {}, tmp_path / "l")

    # The same images, seed and order: the same training, step for step.
    assert streamed.status == "completed" and streamed.epochs == 2
    assert _losses(streamed) == pytest.approx(_losses(baseline), rel=1e-5)
    assert streamed.best_score == pytest.approx(baseline.best_score)
    stream_cache = ImageCache(cache_folder() / "stream", size_limit=int(cap_mb * 2**20))
    assert 0 < stream_cache.volume() <= cap_mb * 2**20
    held = len(stream_cache.cache)
    assert 0 < held < N_IMAGES  # least recently used images were evicted
    # Evicted images were fetched again in later epochs: streamed, not copied.
    assert sum(CountingFileSystem.opened.values()) > N_IMAGES
    assert not (cache_folder() / "copy").exists()
    log = (tmp_path / "s" / "log.txt").read_text()
    assert f"streaming {N_IMAGES} remote images through a {cap_mb} MB cache" in log
    assert "image cache: fetched" in log  # progress while the first epoch fills the cache


def test_remote_images_without_streaming_are_fetched_once_across_epochs(
    tmp_path, image_jsonls, monkeypatch
):
    _, remote = image_jsonls
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    CountingFileSystem.opened.clear()
    result = run_trial(load_job(_job(tmp_path, remote, stream=False)), {}, tmp_path / "t")
    assert result.status == "completed" and result.epochs == 2
    assert len(CountingFileSystem.opened) == N_IMAGES
    assert set(CountingFileSystem.opened.values()) == {1}  # two epochs, one download each
    log = (tmp_path / "t" / "log.txt").read_text()
    assert f"copying {N_IMAGES} remote images into the image cache" in log
    assert f"image cache: fetched {N_IMAGES}/{N_IMAGES} images" in log
    # A second trial (or job) reads them from the cache: nothing is downloaded again.
    again = run_trial(load_job(_job(tmp_path, remote, stream=False)), {}, tmp_path / "u")
    assert again.status == "completed"
    assert set(CountingFileSystem.opened.values()) == {1}


def test_the_cache_cap_must_be_a_positive_number(monkeypatch):
    from automl_nb.data._cache import stream_cap_bytes
    from automl_nb.errors import ConfigError

    monkeypatch.setenv(CACHE_CAP_ENV, "lots")
    with pytest.raises(ConfigError, match=CACHE_CAP_ENV):
        stream_cap_bytes()
    monkeypatch.setenv(CACHE_CAP_ENV, "1.5")
    assert stream_cap_bytes() == int(1.5 * 2**20)


def test_a_forked_dataloader_worker_opens_its_own_cache_connection(tmp_path, monkeypatch):
    import os

    from automl_nb.data._cache import configure_image_cache

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "cache"))
    cache = configure_image_cache(stream=True)
    assert cache.read("countfs:///a", lambda url: b"first") == b"first"
    child = os.fork()
    if child == 0:  # the worker: reads what the parent cached, adds an image of its own
        same = cache.read("countfs:///a", lambda url: b"refetched") == b"first"
        cache.read("countfs:///b", lambda url: b"from the worker")
        os._exit(0 if same and cache._opened_by == os.getpid() else 1)
    _, status = os.waitpid(child, 0)
    assert status == 0
    assert cache.read("countfs:///b", lambda url: b"refetched") == b"from the worker"


def test_hits_read_without_a_write_still_evict_the_least_recently_used(tmp_path):
    cache = ImageCache(tmp_path / "cache", size_limit=10**9)
    image = {f"k{i}": bytes([i]) * 40_000 for i in range(13)}  # each in a file of its own
    for key in list(image)[:12]:
        cache.read(key, image.get)
    # Room for one image less than the next: adding k12 evicts diskcache's cull batch (the 10
    # least recently used).
    cache.cache.reset("size_limit", cache.volume() + 20_000)
    for key in ("k0", "k1", "k2", "k3", "k4", "k5"):  # hits, read in this order
        assert cache.read(key, lambda url: b"fetched again") == image[key]
    assert cache._pending  # their access times are not written yet
    cache.read("k12", image.get)
    # Unread k6..k11 went first, then the hits in the order they were read.
    assert sorted(cache.cache, key=lambda k: int(k[1:])) == ["k4", "k5", "k12"]


def test_hits_are_written_as_uses_in_batches(tmp_path, monkeypatch):
    from automl_nb.data import _cache

    monkeypatch.setattr(_cache, "TOUCH_BATCH", 4)
    cache = ImageCache(tmp_path / "cache", size_limit=None)
    for key in ("a", "b", "c", "d"):
        cache.read(key, lambda url: url.encode())
    import sqlite3

    def access_times() -> dict[str, float]:
        with sqlite3.connect(tmp_path / "cache" / "cache.db") as db:
            return dict(db.execute("SELECT key, access_time FROM Cache"))

    before = access_times()
    for key in ("d", "c", "b"):
        cache.read(key, lambda url: b"fetched again")
    assert access_times() == before  # three hits: nothing written yet
    cache.read("a", lambda url: b"fetched again")  # the fourth: one batch of four
    after = access_times()
    assert all(after[k] > before[k] for k in "abcd")
    assert after["d"] < after["c"] < after["b"] < after["a"]  # in the order read
