"""The model registry: one entry per user-facing ``model_name``, registered by decorator.

Each entry is a tiny function ``entry(task) -> ModelCfg`` that pins the arguments of one shared
cfg builder per family (timm classifiers, torchvision detectors). ``create_model`` then hands the
cfg to that family's shared model builder. Names that are not registered but are timm model
names resolve to a generic timm classifier entry.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.models._cfg import ModelCfg
from automl_nb.registry import Registry
from automl_nb.registry import suggestions
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

EntryFn = Callable[[Task], ModelCfg]


@dataclass(frozen=True)
class _Entry:
    name: str
    tasks: tuple[Task, ...]
    family: str
    fn: EntryFn
    available: bool = True


# name -> entry, in registration order (Azure's curated names, as Azure lists them).
# Names are matched as given (timm names are case-sensitive too).
_REGISTRY: Registry[_Entry] = Registry(
    "model_name", error=ModelError, normalize=lambda name: str(name).strip()
)


# --- name resolvers: model families outside the registry (Hugging Face hub ids, folders) ---
# A resolver claims names that are neither registered nor timm names; the registry consults
# the resolvers after its own entries. Their modules are imported on first use, so importing
# the registry stays cheap.
_RESOLVER_MODULES: tuple[str, ...] = ("automl_nb.models._hf",)


@dataclass(frozen=True)
class NameResolver:
    """A model family whose names are resolved by rule instead of being registered.

    Attributes:
        family: The ``ModelCfg.family`` its cfgs carry; ``create_model`` calls ``build`` for it.
        claims: ``claims(name)`` is True for the names this family resolves.
        cfg: ``cfg(name, task)`` gives the :class:`ModelCfg` (or raises :class:`ModelError`).
        build: ``build(cfg, num_classes=, pretrained=, checkpoint_path=, **kwargs)``.
    """

    family: str
    claims: Callable[[str], bool]
    cfg: Callable[[str, Task], ModelCfg]
    build: Callable[..., Any]


_RESOLVERS: list[NameResolver] = []


def add_name_resolver(resolver: NameResolver) -> None:
    """Let the registry resolve ``resolver``'s names (consulted after registered names)."""
    if all(r.family != resolver.family for r in _RESOLVERS):
        _RESOLVERS.append(resolver)


def _resolver_for(name: str) -> NameResolver | None:
    for module in _RESOLVER_MODULES:
        importlib.import_module(module)  # registers its resolver on import
    return next((r for r in _RESOLVERS if r.claims(name)), None)


# --- end of name resolvers ------------------------------------------------------------------


def register_model(
    *, tasks: tuple[Task, ...], family: str, available: bool = True
) -> Callable[[EntryFn], EntryFn]:
    """Register ``fn`` under its function name as a model entry.

    Args:
        tasks: The tasks the model can be trained for.
        family: The builder family (``timm``, ``torchvision``, ``yolo``).
        available: False registers a known name that cannot be built yet; ``create_model``
            then raises a :class:`ModelError` that says so.

    Returns:
        A decorator returning ``fn`` unchanged.
    """

    def decorator(fn: EntryFn) -> EntryFn:
        name = fn.__name__
        _REGISTRY.add(name, _Entry(name, tuple(tasks), family, fn, available))
        return fn

    return decorator


def registered_names(*, include_unavailable: bool = True) -> list[str]:
    """Registered (Azure) model names in registration order."""
    return [n for n, e in _REGISTRY.items() if include_unavailable or e.available]


def registered_entry(name: str) -> Any:
    """The registry entry of ``name`` (``.tasks``, ``.family``, ``.available``), or None."""
    return _REGISTRY.get(name) if name in _REGISTRY else None


def _is_timm_name(name: str) -> bool:
    try:
        import timm
    except ImportError:  # pragma: no cover - timm is a dependency
        return False
    try:
        return bool(timm.is_model(name))
    except Exception:  # noqa: BLE001 - odd strings (hf-hub:..., paths) are simply not names
        return False


