"""Raw job data (YAML, mappings, SDK objects) -> typed :class:`JobSpec` field values.

Every problem is collected with its location; nothing stops at the first one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from automl_nb.config._distributions import Distribution
from automl_nb.config._fields import Invalid
from automl_nb.config._fields import integer
from automl_nb.config._fields import one_of
from automl_nb.config._fields import real
from automl_nb.config._fields import to_text
from automl_nb.config._job import _LIMIT_RANGES
from automl_nb.config._job import DATA_MODES
from automl_nb.config._job import DATA_TYPES
from automl_nb.config._job import DataInput
from automl_nb.config._job import Limits
from automl_nb.config._names import JOB_ALIASES
from automl_nb.config._names import LIMIT_ALIASES
from automl_nb.config._names import SWEEP_ALIASES
from automl_nb.config._names import TRAINING_ALIASES
from automl_nb.config._names import suggest
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.config._parameters import TrainingParameters
from automl_nb.config._report import Reporter
from automl_nb.config._search_space import check_for_field
from automl_nb.config._search_space import to_distribution_or_value
from automl_nb.config._sweep_settings import SAMPLING_ALGORITHMS
from automl_nb.config._sweep_settings import SweepSettings
from automl_nb.config._sweep_settings import parse_policy
from automl_nb.config._yaml import Path
from automl_nb.errors import ConfigError
from automl_nb.tasks import TASK_NAMES
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

JOB_KEYS = (
    "$schema",
    "type",
    "name",
    "display_name",
    "experiment_name",
    "description",
    "tags",
    "compute",
    "task",
    "log_verbosity",
    "primary_metric",
    "target_column_name",
    "training_data",
    "validation_data",
    "validation_data_size",
    "limits",
    "training_parameters",
    "search_space",
    "sweep",
    "properties",
    "outputs",
)
"""Every top-level key of a job YAML (v2 names)."""

LOG_LEVELS = ("not_set", "debug", "info", "warning", "error", "critical")
SWEEP_KEYS = ("sampling_algorithm", "early_termination", "limits")
OUTPUT_KEYS = ("best_model",)
_FAILED = object()

Items = dict[str, tuple[Any, Path]]


def canonical_items(
    mapping: Mapping[Any, Any],
    path: Path,
    known: Any,
    aliases: Mapping[str, str],
    rep: Reporter,
    unknown: str = "unknown key",
) -> Items:
    """Map each key to its v2 name; report unknown keys (with a suggestion) and duplicates."""
    out: Items = {}
    origin: dict[str, str] = {}
    for key, value in mapping.items():
        name = str(key)
        canon = aliases.get(name, name)
        if canon not in known:
            rep.error(
                (*path, key),
                unknown,
                suggestion=suggest(name, [*known, *aliases]),
                at_key=True,
            )
            continue
        if canon in out:
            rep.error((*path, key), f"given twice, as {origin[canon]!r} and {name!r}", at_key=True)
            continue
        origin[canon] = name
        out[canon] = (value, (*path, key))
    return out


def _parse(item: tuple[Any, Path], parse: Any, rep: Reporter) -> Any:
    value, path = item
    try:
        return parse(value)
    except Invalid as exc:
        rep.error(path, str(exc), value=value, suggestion=exc.suggestion)
        return _FAILED


def _relocate(exc: ConfigError, path: Path, rep: Reporter) -> None:
    for problem in exc.problems:
        rel: Path = ()
        if problem.path:
            for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", problem.path):
                rel = (*rel, int(index)) if index else (*rel, name)
        rep.errors.append(
            rep.problem(
                (*path, *rel),
                problem.message,
                suggestion=problem.suggestion,
                at_key=bool(rel) and "unknown key" in problem.message,
            )
        )
        if problem.value is not None:
            from dataclasses import replace

            rep.errors[-1] = replace(rep.errors[-1], value=problem.value)


def _mapping(value: Any, path: Path, rep: Reporter, what: str) -> Mapping | None:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    rep.error(path, f"{what} must be a mapping", value=value)
    return None


def validate_job(data: Any, rep: Reporter) -> dict[str, Any] | None:
    """Check a whole job and return :class:`JobSpec` field values (None where missing).

    Problems go to ``rep.errors`` (invalid) and ``rep.missing`` (required and not given).
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        rep.error((), "a job must be a mapping of keys", value=data)
        return None
    items = canonical_items(data, (), JOB_KEYS, JOB_ALIASES, rep, "unknown job key")
    v: dict[str, Any] = {}

    task = _task(items, rep)
    v["task"] = task
    if "type" in items and str(items["type"][0]).strip().lower() != "automl":
        rep.error(items["type"][1], "must be 'automl'", value=items["type"][0])
    if "primary_metric" in items:
        _primary_metric(items["primary_metric"], task, rep)
    if "$schema" in items:
        v["schema"] = _text(items["$schema"], rep)
    for key in ("name", "display_name", "experiment_name", "description", "compute"):
        if key in items and items[key][0] is not None:
            v[key] = _text(items[key], rep)
    if "log_verbosity" in items:
        level = _parse(items["log_verbosity"], one_of(*LOG_LEVELS), rep)
        v["log_verbosity"] = None if level is _FAILED else level
    if "tags" in items:
        v["tags"] = _tags(items["tags"], rep)

    if "target_column_name" in items:
        column, column_path = items["target_column_name"]
        if isinstance(column, str):
            v["target_column_name"] = _text(items["target_column_name"], rep)
        else:
            rep.error(column_path, "must be the name of the label column (a string)", value=column)
    else:
        rep.lack(("target_column_name",), "target_column_name is required (usually 'label')")
    if "training_data" in items:
        v["training_data"] = _data_input(items["training_data"], rep)
    else:
        rep.lack(("training_data",), "training_data is required ({path: ..., type: mltable})")
    if "validation_data" in items and items["validation_data"][0] is not None:
        v["validation_data"] = _data_input(items["validation_data"], rep)
    if "validation_data_size" in items:
        size = _parse(items["validation_data_size"], _SPLIT, rep)
        v["validation_data_size"] = None if size is _FAILED else size

    sweep, sweep_limits = None, None
    if "sweep" in items:
        sweep, sweep_limits = _sweep(items["sweep"], rep)
    v["sweep"] = sweep
    v["limits"] = _limits(items.get("limits"), sweep_limits, rep)
    params, split = _training(items.get("training_parameters"), task, rep)
    v["training_parameters"] = params
    if split is not None:
        if "validation_data_size" in items:
            rep.error(split[1], "given twice, here and as validation_data_size", at_key=True)
        else:
            size = _parse(split, _SPLIT, rep)
            v["validation_data_size"] = None if size is _FAILED else size
    if "search_space" in items:
        v["search_space"] = _search_space(items["search_space"], task, rep)
        if v["search_space"] and sweep is None:
            rep.lack(("sweep",), "sweep.sampling_algorithm is required with a search_space")
        if sweep is not None and sweep.sampling_algorithm == "grid":
            _grid_only_choice(v["search_space"], items["search_space"][1], rep)
    if "properties" in items:
        v["properties"] = _properties(items["properties"], rep)
    if "outputs" in items:
        v["outputs"] = _outputs(items["outputs"], rep)
    return {k: val for k, val in v.items() if val is not None or k == "task"}


