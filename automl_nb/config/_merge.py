"""Alias-aware deep merge of raw job data (for drafts and ``--set`` overrides)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automl_nb.config._names import JOB_ALIASES
from automl_nb.config._names import LIMIT_ALIASES
from automl_nb.config._names import SWEEP_ALIASES
from automl_nb.config._names import TRAINING_ALIASES
from automl_nb.config._sweep_settings import policy_type_name
from automl_nb.config._yaml import Path


def _aliases(path: Path) -> Mapping[str, str]:
    if path == ():
        return JOB_ALIASES
    if path in (("limits",), ("sweep", "limits")):
        return LIMIT_ALIASES
    if path == ("sweep",):
        return SWEEP_ALIASES
    if path == ("training_parameters",):
        return {**TRAINING_ALIASES, **JOB_ALIASES}
    if len(path) == 2 and path[0] == "search_space":
        return TRAINING_ALIASES
    return {}


def canonical_key(path: Path, key: Any) -> Any:
    """The v2 name of ``key`` inside the mapping at ``path`` (unchanged when not an alias)."""
    return _aliases(path).get(str(key), key)


def deep_merge(base: dict[str, Any], fragment: Mapping[str, Any], path: Path = ()) -> dict:
    """Merge ``fragment`` into ``base`` in place: mappings merge, everything else replaces.

    A key replaces an earlier key with the same v2 name (``lr_scheduler`` after
    ``learning_rate_scheduler``), and an early-termination policy of another type replaces
    the old policy whole, so no stale keys survive.
    """
    for key, value in fragment.items():
        canon = canonical_key(path, key)
        for old in [k for k in base if k != key and canonical_key(path, k) == canon]:
            del base[old]
        old_value = base.get(key)
        if (
            isinstance(value, Mapping)
            and isinstance(old_value, Mapping)
            and not _policy_changed(path, key, old_value, value)
        ):
            merged = dict(old_value)
            base[key] = deep_merge(merged, value, (*path, str(key)))
        else:
            base[key] = value
    return base


def _policy_changed(path: Path, key: Any, old: Mapping, new: Mapping) -> bool:
    if path != ("sweep",) or canonical_key(path, key) != "early_termination":
        return False
    return "type" in new and policy_type_name(new.get("type")) != policy_type_name(
        old.get("type", "")
    )


def set_path(data: dict[str, Any], dotted: str, value: Any) -> Path:
    """Set ``a.b.c`` (numbers index lists) to ``value`` in place; return the key path used."""
    parts: list[Any] = [p for p in dotted.strip().split(".") if p]
    node: Any = data
    path: Path = ()
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if isinstance(node, list):
            position = int(part) if str(part).lstrip("-").isdigit() else None
            if position is None or not -len(node) <= position < len(node):
                raise KeyError(dotted)
            path = (*path, position)
            if last:
                node[position] = value
            else:
                node = node[position]
            continue
        if not isinstance(node, dict):
            raise KeyError(dotted)
        canon = canonical_key(path, part)
        for old in [k for k in node if k != part and canonical_key(path, k) == canon]:
            node[part] = node.pop(old)
        path = (*path, part)
        if last:
            node[part] = value
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = {}
            node = node[part]
    return path