def is_model(name: str) -> bool:
    """True if ``name`` is a registered model or a timm model name."""
    name = str(name).strip()
    # Name resolvers (Hugging Face hub ids and folders) come after the registry and timm.
    return name in _REGISTRY or _is_timm_name(name) or _resolver_for(name) is not None


def default_model(task: Task | str) -> str:
    """The default ``model_name`` for a task (``vitb16r224``, ``yolov5``, ...), as Azure's."""
    from automl_nb.config._parameters import DEFAULT_MODEL

    return DEFAULT_MODEL[as_task(task)]


def list_models(
    task: Task | str | None = None,
    pattern: str | None = None,
    *,
    include_timm: bool | None = None,
    include_unavailable: bool = False,
) -> list[str]:
    """Model names, Azure's curated names first, then (optionally) every timm classifier.

    Args:
        task: Only models for this task.
        pattern: An ``fnmatch`` pattern (``"*rcnn*"``, ``"resnet*"``).
        include_timm: Append matching timm architecture names (classification only). Defaults
            to True when a ``pattern`` is given and False otherwise, so the plain listing is the
            curated one, as in Azure.
        include_unavailable: Also list names that cannot be built yet.

    Returns:
        Names in order: registered names (registration order), then sorted timm names.

    Example:
        >>> list_models("image_object_detection", "*rcnn_resnet50*")
        ['fasterrcnn_resnet50_fpn']
    """
    want = as_task(task) if task is not None else None
    names = [
        e.name
        for _, e in _REGISTRY.items()
        if (want is None or want in e.tasks)
        and (include_unavailable or e.available)
        and (pattern is None or fnmatch.fnmatchcase(e.name, pattern))
    ]
    if include_timm is None:
        include_timm = pattern is not None
    if include_timm and (want is None or want.is_classification):
        import timm

        seen = set(names)
        names += [n for n in timm.list_models(pattern or "*") if n not in seen]
    return names


def _close_matches(name: str, task: Task | None) -> list[str]:
    pool = [e.name for _, e in _REGISTRY.items() if task is None or task in e.tasks]
    matches = suggestions(name, pool, n=5, cutoff=0.5)
    if task is None or task.is_classification:
        try:
            import timm

            extra = suggestions(name, timm.list_models(), n=5, cutoff=0.6)
        except ImportError:  # pragma: no cover - timm is a dependency
            extra = []
        matches += [m for m in extra if m not in matches]
    return matches[:6]


def unknown_model_error(name: str, task: Task | None = None) -> ModelError:
    """A :class:`ModelError` for an unknown name that lists the nearest valid names."""
    matches = _close_matches(name, task)
    text = f"unknown model_name {name!r}"
    if task is not None:
        text += f" for {task.value}"
    if matches:
        text += "; did you mean " + ", ".join(repr(m) for m in matches) + "?"
    else:
        text += "; see `automl-vision models` for the list"
    return ModelError(text)


def get_model_cfg(name: str, task: Task | str) -> ModelCfg:
    """The :class:`ModelCfg` of ``name`` with its defaults resolved for ``task``.

    Any timm model name works for the classification tasks; its input size and normalisation
    are read from timm's ``pretrained_cfg``.

    Args:
        name: A registered name (``seresnext``) or a timm model name (``convnext_tiny``).
        task: The task to resolve the defaults for.

    Returns:
        The frozen cfg.

    Raises:
        ModelError: For an unknown name (listing the nearest names) or a model that does not
            do ``task``.
    """
    name = str(name).strip()
    task = as_task(task)
    entry = registered_entry(name)
    if entry is not None:
        if task not in entry.tasks:
            others = ", ".join(repr(n) for n in list_models(task)[:8])
            raise ModelError(
                f"model_name {name!r} is for {', '.join(t.value for t in entry.tasks)}, "
                f"not {task.value}; models for {task.value}: {others}"
            )
        return entry.fn(task)
    if task.is_classification and _is_timm_name(name):
        from automl_nb.models._timm import generic_timm_cfg

        return generic_timm_cfg(name, task)
    # Name resolvers (Hugging Face hub ids and folders) come after the registry and timm.
    resolver = _resolver_for(name)
    if resolver is not None:
        return resolver.cfg(name, task)
    if _is_timm_name(name):
        raise ModelError(
            f"model_name {name!r} is a timm classifier; {task.value} needs one of: "
            + ", ".join(repr(n) for n in list_models(task))
        )
    raise unknown_model_error(name, task)