_SPLIT = real(0.0, 1.0, low_open=True, high_open=True)


def _text(item: tuple[Any, Path], rep: Reporter) -> str | None:
    value = _parse(item, to_text, rep)
    return None if value is _FAILED else value


def _task(items: Items, rep: Reporter) -> Task | None:
    if "task" not in items:
        rep.lack(("task",), f"task is required (one of: {', '.join(TASK_NAMES)})")
        return None
    value, path = items["task"]
    try:
        return as_task(value)
    except ValueError:
        rep.error(
            path,
            f"unknown task; expected one of: {', '.join(TASK_NAMES)}",
            value=value,
            suggestion=suggest(str(value), TASK_NAMES),
        )
        return None


def _primary_metric(item: tuple[Any, Path], task: Task | None, rep: Reporter) -> None:
    value, path = item
    if value is None:
        return
    # The SDK's enum spellings ("MeanAveragePrecision", "IOU") name the same metrics.
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(value).strip()).lower()
    known = sorted(set(Task(t).primary_metric for t in TASK_NAMES))
    if name not in known:
        rep.error(path, "unknown primary_metric", value=value, suggestion=suggest(name, known))
    elif task is not None and name != task.primary_metric:
        rep.error(
            path,
            f"{task.value} is always scored by {task.primary_metric!r}",
            value=value,
        )


