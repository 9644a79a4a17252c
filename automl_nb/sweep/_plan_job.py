"""Plan an AutoMode job from its spec: read the data (dataset doctor), the machine, whether
pretrained weights can be had, probe the costs, and call the planner."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from automl_nb.sweep._plan_object import Plan
from automl_nb.sweep._planner import Budget
from automl_nb.sweep._planner import DataProfile
from automl_nb.sweep._planner import plan_automode
from automl_nb.sweep._planner import portfolio
from automl_nb.sweep._probe import GFLOPS_224
from automl_nb.sweep._probe import CostProbe
from automl_nb.sweep._probe import Machine
from automl_nb.sweep._probe import detect_machine
from automl_nb.tasks import as_task

log = logging.getLogger("automl_nb.sweep")

# The doctor opens every image up to this many; larger sets are profiled from a sample.
DOCTOR_SAMPLE = 2000
NO_PRETRAINED = '{"use_pretrained": false}'
# A model whose estimated training step takes longer is estimated from GFLOPs, not probed.
MAX_PROBE_STEP_SECONDS = 3.0
# The probe measures until it has spent this share of the job's budget (at most
# MAX_PROBE_SECONDS); later models are estimated from GFLOPs. Its results are cached.
PROBE_SHARE = 0.05
MAX_PROBE_SECONDS = 60.0


def is_automode(spec: Any) -> bool:
    """True when the job is AutoMode: ``max_trials > 1`` and no ``search_space``."""
    limits = getattr(spec, "limits", None)
    max_trials = int(getattr(limits, "max_trials", 1) or 1)
    return max_trials > 1 and not getattr(spec, "search_space", None)


def profile_data(spec: Any) -> DataProfile:
    """The :class:`DataProfile` of a job's training and validation data (dataset doctor)."""
    import dataclasses

    from automl_nb.data import load_job_data
    from automl_nb.data.doctor import diagnose

    train, valid = load_job_data(spec)
    sample = train
    if len(train) > DOCTOR_SAMPLE:
        step = len(train) / DOCTOR_SAMPLE
        records = [train.records[int(i * step)] for i in range(DOCTOR_SAMPLE)]
        sample = dataclasses.replace(train, records=records)
    report = diagnose(sample, check_files=True)
    sides = None
    sizes = report.image_sizes
    if sizes:
        sides = min(sizes["width"]["median"], sizes["height"]["median"])
    counts = [n for n in report.class_counts.values() if n > 0]
    imbalance = max(counts) / min(counts) if counts else 1.0
    objects = report.object_sizes or {}
    total = sum(objects.values())
    small = sum(objects.get(k, 0) for k in ("<8", "8-16", "16-32")) / total if total else 0.0
    return DataProfile(
        train_images=len(train),
        valid_images=len(valid),
        classes=len(train.labels),
        short_side=float(sides) if sides else None,
        imbalance=round(imbalance, 2),
        small_objects=round(small, 3),
    )


def _weights_cached(model: str, task: Any) -> bool:
    from automl_nb.models import get_model_cfg
    from automl_nb.models._weights import hf_cache_dir
    from automl_nb.models._weights import torch_hub_file

    source = get_model_cfg(model, task).weights_source or ""
    if source.startswith("hf-hub:"):
        return hf_cache_dir(source.removeprefix("hf-hub:")).is_dir()
    if source.startswith("http"):
        return torch_hub_file(source).is_file()
    return False


def pretrained_available(spec: Any, machine: Machine) -> tuple[bool, str]:
    """Whether trials can start from pretrained weights, and why not when they cannot."""
    from automl_nb.config._trial import resolve_trial_config
    from automl_nb.models._weights import host_reachable
    from automl_nb.models._weights import hub_host
    from automl_nb.models._weights import is_offline

    task = as_task(spec.task)
    cfg = resolve_trial_config(spec, {})
    if not cfg.advanced_settings.use_pretrained:
        return False, "use_pretrained is false: every trial trains from scratch"
    models = [p["model_name"] for p in portfolio(task, machine, _EMPTY, pretrained=True)]
    if is_offline() or not host_reachable(hub_host()):
        if all(_weights_cached(m, task) for m in models[:2]):
            return True, ""
        return False, "pretrained weights cannot be downloaded here: trials train from scratch"
    return True, ""


