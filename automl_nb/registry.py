"""One registry helper for every extension point, and one ``suggest`` for every did-you-mean.

Models, samplers, early-termination policies, explainers, converters, export formats, magic
verbs and CLI verbs are each a :class:`Registry` keyed by the user-facing name. A lookup of an
unknown name raises the registry's own error type with the nearest names, so every extension
point answers a typo the same way.

Example:
    >>> samplers = Registry("sampling algorithm")
    >>> @samplers.register("random")
    ... def make_random():
    ...     return "random sampler"
    >>> samplers.get("random")()
    'random sampler'
    >>> samplers.names()
    ['random']
    >>> samplers.get("randon")
    Traceback (most recent call last):
    ...
    KeyError: "unknown sampling algorithm 'randon'; did you mean 'random'?"
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Generic
from typing import TypeVar

if TYPE_CHECKING:
    from automl_nb.errors import Problem

T = TypeVar("T")


def suggestions(
    name: object, candidates: Iterable[str], *, n: int = 3, cutoff: float = 0.6
) -> list[str]:
    """The candidates closest to ``name`` (best first), or ``[]`` when none is close.

    Matching ignores case, so ``"SGD"`` suggests ``"sgd"``.
    """
    pool = [str(c) for c in candidates]
    by_lower: dict[str, str] = {}
    for candidate in pool:
        by_lower.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(str(name).lower(), list(by_lower), n=n, cutoff=cutoff)
    return [by_lower[f] for f in found]


def suggest(name: object, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The one candidate closest to ``name``, or ``None`` when nothing is close.

    Example:
        >>> suggest("learnin_rate", ["learning_rate", "momentum"])
        'learning_rate'
        >>> suggest("zzz", ["learning_rate"]) is None
        True
    """
    found = suggestions(name, candidates, n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(name: object, candidates: Iterable[str], *, n: int = 3) -> str:
    """``"; did you mean 'a' or 'b'?"`` for the close candidates, or ``""`` when none is."""
    found = suggestions(name, candidates, n=n)
    if not found:
        return ""
    quoted = [repr(f) for f in found]
    text = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"; did you mean {text}?"


class Registry(Generic[T]):
    """Named entries of one extension point, in registration order.

    Args:
        kind: What an entry is, in words (``"sampling algorithm"``, ``"export format"``): it
            starts every error message.
        error: The exception raised for an unknown name; it is called with one message.
        normalize: Turns a user-given name into a key (default: strip and lower-case).
    """

    def __init__(
        self,
        kind: str,
        *,
        error: Callable[[str], Exception] = KeyError,
        normalize: Callable[[str], str] = lambda name: str(name).strip().lower(),
    ) -> None:
        self.kind = kind
        self._error = error
        self._normalize = normalize
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def add(self, name: str, value: T, *, aliases: Iterable[str] = ()) -> T:
        """Register ``value`` under ``name`` (and ``aliases``); a name taken twice is a bug."""
        key = self._normalize(name)
        if key in self._entries or key in self._aliases:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[key] = value
        for alias in aliases:
            self._aliases[self._normalize(alias)] = key
        return value

    def register(self, name: str, *, aliases: Iterable[str] = ()) -> Callable[[T], T]:
        """A decorator form of :meth:`add`."""

        def decorator(value: T) -> T:
            return self.add(name, value, aliases=aliases)

        return decorator

    def key(self, name: str) -> str | None:
        """The registered name ``name`` stands for (an alias resolved), or ``None``."""
        key = self._normalize(name)
        key = self._aliases.get(key, key)
        return key if key in self._entries else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.key(name) is not None

    def get(self, name: str) -> T:
        """The entry of ``name``.

        Raises:
            The registry's error: ``name`` is not registered; the message lists the nearest
            names, or every name when none is close.
        """
        key = self.key(name)
        if key is None:
            raise self._error(self.unknown_message(name))
        return self._entries[key]

    def unknown_message(self, name: object) -> str:
        """``unknown <kind> 'x'; did you mean ...?`` (or the list of names)."""
        hint = did_you_mean(self._normalize(str(name)), self.names())
        if not hint:
            hint = f"; expected one of: {', '.join(self.names())}"
        return f"unknown {self.kind} {str(name)!r}{hint}"

    def names(self) -> list[str]:
        """Every registered name, in registration order (aliases left out)."""
        return list(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """``(name, entry)`` pairs in registration order."""
        return list(self._entries.items())

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"


def not_one_of(
    value: object, choices: Iterable[str], *, path: str, message: str | None = None
) -> Problem:
    """The :class:`~automl_nb.errors.Problem` of a value that is none of ``choices``:
    ``path: must be one of a, b (got 'x'); did you mean 'a'?``.

    Example:
        >>> print(not_one_of("kye", ["key", "none"], path="auth_mode"))
        auth_mode: must be one of key, none (got 'kye'); did you mean 'key'?
    """
    from automl_nb.errors import Problem

    names = [str(c) for c in choices]
    return Problem(
        message or f"must be one of {', '.join(names)}",
        path=path,
        value=repr(value),
        suggestion=suggest(value, names),
    )