def _tags(item: tuple[Any, Path], rep: Reporter) -> dict[str, str]:
    value, path = item
    mapping = _mapping(value, path, rep, "tags")
    out = {}
    for key, tag in (mapping or {}).items():
        if isinstance(tag, (Mapping, list)):
            rep.error((*path, key), "a tag value must be a string", value=tag)
        else:
            out[str(key)] = "" if tag is None else str(tag)
    return out


def _data_input(item: tuple[Any, Path], rep: Reporter) -> DataInput | None:
    value, path = item
    if isinstance(value, DataInput):
        value = value.to_dict()
    if isinstance(value, str):
        kind = "jsonl" if value.lower().endswith(".jsonl") else "mltable"
        value = {"path": value, "type": kind}
    mapping = _mapping(value, path, rep, "a data input")
    if mapping is None:
        return None
    items = canonical_items(mapping, path, ("path", "type", "mode"), {}, rep)
    if "path" not in items:
        rep.error(path, "'path' is required")
        return None
    data_path = _text(items["path"], rep)
    kind = _parse(items["type"], one_of(*DATA_TYPES), rep) if "type" in items else "mltable"
    mode = None
    if "mode" in items and items["mode"][0] is not None:
        mode = _parse(items["mode"], one_of(*DATA_MODES), rep)
    if data_path is None or kind is _FAILED or mode is _FAILED:
        return None
    return DataInput(path=data_path, type=kind, mode=mode)


def _limits(item: tuple[Any, Path] | None, sweep_limits: Items | None, rep: Reporter) -> Limits:
    items: Items = {}
    if item is not None:
        mapping = _mapping(item[0], item[1], rep, "limits")
        if mapping is not None:
            items = canonical_items(mapping, item[1], _LIMIT_RANGES, LIMIT_ALIASES, rep)
    for key, (value, path) in (sweep_limits or {}).items():
        if key in items and items[key][0] != value:
            rep.error(path, f"differs from limits.{key}", value=value)
        items.setdefault(key, (value, path))
    kwargs = {}
    for key, (value, path) in items.items():
        if key == "timeout_minutes" and path[-1] == "experiment_timeout_hours":
            try:
                value = round(real(0.0, low_open=True)(value) * 60)
            except Invalid as exc:
                rep.error(path, str(exc), value=value)
                continue
        parsed = _parse((value, path), _LIMIT_RANGES[key], rep)
        if parsed is not _FAILED:
            kwargs[key] = parsed
    return Limits(**kwargs)


def _training(
    item: tuple[Any, Path] | None, task: Task | None, rep: Reporter
) -> tuple[TrainingParameters, tuple[Any, Path] | None]:
    if item is None or item[0] is None:
        return TrainingParameters(), None
    mapping = _mapping(item[0], item[1], rep, "training_parameters")
    if mapping is None:
        return TrainingParameters(), None
    known = [*TRAINING_FIELDS, "validation_data_size"]
    items = canonical_items(
        mapping,
        item[1],
        known,
        {**TRAINING_ALIASES, **JOB_ALIASES},
        rep,
        "unknown training parameter",
    )
    split = items.pop("validation_data_size", None)
    params = {}
    for name, (value, path) in items.items():
        field = TRAINING_FIELDS[name]
        if not _fits_task(name, path, task, rep) or value is None:
            continue
        parsed = _parse((value, path), field.parse, rep)
        if parsed is not _FAILED:
            params[name] = parsed
    return TrainingParameters(**params), split


def _fits_task(name: str, path: Path, task: Task | None, rep: Reporter) -> bool:
    tasks = TRAINING_FIELDS[name].tasks
    if task is None or task in tasks:
        return True
    only = ", ".join(t.value for t in Task if t in tasks)
    rep.error(path, f"{name} does not apply to {task.value} (only to {only})", at_key=True)
    return False


