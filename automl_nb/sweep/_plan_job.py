"""Plan an AutoMode job from its spec: read the data (dataset doctor), the machine, whether
pretrained weights can be had, probe the costs, and call the planner."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from automl_nb.sweep._budget import Budget
from automl_nb.sweep._budget import DataProfile
from automl_nb.sweep._limits import DEFAULT_TIMEOUT_MINUTES
from automl_nb.sweep._plan_object import Plan
from automl_nb.sweep._plan_object import duration
from automl_nb.sweep._planner import EPOCHS_FROM_SCRATCH
from automl_nb.sweep._planner import EPOCHS_PRETRAINED
from automl_nb.sweep._planner import plan_automode
from automl_nb.sweep._portfolio import portfolio
from automl_nb.sweep._probe import GFLOPS_224
from automl_nb.sweep._probe import Cost
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
# The probe measures until it has spent this share of the job's budget (20 to 60 s); later
# models are scaled or estimated from GFLOPs. Its results are cached. The job's clock starts
# before planning, so the sweep is planned for what the planning left of the budget.
PROBE_SHARE = 0.1
MIN_PROBE_SECONDS = 20.0
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
    started: float | None = None,
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
        started: When the job's clock started (``time.time()``; default: now). The time
            since then (the data checks before planning) counts as planning time.

    Returns:
        The plan.
    """
    from automl_nb.config._trial import resolve_trial_config

    already = max(0.0, time.time() - started) if started is not None else 0.0
    planning_started = time.monotonic() - already
    task = as_task(spec.task)
    machine = machine or detect_machine()
    data = data or profile_data(spec)
    pretrained, why_not = pretrained_available(spec, machine)
    probe = CostProbe(
        machine,
        task,
        num_classes=data.classes,
        cache_dir=workspace,
        measure=measure,
        precision=resolve_trial_config(spec, {}).advanced_settings.precision,
    )
    budget = Budget.from_limits(spec.limits)
    unbounded = budget.seconds >= DEFAULT_TIMEOUT_MINUTES * 60
    cost = _cost_function(probe, task, machine, budget, data, pretrained)
    if unbounded:
        cost = _no_probe  # nothing to fit: every candidate runs its epochs
    pool = portfolio(task, machine, data, pretrained=pretrained)
    threads, thread_note = None, ""
    if pool and not machine.gpu_count and machine.cpu_cores > 1 and not unbounded:
        threads, thread_note = _fastest_threads(probe, pool[0], machine.cpu_cores)
        probe.seconds = 0.0  # the thread test does not use up the models' probe time
    with _torch_threads(threads):
        if pool:
            # The preferred candidate is probed first: it is the reference the models too
            # slow to probe here (the default ViT on a CPU) are estimated from.
            first = pool[0]
            cost(first["model_name"], _size(first), int(first["training_batch_size"]))
        plan = plan_automode(task, budget, machine, data, pretrained=pretrained, cost=cost)
        spent = time.monotonic() - planning_started
        if not unbounded and spent >= 1.0:
            # Planned again from the measured (now cached) costs, for the budget that is left.
            left = dataclasses.replace(budget, seconds=max(1.0, budget.seconds - spent))
            plan = plan_automode(task, left, machine, data, pretrained=pretrained, cost=cost)
            plan.budget_seconds = budget.seconds  # the user's, as they set it
            plan.notes.append(
                f"planning (data checks, profile and cost probe) took {spent:.0f} s of the budget; "
                f"the sweep is planned for the {duration(left.seconds)} left"
            )
    plan.threads = threads
    if thread_note:
        plan.notes.append(thread_note)
    plan.measured = _probe_lines(probe)
    if unbounded:
        plan.notes.append("no timeout_minutes: nothing to fit, so no cost probe")
    _keep_user_settings(spec, plan)
    if why_not:
        plan.notes.insert(0, why_not)
    if not pretrained and why_not.startswith("pretrained weights cannot"):
        for c in plan.candidates:
            c.params.setdefault("advanced_settings", NO_PRETRAINED)
    return plan


def _no_probe(model: str, size: int, batch: int) -> Cost:
    return Cost(0.0, 0.0, measured=False)


