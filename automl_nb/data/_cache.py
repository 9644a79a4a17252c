"""The on-disk cache of remote images (fsspec URLs), kept with ``diskcache``.

Two modes, chosen per trial by ``advanced_settings.stream_image_files``:

* **copy** (the default): every remote image is fetched once, before training, into an
  unbounded cache and read from there in every epoch (and by later trials and jobs);
* **stream** (``stream_image_files: true``): images are fetched on demand while training
  reads them, into a cache bounded by ``AUTOML_NB_IMAGE_CACHE_MB`` (least recently used
  images are evicted first), so a dataset larger than the local disk can be trained on.

The cache folder is ``$AUTOML_NB_IMAGE_CACHE`` (default ``~/.cache/automl-nb/images``); images
are keyed by URL, so delete the folder after changing images in place. Local files are never
cached (nor ``memory://`` ones). ``diskcache`` is safe across processes (``DataLoader``
workers, concurrent trials).

A cache hit writes nothing: diskcache's least-recently-used bookkeeping costs one SQLite
transaction per read (a large share of reading a small image), so hits are read through a
second handle that does not update access times, and the access times of the images read are
written (to diskcache's table, as its own LRU reads do) in one transaction per batch: every
``TOUCH_BATCH`` hits or ``TOUCH_SECONDS``, and always before an image is added, so the eviction
that adding may cause sees this process's reads, in order. Another process's reads are at most
one batch behind.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

log = logging.getLogger("automl_nb.data")

CACHE_DIR_ENV = "AUTOML_NB_IMAGE_CACHE"
CACHE_CAP_ENV = "AUTOML_NB_IMAGE_CACHE_MB"
DEFAULT_STREAM_CAP_MB = 10240.0
# diskcache needs a number; this is "no cap" for the copy mode.
UNBOUNDED = 2**62
# Progress is logged about this many times while the cache fills.
PROGRESS_STEPS = 20
# Cache hits whose access times are written together (see the module doc).
TOUCH_BATCH = 256
TOUCH_SECONDS = 2.0


def cache_folder() -> Path:
    """The image cache folder: ``$AUTOML_NB_IMAGE_CACHE``, else ``~/.cache/automl-nb/images``."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "automl-nb" / "images"


def stream_cap_bytes() -> int:
    """The streaming cache's size cap: ``$AUTOML_NB_IMAGE_CACHE_MB`` megabytes (10240)."""
    from automl_nb.errors import ConfigError
    from automl_nb.errors import Problem

    text = os.environ.get(CACHE_CAP_ENV, "").strip()
    try:
        megabytes = float(text) if text else DEFAULT_STREAM_CAP_MB
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0:
        raise ConfigError(
            Problem("must be a positive number of megabytes", path=CACHE_CAP_ENV, value=repr(text))
        )
    return int(megabytes * 2**20)