_EMPTY = DataProfile(train_images=0, valid_images=0, classes=1)


def plan_job(
    spec: Any,
    *,
    workspace: str | os.PathLike[str] | None = None,
    machine: Machine | None = None,
    data: DataProfile | None = None,
    measure: Callable[..., Any] | None = None,
) -> Plan:
    """AutoMode's :class:`Plan` for ``spec`` on this machine.

    Args:
        spec: The :class:`~automl_nb.config.JobSpec` (AutoMode: ``max_trials > 1``, no
            ``search_space``).
        workspace: Where the cost probe's cache lives (``<workspace>/.cache``); ``None``:
            no cache.
        machine: The machine (default: this one).
        data: The data profile (default: read the job's data with the dataset doctor).
        measure: The cost measurement (default: the real probe).

    Returns:
        The plan.
    """
    task = as_task(spec.task)
    machine = machine or detect_machine()
    data = data or profile_data(spec)
    pretrained, why_not = pretrained_available(spec, machine)
    probe = CostProbe(
        machine, task, num_classes=data.classes, cache_dir=workspace, measure=measure
    )
    pool = portfolio(task, machine, data, pretrained=pretrained)
    base: dict[str, int] = {}
    for params in pool:
        size = _size(params)
        base[params["model_name"]] = min(size, base.get(params["model_name"], size))
    probe_batch = 16
    reference = (pool[0]["model_name"], _size(pool[0])) if pool else None

    probe_budget = min(MAX_PROBE_SECONDS, PROBE_SHARE * Budget.from_limits(spec.limits).seconds)

    def cost(model: str, size: int, batch: int) -> Any:
        size_key = base.get(model, size)
        over_time = probe.seconds > probe_budget and not probe.known(model, size_key, probe_batch)
        estimable = reference and model != reference[0] and model in GFLOPS_224
        if estimable and (over_time or _too_slow_to_probe(model, size, reference)):
            return probe.estimated(model, size, reference, probe_batch)
        if model not in base or _fixed_size(model, task):
            return probe.cost(model, size, probe_batch)
        return probe.scaled(model, size, base[model], probe_batch)

    def _too_slow_to_probe(model: str, size: int, ref: tuple[str, int]) -> bool:
        if machine.gpu_count or model not in GFLOPS_224 or ref[0] not in GFLOPS_224:
            return False
        ref_cost = probe.cost(ref[0], ref[1], probe_batch)
        ratio = GFLOPS_224[model] / GFLOPS_224[ref[0]] * (size / ref[1]) ** 2
        return ref_cost.train * ratio * probe_batch > MAX_PROBE_STEP_SECONDS

    plan = plan_automode(
        task,
        Budget.from_limits(spec.limits),
        machine,
        data,
        pretrained=pretrained,
        cost=cost,
    )
    plan.measured = _probe_lines(probe)
    if why_not:
        plan.notes.insert(0, why_not)
    if not pretrained and why_not.startswith("pretrained weights cannot"):
        for c in plan.candidates:
            c.params.setdefault("advanced_settings", NO_PRETRAINED)
    return plan


def _size(params: dict[str, Any]) -> int:
    for key in ("training_crop_size", "image_size", "min_size"):
        if params.get(key):
            return int(params[key])
    return 224


def _fixed_size(model: str, task: Any) -> bool:
    from automl_nb.models import get_model_cfg

    return bool(get_model_cfg(model, task).fixed_input_size)


def _probe_lines(probe: CostProbe) -> list[str]:
    lines = []
    for key in [*probe.measured, *probe.cached]:
        entry = probe._cache.get(key) or {}
        _, device, _, model, size, batch = key.split("|")
        how = "measured now" if key in probe.measured else "cached"
        if key in probe.measured and probe.measured.index(key) == 0 and probe.cached:
            how = "measured now"
        lines.append(
            f"{model} @ {size} px on {device}: {entry.get('train', 0):.4f} s train, "
            f"{entry.get('eval', 0):.4f} s eval ({how}, batch {batch})"
        )
    if probe.measured:
        lines.append(f"probe time: {probe.seconds:.1f} s")
    return lines


def workspace_of(job_dir: str | os.PathLike[str]) -> Path:
    """The workspace of a job folder (``<workspace>/<experiment>/<job id>``)."""
    return Path(job_dir).resolve().parent.parent
