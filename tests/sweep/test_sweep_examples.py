"""The ``.. testcode::`` examples in the sweep docstrings run as written."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import optuna
import pytest

import automl_nb.sweep

optuna.logging.set_verbosity(optuna.logging.WARNING)

_PACKAGE = Path(automl_nb.sweep.__file__).parent
_EXAMPLE = re.compile(r"\.\. testcode::\n\n((?:(?: {8,}.*)?\n)+)")
EXAMPLES = [
    pytest.param(textwrap.dedent(m.group(1)), id=f"{path.stem}-{i}")
    for path in sorted(_PACKAGE.glob("_*.py"))
    for i, m in enumerate(_EXAMPLE.finditer(path.read_text()))
]


def test_every_public_factory_has_an_example() -> None:
    assert len(EXAMPLES) >= 7


@pytest.mark.parametrize("code", EXAMPLES)
def test_docstring_example_runs(code) -> None:
    exec(compile(code, "<example>", "exec"), {})


def test_importing_the_package_does_not_import_optuna() -> None:
    import subprocess
    import sys

    code = "import sys, automl_nb.sweep; print('optuna' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