class ImageCache:
    """Bytes of remote images on local disk, bounded (stream) or not (copy).

    Args:
        directory: The cache folder of this mode.
        size_limit: The cap in bytes, or ``None`` for none.
        expected: How many images the job reads (for progress lines), 0 when unknown.

    The ``diskcache.Cache`` is opened lazily in each process, so the object pickles into
    ``DataLoader`` worker processes.
    """

    def __init__(self, directory: Path, *, size_limit: int | None, expected: int = 0) -> None:
        self.directory = Path(directory)
        self.size_limit = size_limit
        self.expected = expected
        self.fetched = 0
        self.hits = 0
        self._cache: Any = None
        self._reader: Any = None
        self._touch: Any = None  # a sqlite3 connection writing the access times of hits
        self._opened_by = 0
        self._lock = threading.Lock()
        # Hits not yet written as uses (url -> None, in the order read), since _pending_since.
        self._pending: dict[str, None] = {}
        self._pending_since = 0.0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_cache=None, _reader=None, _touch=None, _lock=None, _pending={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def cache(self) -> Any:
        """The open ``diskcache.Cache``."""
        if self._cache is not None and self._opened_by != os.getpid():
            # A forked DataLoader worker must not share its parent's SQLite connection.
            self._cache = self._reader = self._touch = None
            self._pending = {}
        if self._cache is None:
            self._opened_by = os.getpid()
            self.directory.mkdir(parents=True, exist_ok=True)
            self._cache = self._open()
        return self._cache

    def _open(self) -> Any:
        import diskcache

        return diskcache.Cache(
            str(self.directory),
            size_limit=self.size_limit or UNBOUNDED,
            eviction_policy="least-recently-used",
        )

    @property
    def reader(self) -> Any:
        """A handle on the same cache whose reads write nothing (see the module doc)."""
        self.cache  # noqa: B018 - opens (or reopens after a fork) both handles' folder
        if self._reader is None:
            reader = self._open()
            # This handle only: the policy stored in the cache's database stays LRU.
            reader.reset("eviction_policy", "none", update=False)
            self._reader = reader
        return self._reader

    def flush_uses(self) -> None:
        """Write the access times of the hits read since the last flush, in one transaction
        (in the order read, so the least recently used is evicted first)."""
        self.cache  # noqa: B018 - reopens after a fork
        with self._lock:  # prefetch threads share the connection
            pending, self._pending = list(self._pending), {}
            if not pending:
                return
            if self._touch is None:
                import sqlite3

                from diskcache.core import DBNAME

                self._touch = sqlite3.connect(
                    str(self.directory / DBNAME),
                    isolation_level=None,
                    timeout=60,
                    check_same_thread=False,
                )
            start = time.time() - len(pending) * 1e-6
            rows = [(start + i * 1e-6, url) for i, url in enumerate(pending)]
            self._touch.execute("BEGIN IMMEDIATE")
            try:
                # diskcache's own LRU update (its Cache table; str keys are stored raw).
                self._touch.executemany(
                    "UPDATE Cache SET access_time = ? WHERE key = ? AND raw = 1", rows
                )
            finally:
                self._touch.execute("COMMIT")

    def _note_use(self, url: str) -> None:
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.pop(url, None)  # a later read moves it to the end
            self._pending[url] = None
            due = (
                len(self._pending) >= TOUCH_BATCH
                or time.monotonic() - self._pending_since >= TOUCH_SECONDS
            )
        if due:
            self.flush_uses()

    def volume(self) -> int:
        """Bytes the cache holds on disk (its database included)."""
        return int(self.cache.volume())

    def read(self, url: str, fetch: Callable[[str], bytes]) -> bytes:
        """The bytes of ``url``: from the cache, else fetched with ``fetch`` and kept."""
        data = self.reader.get(url)
        if data is not None:
            self.hits += 1
            self._note_use(url)
            return bytes(data)
        data = fetch(url)
        if self.size_limit is None or len(data) <= self.size_limit:
            self.flush_uses()  # adding may evict: the least recently used must be known
            self.cache.set(url, data)
        with self._lock:
            self.fetched += 1
            fetched = self.fetched
        self._progress(fetched)
        return data

    def _progress(self, fetched: int) -> None:
        step = max(1, self.expected // PROGRESS_STEPS) if self.expected else 100
        if fetched % step and fetched != self.expected:
            return
        of = f"/{self.expected}" if self.expected else ""
        cap = "" if self.size_limit is None else f", cap {self.size_limit / 2**20:.0f} MB"
        log.info(
            "image cache: fetched %d%s images (%.1f MB held%s)",
            fetched,
            of,
            self.volume() / 2**20,
            cap,
        )

    def contains(self, url: str) -> bool:
        """Whether ``url`` is cached (does not count as a use)."""
        return url in self.cache

    def prefetch(
        self, urls: Iterable[str], fetch: Callable[[str], bytes], *, workers: int = 8
    ) -> int:
        """Fetch every URL not yet cached (threads: fetching is I/O bound); returns how many."""
        missing = [u for u in dict.fromkeys(urls) if not self.contains(u)]
        if not missing:
            return 0
        self.expected = len(missing)
        log.info("copying %d remote images into the image cache %s", len(missing), self.directory)
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for _ in pool.map(lambda u: self.read(u, fetch), missing):
                pass
        return len(missing)


_active: ImageCache | None = None


def active_image_cache() -> ImageCache:
    """The cache remote images are read through (the copy mode unless a trial streams)."""
    global _active
    if _active is None:
        _active = ImageCache(cache_folder() / "copy", size_limit=None)
    return _active


def configure_image_cache(*, stream: bool, expected: int = 0) -> ImageCache:
    """Make the copy (``stream=False``) or the bounded stream cache the active one."""
    global _active
    if stream:
        _active = ImageCache(
            cache_folder() / "stream", size_limit=stream_cap_bytes(), expected=expected
        )
    else:
        _active = ImageCache(cache_folder() / "copy", size_limit=None, expected=expected)
    return _active


def prepare_image_cache(*image_sets: Any, stream: bool) -> ImageCache:
    """Set up the image cache of a trial reading ``image_sets`` (``LabeledImages``).

    Without streaming, every remote image is copied into the cache now (with progress lines
    in the trial log); with streaming, nothing is fetched before training reads it.
    """
    from automl_nb.data._images import fetch_bytes
    from automl_nb.data._sources import is_url

    remote = [r.path for images in image_sets for r in images.records if is_url(r.path)]
    cache = configure_image_cache(stream=stream, expected=len(set(remote)))
    if stream:
        if remote:
            cap = (cache.size_limit or 0) / 2**20
            log.info("streaming %d remote images through a %.1f MB cache", len(remote), cap)
    elif remote:
        cache.prefetch(remote, fetch_bytes)
    return cache