def _keep_user_settings(spec: Any, plan: Plan) -> None:
    """Settings the job's ``training_parameters`` give (other than the model) are the user's:
    the planned trials keep them instead of the plan's values."""
    import dataclasses

    params = spec.training_parameters
    if params is None:
        return
    given = {
        f.name
        for f in dataclasses.fields(params)
        if getattr(params, f.name) is not None and f.name not in ("model_name", "random_seed")
    }
    given.discard("advanced_settings")
    if not given:
        return
    for c in plan.candidates:
        if c.role != "portfolio":
            continue
        for key in given:
            c.params.pop(key, None)
        if "number_of_epochs" in given:
            c.epochs = int(params.number_of_epochs)
    if "number_of_epochs" in given:
        plan.epochs = int(params.number_of_epochs)
    plan.notes.append(f"the job's own {', '.join(sorted(given))} apply to every trial")


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Probe with the thread count the trials will use."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fastest_threads(probe: CostProbe, params: dict[str, Any], cores: int) -> tuple[int, str]:
    """Probe the first candidate with every core and with one thread; a busy machine (other
    processes on the cores) often trains several times faster with one thread per trial."""
    model, size = params["model_name"], _size(params)
    costs = {}
    for threads in (cores, 1):
        with _torch_threads(threads):
            costs[threads] = probe.cost(model, size, 16).train
    best = min(costs, key=lambda t: costs[t])
    note = (
        f"{best} CPU thread(s) per trial: {model} at {size} px trains at "
        f"{costs[best]:.4f} s/image with {best}, {costs[cores if best == 1 else 1]:.4f} s with "
        f"{cores if best == 1 else 1}"
    )
    return best, note


def _cost_function(
    probe: CostProbe,
    task: Any,
    machine: Machine,
    budget: Budget,
    data: DataProfile,
    pretrained: bool,
) -> Callable[[str, int, int], Any]:
    """``cost(model, size, batch)`` for the planner: measured while the probe's time lasts
    (and a training step is short enough), else scaled from a known size of the same model,
    else estimated from GFLOPs and a model that was measured. A model whose warm-up step
    shows it cannot train its minimum epochs in the budget is not measured further."""
    budget_seconds = budget.seconds
    probe_budget = min(MAX_PROBE_SECONDS, max(MIN_PROBE_SECONDS, PROBE_SHARE * budget_seconds))
    min_epochs = (EPOCHS_PRETRAINED if pretrained else EPOCHS_FROM_SCRATCH)[0]
    trial_seconds = min(budget_seconds, budget.trial_seconds)
    give_up_above = trial_seconds / (max(1, data.train_images) * min_epochs)
    batch = 16
    reference: list[tuple[str, int]] = []

    def too_slow(model: str, size: int) -> bool:
        if machine.gpu_count or not reference or model not in GFLOPS_224:
            return False
        ref_model, ref_size = reference[0]
        if ref_model not in GFLOPS_224:
            return False
        ratio = GFLOPS_224[model] / GFLOPS_224[ref_model] * (size / ref_size) ** 2
        return (
            probe.cost(ref_model, ref_size, batch).train * ratio * batch > MAX_PROBE_STEP_SECONDS
        )

    def cost(model: str, size: int, _batch: int) -> Any:
        known = probe.known(model, size, batch)
        if known or (probe.seconds <= probe_budget and not too_slow(model, size)):
            result = probe.cost(model, size, batch, give_up_above=give_up_above)
            if not reference and result.measured:
                reference.append((model, size))
            return result
        sizes = [] if _fixed_size(model, task) else probe.known_sizes(model, batch)
        if sizes:
            nearest = min(sizes, key=lambda s: abs(s - size))
            return probe.scaled(model, size, nearest, batch)
        if reference and model in GFLOPS_224 and reference[0][0] in GFLOPS_224:
            return probe.estimated(model, size, reference[0], batch)
        return probe.cost(model, size, batch, give_up_above=give_up_above)

    return cost


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
        if device.startswith("cpu") and device[3:].isdigit():
            device = f"cpu, {device[3:]} thread(s)"
        lines.append(
            f"{model} @ {size} px on {device}: {entry.get('train', 0):.4f} s train, "
            f"{entry.get('eval', 0):.4f} s eval ({how}, batch {batch})"
        )
    for key, cost in probe.gave_up.items():
        _, device, _, model, size, batch = key.split("|")
        lines.append(
            f"{model} @ {size} px on {device}: > {cost.train:.4f} s train (one warm-up step: "
            "too slow for its minimum epochs in the budget)"
        )
    if probe.measured or probe.gave_up:
        lines.append(f"probe time: {probe.seconds:.1f} s")
    return lines


def workspace_of(job_dir: str | os.PathLike[str]) -> Path:
    """The workspace of a job folder (``<workspace>/<experiment>/<job id>``)."""
    return Path(job_dir).resolve().parent.parent
