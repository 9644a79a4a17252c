"""``search_space``: sub-spaces of distributions or fixed values, in every accepted form.

A value is a :class:`Distribution` object (SDK), a mapping ``{type: uniform, min_value: ...}``
(YAML), an old string expression ``"uniform(0.0001, 0.01)"``, or a fixed value.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from automl_nb.config._distributions import DISTRIBUTIONS
from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Distribution
from automl_nb.config._distributions import QUniform
from automl_nb.config._distributions import Randint
from automl_nb.config._distributions import Uniform
from automl_nb.config._fields import Field
from automl_nb.config._fields import Invalid
from automl_nb.config._names import suggest
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem

_EXPRESSION = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*\((.*)\)\s*$", re.DOTALL)


def _param_names(cls: type[Distribution]) -> list[str]:
    return [f.name for f in fields(cls)]


def looks_like_expression(text: str) -> str | None:
    """The function name of ``"name(...)"`` strings, else None."""
    match = _EXPRESSION.match(text)
    return match.group(1) if match else None


def parse_expression(text: str) -> Distribution:
    """An old-style string such as ``"uniform(0.0001, 0.01)"`` or ``"choice('a', 'b')"``.

    ``choice`` takes several values, one list, or ``range(...)``; the numeric distributions
    take their parameters positionally or by keyword.

    Raises:
        ConfigError: Unknown distribution name (with a suggestion) or bad arguments.
    """
    name = looks_like_expression(text)
    if name is None:
        raise ConfigError(Problem("not a distribution expression", value=repr(text)))
    cls = DISTRIBUTIONS.get(name.lower())
    if cls is None:
        raise ConfigError(
            Problem(
                "unknown distribution",
                value=repr(text),
                suggestion=suggest(name.lower(), DISTRIBUTIONS),
            )
        )
    try:
        match = _EXPRESSION.match(text)
        assert match is not None  # looks_like_expression matched above
        call = ast.parse(f"f({match.group(2)})", mode="eval").body
        if not isinstance(call, ast.Call):
            raise ValueError("not a call")
        args = [_literal(a) for a in call.args]
        kwargs = {str(k.arg): _literal(k.value) for k in call.keywords}
    except (SyntaxError, ValueError) as exc:
        raise ConfigError(
            Problem(f"cannot read the arguments of {name}(...): {exc}", value=repr(text))
        ) from None
    if cls is Choice:
        if kwargs:
            args = [*args, *kwargs.pop("values", [])]
        if len(args) == 1 and isinstance(args[0], (list, tuple, range)):
            args = list(args[0])
        return Choice(values=list(args))
    names = _param_names(cls)
    if len(args) > len(names):
        raise ConfigError(
            Problem(f"{name}(...) takes {len(names)} arguments ({', '.join(names)})")
        )
    params = dict(zip(names, args))
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        raise ConfigError(
            Problem(
                f"unknown argument of {name}(...)",
                value=repr(unknown[0]),
                suggestion=suggest(str(unknown[0]), names),
            )
        )
    params.update(kwargs)
    missing = [n for n in names if n not in params]
    if missing:
        raise ConfigError(Problem(f"{name}(...) needs {', '.join(names)}", value=repr(text)))
    return cls(**params)


def _literal(node: ast.AST) -> Any:
    # ``range(1, 5)`` is the only call allowed, as in Azure's old ``choice(range(...))``.
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
    ):
        return list(range(*[ast.literal_eval(a) for a in node.args]))
    return ast.literal_eval(node)


def parse_distribution_mapping(value: Mapping[str, Any]) -> Distribution:
    """``{type: uniform, min_value: 0.0001, max_value: 0.01}`` -> :class:`Uniform`.

    Raises:
        ConfigError: Unknown type or keys (with suggestions), missing or bad parameters.
    """
    kind = str(value.get("type", "")).strip().lower()
    cls = DISTRIBUTIONS.get(kind)
    if cls is None:
        raise ConfigError(
            Problem(
                "unknown distribution type",
                path="type",
                value=repr(value.get("type")),
                suggestion=suggest(kind, DISTRIBUTIONS),
            )
        )
    names = _param_names(cls)
    problems = [
        Problem(f"unknown key for {kind}", path=str(k), suggestion=suggest(str(k), names))
        for k in value
        if k != "type" and k not in names
    ]
    problems += [Problem(f"{kind} needs '{n}'", path="type") for n in names if n not in value]
    if problems:
        raise ConfigError(problems)
    params = {n: value[n] for n in names}
    if cls is Choice and not isinstance(params["values"], (list, tuple)):
        raise ConfigError(
            Problem("choice values must be a list", path="values", value=repr(params["values"]))
        )
    return cls(**params)


def to_distribution_or_value(value: Any) -> Distribution | Any:
    """Any accepted form -> a :class:`Distribution`, or the value itself when it is fixed."""
    if isinstance(value, Distribution):
        return value
    if isinstance(value, Mapping) and "type" in value:
        return parse_distribution_mapping(value)
    if isinstance(value, str) and looks_like_expression(value):
        return parse_expression(value)
    return value


def check_for_field(dist: Distribution, field: Field) -> Distribution:
    """Validate a distribution against the parameter it samples; normalize choice values.

    Choice values are parsed like fixed values (``'3x2'`` -> ``(3, 2)``); numeric
    distributions are only allowed for numeric parameters, and uniform bounds must lie in the
    parameter's range.

    Raises:
        ConfigError: A value or bound that the parameter does not take.
    """
    if isinstance(dist, Choice):
        out = []
        for index, item in enumerate(dist.values):
            try:
                out.append(field.parse(item))
            except Invalid as exc:
                raise ConfigError(
                    Problem(
                        f"choice value {exc}",
                        path=f"values[{index}]",
                        value=repr(item),
                        suggestion=exc.suggestion,
                    )
                ) from None
        return Choice(values=out)
    if field.kind not in ("int", "float"):
        raise ConfigError(
            Problem(
                f"{field.name} takes only a choice or a fixed value, not {dist.type}",
                path="type",
            )
        )
    if isinstance(dist, Randint) and field.kind == "int":
        _check_bound(field, dist.upper - 1, "upper")
    if isinstance(dist, (Uniform, QUniform)) and field.kind == "float":
        _check_bound(field, dist.min_value, "min_value")
        _check_bound(field, dist.max_value, "max_value")
    return dist


def _check_bound(field: Field, value: Any, name: str) -> None:
    try:
        field.parse(value)
    except Invalid as exc:
        raise ConfigError(Problem(f"{field.name} {exc}", path=name, value=repr(value))) from None


def dump_search_value(value: Any, field: Field | None) -> Any:
    """A search-space value back to its YAML form."""
    dump = field.dump if field is not None else (lambda v: v)
    if isinstance(value, Choice):
        return {"type": "choice", "values": [_plain(dump(v)) for v in value.values]}
    if isinstance(value, Distribution):
        return value.to_dict()
    return _plain(dump(value))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value
