"""Argument parsing for the verbs: argparse that never exits and never prints."""

from __future__ import annotations

import argparse
import shlex
from typing import Any
from typing import NoReturn

from IPython.core.error import UsageError

from automl_nb.cli._jobs_common import parse_key_values  # noqa: F401 - re-exported


class HelpRequested(Exception):
    """Raised instead of printing when a verb is called with ``--help``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class CmdParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` for one verb: errors raise ``UsageError``, ``--help`` raises
    :class:`HelpRequested` (the magic turns it into a help object), nothing calls
    ``sys.exit``."""

    def __init__(self, prog: str, description: str, **kwargs: Any) -> None:
        super().__init__(
            prog=prog,
            description=description,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            add_help=True,
            allow_abbrev=False,
            **kwargs,
        )

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}\n{self.format_usage().strip()}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError(message or f"{self.prog}: invalid arguments")
        raise HelpRequested(self.format_help())

    def print_help(self, file: Any = None) -> None:
        raise HelpRequested(self.format_help())

    def print_usage(self, file: Any = None) -> None:
        raise HelpRequested(self.format_usage())


def split_line(line: str) -> list[str]:
    """Split a magic line like a shell would (quotes group, ``#`` is not a comment).

    Raises:
        UsageError: Unbalanced quotes.
    """
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"cannot parse the line: {exc}") from None
