"""The cost probe: seconds per image of a model at an input size, on this machine.

AutoMode's planner needs to know what an epoch costs before it picks models, sizes and epoch
counts. :func:`probe_cost` builds the model from scratch (weights do not change the cost),
times a few training steps (forward, backward, optimizer step) on random images of the input
size and one evaluation batch, and returns seconds per image. Results are cached per machine,
device, model, size and batch in ``<workspace>/.cache/cost_probe.json``, so a second plan on the
same machine measures nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import statistics
import time
from dataclasses import asdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl_nb.tasks import Task
from automl_nb.tasks import as_task
from automl_nb.training._precision import autocast
from automl_nb.training._precision import autocast_dtype
from automl_nb.training._precision import precision_name

CACHE_FILE = Path(".cache") / "cost_probe.json"
# Timed training steps after one untimed warm-up step (allocator, cuDNN autotuning): at least
# PROBE_STEPS, more while they add up to under PROBE_SECONDS (at most MAX_PROBE_STEPS).
PROBE_STEPS = 3
PROBE_SECONDS = 1.0
MAX_PROBE_STEPS = 10
# A warm-up step slower than this is followed by one timed step, not PROBE_STEPS.
SLOW_STEP_SECONDS = 2.0
# Measured on a 2-core CPU, a warm-up step takes 1.1x (R-CNN, ViT) to 1.9x (ResNet-50) a
# timed one: half the warm-up is a lower bound on the cost.
WARM_UP_OVER_STEP = 2.0


@dataclass(frozen=True)
class Machine:
    """What the planner knows of the machine trials run on.

    Attributes:
        cpu_cores: Usable CPU cores.
        gpu_count: Visible CUDA GPUs.
        gpu_memory_gb: Memory of the smallest visible GPU (``None`` without one).
        gpu_name: Name of the first GPU (``None`` without one).
    """

    cpu_cores: int
    gpu_count: int = 0
    gpu_memory_gb: float | None = None
    gpu_name: str | None = None

    @property
    def device(self) -> str:
        """``"cuda"`` or ``"cpu"``: where a trial trains."""
        return "cuda" if self.gpu_count > 0 else "cpu"

    def fingerprint(self) -> str:
        """A short id of this machine and software (the cache key: costs differ between them)."""
        import torch

        text = "|".join(
            str(part)
            for part in (
                socket.gethostname(),
                platform.machine(),
                platform.processor(),
                self.cpu_cores,
                torch.__version__,
                self.gpu_count,
                self.gpu_name,
            )
        )
        return hashlib.sha1(text.encode()).hexdigest()[:12]

    def describe(self) -> str:
        """One line for the plan: ``2 CPU cores, no GPU`` / ``1 GPU (NVIDIA H200, 139 GB)``."""
        cores = f"{self.cpu_cores} CPU core{'s' if self.cpu_cores != 1 else ''}"
        if not self.gpu_count:
            return f"{cores}, no GPU"
        memory = f", {self.gpu_memory_gb:.0f} GB" if self.gpu_memory_gb else ""
        plural = "s" if self.gpu_count != 1 else ""
        return f"{cores}, {self.gpu_count} GPU{plural} ({self.gpu_name}{memory})"


def detect_machine() -> Machine:
    """The machine this process runs on (imports torch)."""
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        return Machine(cpu_cores=int(cores or 1))
    count = torch.cuda.device_count()
    memory = min(torch.cuda.get_device_properties(i).total_memory for i in range(count)) / 2**30
    return Machine(
        cpu_cores=int(cores or 1),
        gpu_count=count,
        gpu_memory_gb=round(memory, 1),
        gpu_name=torch.cuda.get_device_name(0),
    )


@dataclass(frozen=True)
class Cost:
    """Measured cost of one model at one input size.

    Attributes:
        train: Seconds per training image (forward, backward, optimizer step).
        eval: Seconds per validation image (forward only).
        measured: True when probed on this machine now or earlier (cached), False when
            extrapolated from another size of the same model.
    """

    train: float
    eval: float
    measured: bool = True


def _random_batch(task: Task, batch: int, size: int, num_classes: int, device: Any) -> Any:
    import torch

    if task.is_classification:
        images = torch.randn(batch, 3, size, size, device=device)
        if task is Task.CLASSIFICATION_MULTILABEL:
            target = torch.randint(0, 2, (batch, num_classes), device=device).float()
        else:
            target = torch.randint(0, num_classes, (batch,), device=device)
        return images, target
    # Detection: images whose short side is the model's min_size, one box each.
    pictures = [torch.rand(3, size, int(size * 4 / 3), device=device) for _ in range(batch)]
    targets: list[dict[str, Any]] = []
    for _ in range(batch):
        box = torch.tensor([[size * 0.2, size * 0.2, size * 0.6, size * 0.7]], device=device)
        boxes = {"boxes": box, "labels": torch.ones(1, dtype=torch.int64, device=device)}
        if task is Task.INSTANCE_SEGMENTATION:
            mask = torch.zeros(1, size, int(size * 4 / 3), dtype=torch.uint8, device=device)
            mask[:, int(size * 0.2) : int(size * 0.7), int(size * 0.2) : int(size * 0.6)] = 1
            boxes["masks"] = mask
        targets.append(boxes)
    return pictures, targets


def _train_step(model: Any, task: Task, images: Any, target: Any, optimizer: Any) -> None:
    import torch

    optimizer.zero_grad(set_to_none=True)
    loss: Any
    if task.is_classification:
        logits = model(images)
        if task is Task.CLASSIFICATION_MULTILABEL:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        else:
            loss = torch.nn.functional.cross_entropy(logits, target)
    else:
        out = model(images, target)
        if isinstance(out, dict):
            loss = sum(out.values())
        else:
            loss = out[0] if isinstance(out, (tuple, list)) else out
    loss.sum().backward()
    optimizer.step()


def _sync(device: Any) -> None:
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        torch.cuda.synchronize()


def measure_cost(
    model_name: str,
    task: Task | str,
    size: int,
    *,
    batch_size: int,
    device: str = "cpu",
    num_classes: int = 4,
    steps: int = PROBE_STEPS,
    precision: str = "auto",
    give_up_above: float | None = None,
) -> Cost:
    """Time a few training steps and one evaluation batch of ``model_name`` at ``size``.

    Args:
        model_name: A registered model name (or timm name for classification).
        task: The task.
        size: Input size: the crop size (classification) or ``min_size`` (detection).
        batch_size: Images per training step (the probe uses at most 16 for classifiers, 8
            for ``yolov5`` and 2 for the other detectors, so it stays short).
        device: ``"cpu"`` or ``"cuda"``.
        num_classes: Classes of the head.
        steps: Timed training steps after one warm-up step.
        precision: ``advanced_settings.precision``: the probe runs under the same autocast
            as the trial will (bf16 halves the cost on CPUs that compute it natively).
        give_up_above: Seconds per training image above which the model cannot be planned:
            when the warm-up step alone shows it costs more, the probe stops there.

    Returns:
        The :class:`Cost` (seconds per image); after giving up, a lower bound with
        ``measured=False``.
    """
    import torch

    from automl_nb.models import create_model
    from automl_nb.models import get_model_cfg

    task = as_task(task)
    torch_device = torch.device(device)
    cfg = get_model_cfg(model_name, task)
    kwargs: dict[str, Any] = {}
    if cfg.family == "yolo":
        kwargs = {"img_size": size, "model_size": "small"}
    elif task.is_detection:
        kwargs = {"min_size": size, "max_size": int(size * 1333 / 800)}
    elif cfg.fixed_input_size and cfg.input_size and size != cfg.input_size[-1]:
        kwargs = {"img_size": size}
    model = create_model(
        model_name, task=task, num_classes=num_classes, pretrained=False, **kwargs
    ).to(torch_device)
    # yolov5 trains at batch 16 and costs far less per image in batches of 8 than of 2.
    cap = 16 if task.is_classification else 8 if cfg.family == "yolo" else 2
    batch = max(2, min(int(batch_size), cap))
    images, target = _random_batch(task, batch, size, num_classes, torch_device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9)
    dtype = autocast_dtype(precision, torch_device, task=task, family=cfg.family)
    model.train()
    with autocast(torch_device, dtype):
        start = time.perf_counter()
        _train_step(model, task, images, target, optimizer)  # warm-up, not timed
        _sync(torch_device)
        warm_up = time.perf_counter() - start
        at_least = warm_up / WARM_UP_OVER_STEP / batch
        if give_up_above is not None and at_least > give_up_above:
            return Cost(train=at_least, eval=at_least / 3, measured=False)
        if warm_up > SLOW_STEP_SECONDS:
            steps = 1  # a step this slow is measured well enough once (and costs the budget)
        train = _median_time(
            lambda: _train_step(model, task, images, target, optimizer), torch_device, steps
        )
        model.eval()
        with torch.no_grad():
            model(images)
            evaluate = _median_time(lambda: model(images), torch_device, min(steps, 2))
    return Cost(train=train / batch, eval=evaluate / batch)


def _median_time(step: Any, device: Any, steps: int) -> float:
    """Median seconds of ``step``: at least ``steps`` runs and ``PROBE_SECONDS`` of them.

    The median, not the mean, so that a moment of contention from other processes on a
    shared machine does not decide the plan.
    """
    times: list[float] = []
    while len(times) < steps or (sum(times) < PROBE_SECONDS and len(times) < MAX_PROBE_STEPS):
        start = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class CostProbe:
    """Measures (or reads from the workspace cache) the cost of models at input sizes.

    Args:
        machine: The machine (its fingerprint keys the cache).
        task: The task of the job.
        num_classes: Classes of the job (the head's size barely matters, but is used).
        cache_dir: The workspace; the cache is ``<cache_dir>/.cache/cost_probe.json``.
            ``None``: no cache.
        measure: The measuring function (default :func:`measure_cost`).
        precision: The job's ``advanced_settings.precision``, probed as the trials train.
    """

    def __init__(
        self,
        machine: Machine,
        task: Task | str,
        *,
        num_classes: int,
        cache_dir: str | os.PathLike[str] | None = None,
        measure: Any = None,
        precision: str = "auto",
    ) -> None:
        self.machine = machine
        self.precision = precision
        self.task = as_task(task)
        self.num_classes = max(1, int(num_classes))
        self.cache_path = Path(cache_dir) / CACHE_FILE if cache_dir is not None else None
        self.measure = measure or measure_cost
        self.measured: list[str] = []  # keys probed in this call (not cached before)
        self.cached: list[str] = []
        self.gave_up: dict[str, Cost] = {}  # lower bounds of models too slow to plan
        self.seconds = 0.0
        self._cache = self._read_cache()

    def _key(self, model: str, size: int, batch: int) -> str:
        import torch

        kind = "cls" if self.task.is_classification else self.task.value
        device = self.machine.device
        if device == "cpu":
            device = f"cpu{torch.get_num_threads()}"  # a trial's thread count changes its cost
        device += f"-{self._precision_of(model)}"
        return f"{self.machine.fingerprint()}|{device}|{kind}|{model}|{size}|{batch}"

    def _precision_of(self, model: str) -> str:
        """The dtype ``model`` trains in here (``auto`` depends on the model's family)."""
        from automl_nb.models import get_model_cfg

        family = get_model_cfg(model, self.task).family
        dtype = autocast_dtype(self.precision, self.machine.device, task=self.task, family=family)
        return precision_name(dtype)

    def _read_cache(self) -> dict[str, Any]:
        if self.cache_path is None or not self.cache_path.is_file():
            return {}
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_cache(self) -> None:
        if self.cache_path is None:
            return
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.cache_path)

    def known(self, model: str, size: int, batch: int) -> bool:
        """Whether the cost of ``model`` at ``size`` is measured or cached (and still valid)."""
        return _valid(self._cache.get(self._key(model, size, min(batch, 16))))

    def known_sizes(self, model: str, batch: int) -> list[int]:
        """The sizes of ``model`` whose cost is known on this machine."""
        prefix = self._key(model, 0, min(batch, 16)).rsplit("|", 2)[0] + "|"
        return sorted(
            int(key[len(prefix) :].split("|")[0])
            for key, entry in self._cache.items()
            if key.startswith(prefix) and _valid(entry)
        )

    def cost(
        self, model: str, size: int, batch: int, *, give_up_above: float | None = None
    ) -> Cost:
        """The cost of ``model`` at ``size`` with ``batch`` images per step (probed once).

        ``give_up_above``: seconds per training image past which the probe stops after its
        warm-up step (see :func:`measure_cost`); such a lower bound is not cached.
        """
        key = self._key(model, size, min(batch, 16))
        if key in self.gave_up:
            return self.gave_up[key]
        entry = self._cache.get(key)
        if entry is not None and _valid(entry):
            if key not in self.cached and key not in self.measured:
                self.cached.append(key)
            return Cost(float(entry["train"]), float(entry["eval"]))
        start = time.perf_counter()
        cost = self.measure(
            model,
            self.task,
            size,
            batch_size=batch,
            device=self.machine.device,
            num_classes=self.num_classes,
            precision=self.precision,
            give_up_above=give_up_above,
        )
        self.seconds += time.perf_counter() - start
        if not cost.measured:
            self.gave_up[key] = cost
            return cost
        self.measured.append(key)
        self._cache[key] = {**asdict(cost), "when": time.time(), "load": _load_per_core()}
        self._write_cache()
        return cost

    def scaled(self, model: str, size: int, base_size: int, batch: int) -> Cost:
        """The cost at ``size`` extrapolated from the probe at ``base_size`` (cost ~ pixels)."""
        base = self.cost(model, base_size, batch)
        if size == base_size:
            return base
        ratio = (size / base_size) ** 2
        return Cost(base.train * ratio, base.eval * ratio, measured=False)

    def estimated(self, model: str, size: int, reference: tuple[str, int], batch: int) -> Cost:
        """The cost of ``model`` from the probe of ``reference`` (model, size), scaled by the
        models' forward GFLOPs (:data:`GFLOPS_224`) and pixels; not measured."""
        ref_model, ref_size = reference
        base = self.cost(ref_model, ref_size, batch)
        ratio = (GFLOPS_224[model] / GFLOPS_224[ref_model]) * (size / ref_size) ** 2
        return Cost(base.train * ratio, base.eval * ratio, measured=False)


# A cached cost is reused for a day, while the machine is about as busy as when it was taken.
CACHE_SECONDS = 24 * 3600
LOAD_TOLERANCE = 2.0


def _load_per_core() -> float:
    """The 1-minute load average per CPU core (0 where the platform has none)."""
    try:
        return os.getloadavg()[0] / max(1, os.cpu_count() or 1)
    except OSError:
        return 0.0


def _valid(entry: Any) -> bool:
    """A cache entry that is complete, recent, and taken under a similar machine load."""
    if not isinstance(entry, dict) or "train" not in entry or "eval" not in entry:
        return False
    if time.time() - float(entry.get("when", 0)) > CACHE_SECONDS:
        return False
    then, now = float(entry.get("load", 0)) + 0.5, _load_per_core() + 0.5
    return max(then, now) / min(then, now) <= LOAD_TOLERANCE


# Forward GFLOPs per image at 224 px (timm / torchvision model cards): estimates the models too
# slow to probe on this machine (a ViT-B on a CPU) from one that was probed.
GFLOPS_224: dict[str, float] = {
    "mobilenetv2": 0.3,
    "resnet18": 1.8,
    "resnet34": 3.7,
    "resnet50": 4.1,
    "resnet101": 7.8,
    "resnet152": 11.5,
    "seresnext": 4.3,
    "resnest50": 5.4,
    "resnest101": 10.2,
    "vits16r224": 4.6,
    "vitb16r224": 17.6,
    "vitl16r224": 61.6,
}
