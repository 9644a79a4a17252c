"""YAML loading that remembers where every key and value came from.

The text is composed into a node tree (``yaml.SafeLoader``), so each value's line and column are
known; errors then read ``job.yml:14: training_parameters.learning_rate: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

Path = tuple  # a key path: mapping keys (str) and list indices (int)


@dataclass(frozen=True)
class Mark:
    """Where a value (or a key) starts: file, 1-based line and column."""

    file: str | None
    line: int | None = None
    column: int | None = None


@dataclass
class Located:
    """Parsed YAML data plus the marks of its values and keys, keyed by path."""

    data: Any
    values: dict[Path, Mark]
    keys: dict[Path, Mark]


def load_located(text: str, file: str | None = None) -> Located:
    """Parse one YAML document with the safe loader and record every node's position.

    Args:
        text: The YAML text.
        file: The file name used in marks and errors (None for text from a cell).

    Returns:
        A :class:`Located` with the data (None for an empty document).

    Raises:
        ConfigError: Invalid YAML, or a key given twice in one mapping.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, {(): Mark(file, 1, 1)}, {})
        problems: list[Problem] = []
        _find_duplicates(node, (), file, problems)
        if problems:
            raise ConfigError(problems)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context}"
        raise ConfigError(
            Problem(
                message,
                file=file,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(Problem(f"invalid YAML: {exc}", file=file)) from None
    finally:
        loader.dispose()
    located = Located(data, {}, {})
    _walk(node, (), file, located)
    return located


def _mark(node: yaml.Node, file: str | None) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _key(node: yaml.Node) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else repr(node.value)


def _find_duplicates(node: yaml.Node, path: Path, file: str | None, out: list[Problem]) -> None:
    # Checked before construction: PyYAML silently keeps the last of two equal keys.
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key == "<<":
                continue
            if key in seen:
                out.append(
                    Problem(
                        "key given twice in the same mapping",
                        file=file,
                        line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1,
                        path=format_path((*path, key)),
                    )
                )
            seen.add(key)
            _find_duplicates(value_node, (*path, key), file, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, (*path, index), file, out)


def _walk(node: yaml.Node, path: Path, file: str | None, out: Located) -> None:
    out.values[path] = _mark(node, file)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, _key(key_node))
            out.keys[child] = _mark(key_node, file)
            _walk(value_node, child, file, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), file, out)


def format_path(path: Path) -> str:
    """``("search_space", 1, "learning_rate")`` -> ``"search_space[1].learning_rate"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def parse_scalar(text: str) -> Any:
    """A ``--set`` value as a YAML scalar: ``"0.01"`` -> 0.01, ``"true"`` -> True."""
    try:
        return yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text