def get_model_defaults(name: str, task: Task | str) -> dict[str, Any]:
    """Per-model hyperparameter defaults (v2 names) of ``name`` for ``task``.

    Example:
        >>> get_model_defaults("vitb16r224", "image_classification")["training_batch_size"]
        48
    """
    return dict(get_model_cfg(name, task).defaults)


def create_model(
    name: str,
    *,
    task: Task | str,
    num_classes: int,
    pretrained: bool = True,
    checkpoint_path: str | None = None,
    **kwargs: Any,
) -> Any:
    """Build the model ``name`` for ``task`` with ``num_classes`` real classes.

    Classification gives a timm model returning logits ``[N, num_classes]``. Detection and
    instance segmentation give a torchvision detector: in train mode ``model(images, targets)``
    returns a loss dict, in eval mode a list of ``{boxes, labels, scores[, masks]}``. Detector
    label ids are ``1..num_classes`` (class ``i`` of the label list is id ``i + 1``); id 0 is
    background and never predicted, for RetinaNet too.

    Args:
        name: A registered name or, for classification, any timm model name.
        task: The task.
        num_classes: Number of real classes (no background).
        pretrained: Load pretrained weights (timm / torchvision caches, downloaded if
            possible). When they cannot be had a :class:`ModelError` says so; pass False (job
            setting ``advanced_settings: '{"use_pretrained": false}'``) to train from scratch.
        checkpoint_path: A local weights file for this architecture (a timm / torchvision
            state dict) used instead of downloading; heads whose shape differs from
            ``num_classes`` are re-initialised.
        **kwargs: Passed to the builder. Classifiers: any timm ``create_model`` keyword
            (``img_size``, ``drop_rate``, ``pretrained_cfg_overlay=dict(file=...)``).
            Detectors: ``min_size``, ``max_size``, ``box_score_thresh``, ``nms_iou_thresh``,
            ``box_detections_per_img`` (v2 spellings ``box_score_threshold``,
            ``nms_iou_threshold``, ``box_detections_per_image`` work too),
            ``trainable_backbone_layers``. ``yolov5``: ``img_size`` (``image_size``),
            ``model_size``, ``multi_scale`` and the three thresholds. ``None`` values are
            dropped, so "not set" keeps the model's default.

    Returns:
        A ``torch.nn.Module``.

    Raises:
        ModelError: Unknown name, a model that is not available yet, or weights that cannot
            be had.
    """
    cfg = get_model_cfg(name, task)
    if num_classes < 1:
        raise ModelError(f"num_classes must be >= 1 (got {num_classes})")
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if not cfg.available:
        raise ModelError(
            f"model_name {cfg.name!r} is not available yet in automl-nb; use "
            f"'{default_model(cfg.task)}' (the default for {cfg.task.value} until it is)"
        )
    return _family_builder(cfg.family)(
        cfg,
        num_classes=num_classes,
        pretrained=pretrained,
        checkpoint_path=checkpoint_path,
        **kwargs,
    )


# Model family -> "module:function" of its builder, imported on first use (torch, timm, ...).
_BUILDERS: dict[str, str] = {
    "timm": "automl_nb.models._timm:build_timm_model",
    "torchvision": "automl_nb.models._torchvision:build_detector",
    "yolo": "automl_nb.models.yolo:build_yolov5",
}


def _family_builder(family: str) -> Callable[..., Any]:
    """The builder of a model family (the name resolvers' families build their own models)."""
    import importlib

    if family in _BUILDERS:
        module, _, function = _BUILDERS[family].partition(":")
        return getattr(importlib.import_module(module), function)
    for resolver in _RESOLVERS:
        if resolver.family == family:
            return resolver.build
    raise ModelError(f"no builder for model family {family!r}")  # pragma: no cover
