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

# Limits that keep a hostile or broken file from hanging the loader: nesting depth while
# composing, alias uses per document, and nodes once every alias is expanded (an alias bomb
# of 9 aliases over 9 levels stays a few hundred bytes but expands to 9**9 nodes).
MAX_YAML_DEPTH = 64
MAX_YAML_ALIASES = 100
MAX_YAML_NODES = 100_000


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
    try:
        node, data = compose_bounded(text)
        if node is None:
            return Located(None, {(): Mark(file, 1, 1)}, {})
        problems: list[Problem] = []
        _find_duplicates(node, (), file, problems, set())
        if problems:
            raise ConfigError(problems)
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
    located = Located(data, {}, {})
    _walk(node, (), file, located, set())
    return located


class _BoundedLoader(yaml.SafeLoader):
    """The safe loader with a nesting-depth limit, an alias-use limit and no alias cycles."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._open_anchors: set[str] = set()

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"more than {MAX_YAML_ALIASES} aliases",
                    event.start_mark,  # type: ignore[arg-type]
                )
            if event.anchor in self._open_anchors:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"alias *{event.anchor} refers to a node that contains it (a cycle)",
                    event.start_mark,  # type: ignore[arg-type]
                )
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark
            )
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(anchor)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than ``MAX_YAML_NODES`` nodes."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order without recursion; shared (aliased) nodes are sized once
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        kids = _children(node)
        if children_done:
            size = 1 + sum(sizes[id(k)] for k in kids)
            if size > MAX_YAML_NODES:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"the aliases expand to more than {MAX_YAML_NODES} values",
                    node.start_mark,
                )
            sizes[id(node)] = size
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in sizes)


def compose_bounded(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose and construct one YAML document with the safe loader, within the limits.

    Returns:
        The root node (None for an empty document) and the constructed data.

    Raises:
        yaml.YAMLError: Invalid YAML, or a document past a limit (deeper than
            ``MAX_YAML_DEPTH``, more than ``MAX_YAML_ALIASES`` aliases, a self-referencing
            alias, or more than ``MAX_YAML_NODES`` values once aliases are expanded); marked
            errors carry the line and column.
    """
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_expanded_size(node)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _mark(node: yaml.Node, file: str | None) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _key(node: yaml.Node) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else repr(node.value)


def _loaded_key(node: yaml.Node) -> Any:
    """The key as the loaded data holds it (``5`` and ``~`` are an int and None there), so a
    problem about a non-text key is located at its line."""
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:str":
        try:
            return yaml.SafeLoader(node.value).construct_object(node)
        except yaml.YAMLError:
            return _key(node)
    return _key(node)


def _find_duplicates(
    node: yaml.Node, path: Path, file: str | None, out: list[Problem], seen_nodes: set[int]
) -> None:
    # PyYAML silently keeps the last of two equal keys. An aliased node is checked once.
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
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
            _find_duplicates(value_node, (*path, key), file, out, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _find_duplicates(item, (*path, index), file, out, seen_nodes)


def _walk(node: yaml.Node, path: Path, file: str | None, out: Located, seen: set[int]) -> None:
    out.values[path] = _mark(node, file)
    # Values under a second use of an aliased node are located at the alias itself.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, _key(key_node))
            out.keys[child] = _mark(key_node, file)
            loaded = (*path, _loaded_key(key_node))
            if loaded != child:
                out.keys[loaded] = out.keys[child]
                out.values[loaded] = _mark(value_node, file)
            _walk(value_node, child, file, out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), file, out, seen)


# Byte-order marks YAML allows (YAML 1.2, 5.2); without one the text must be UTF-8.
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)


def decode_yaml_bytes(raw: bytes, file: str) -> str:
    """The text of a YAML file: UTF-8, or UTF-16/32 with a byte-order mark.

    Raises:
        ConfigError: A binary file, or bytes that are not valid in the encoding (the line of
            the first bad byte is named).
    """
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    if encoding == "utf-8" and b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise ConfigError(
            Problem(
                "not a text file (it holds NUL bytes; UTF-16 text needs a byte-order mark)",
                file=file,
                line=line,
            )
        )
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            Problem(
                f"not valid {encoding.upper().replace('-SIG', '')} text ({exc.reason} at "
                f"byte {exc.start})",
                file=file,
                line=line,
            )
        ) from None


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