def _search_space(
    item: tuple[Any, Path], task: Task | None, rep: Reporter
) -> tuple[dict[str, Any], ...]:
    value, path = item
    if value is None:
        return ()
    if isinstance(value, Mapping) or hasattr(value, "to_dict"):
        value = [value]  # one sub-space given without the list
    if not isinstance(value, (list, tuple)):
        rep.error(path, "search_space must be a list of sub-spaces", value=value)
        return ()
    subs = []
    for index, sub in enumerate(value):
        sub_path = (*path, index)
        if hasattr(sub, "to_dict") and not isinstance(sub, Mapping):
            sub = sub.to_dict()
        if not isinstance(sub, Mapping) or not sub:
            rep.error(sub_path, "a sub-space must be a non-empty mapping", value=sub)
            continue
        items = canonical_items(
            sub,
            sub_path,
            list(TRAINING_FIELDS),
            TRAINING_ALIASES,
            rep,
            "unknown training parameter",
        )
        out = {}
        for name, (raw, key_path) in items.items():
            if not _fits_task(name, key_path, task, rep):
                continue
            field = TRAINING_FIELDS[name]
            try:
                parsed = to_distribution_or_value(raw)
                if isinstance(parsed, Distribution):
                    parsed = check_for_field(parsed, field)
                else:
                    parsed = field.parse(parsed)
            except ConfigError as exc:
                _relocate(exc, key_path, rep)
                continue
            except Invalid as exc:
                rep.error(key_path, str(exc), value=raw, suggestion=exc.suggestion)
                continue
            out[name] = parsed
        subs.append(out)
    return tuple(subs)


def _grid_only_choice(space: tuple[dict[str, Any], ...], path: Path, rep: Reporter) -> None:
    for index, sub in enumerate(space):
        for name, value in sub.items():
            # randint is discrete too: the grid enumerates 0..upper-1.
            if isinstance(value, Distribution) and value.type not in ("choice", "randint"):
                rep.error(
                    (*path, index, name),
                    f"grid sampling takes only choice, randint or fixed values, not {value.type}",
                )


def _sweep(item: tuple[Any, Path], rep: Reporter) -> tuple[SweepSettings | None, Items | None]:
    value, path = item
    if value is None:
        return None, None
    if isinstance(value, SweepSettings):
        return value, None
    mapping = _mapping(value, path, rep, "sweep")
    if mapping is None:
        return None, None
    items = canonical_items(mapping, path, SWEEP_KEYS, SWEEP_ALIASES, rep)
    limits = None
    if "limits" in items:
        sub = _mapping(items["limits"][0], items["limits"][1], rep, "sweep.limits")
        if sub is not None:
            limits = canonical_items(sub, items["limits"][1], _LIMIT_RANGES, LIMIT_ALIASES, rep)
    policy = None
    if "early_termination" in items:
        et_value, et_path = items["early_termination"]
        try:
            policy = parse_policy(et_value)
        except ConfigError as exc:
            _relocate(exc, et_path, rep)
    if "sampling_algorithm" not in items:
        rep.lack((*path, "sampling_algorithm"), "sampling_algorithm is required (random, ...)")
        return None, limits
    algorithm = _parse(items["sampling_algorithm"], one_of(*SAMPLING_ALGORITHMS), rep)
    if algorithm is _FAILED:
        return None, limits
    return SweepSettings(sampling_algorithm=algorithm, early_termination=policy), limits


def _properties(item: tuple[Any, Path], rep: Reporter) -> dict[str, Any]:
    value, path = item
    mapping = _mapping(value, path, rep, "properties")
    out = {str(k): v for k, v in (mapping or {}).items()}
    if "node_count_per_trial" in out:
        count = _parse(
            (out["node_count_per_trial"], (*path, "node_count_per_trial")), integer(1), rep
        )
        if count is _FAILED:
            del out["node_count_per_trial"]
        else:
            out["node_count_per_trial"] = count
    return out


def _outputs(item: tuple[Any, Path], rep: Reporter) -> dict[str, Any]:
    value, path = item
    mapping = _mapping(value, path, rep, "outputs")
    items = canonical_items(mapping or {}, path, OUTPUT_KEYS, {}, rep, "unknown output")
    out = {}
    for name, (output, out_path) in items.items():
        sub = _mapping(output, out_path, rep, f"outputs.{name}")
        if sub is None:
            continue
        fields = canonical_items(sub, out_path, ("type", "path", "mode"), {}, rep)
        entry: dict[str, Any] = {"type": "mlflow_model"}
        if "type" in fields:
            kind = _parse(fields["type"], one_of("mlflow_model"), rep)
            if kind is _FAILED:
                continue
        for key in ("path", "mode"):
            if key in fields and fields[key][0] is not None:
                entry[key] = str(fields[key][0])
        out[name] = entry
    return out
