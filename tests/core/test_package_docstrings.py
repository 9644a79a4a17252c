"""Every docstring example of the package runs and shows what it says."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import automl_nb

# Modules whose examples need a running notebook kernel or an optional extra.
_SKIP_PREFIXES = ("automl_nb.labextension",)


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(automl_nb.__path__, "automl_nb."):
        if not info.name.startswith(_SKIP_PREFIXES) and not info.name.endswith("__main__"):
            names.append(info.name)
    return sorted(names)


def _with_examples(names: list[str]) -> list[str]:
    out = []
    finder = doctest.DocTestFinder()
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional extra (mlflow, transformers, ...) is not installed
            continue
        if any(test.examples for test in finder.find(module)):
            out.append(name)
    return out


MODULES = _with_examples(_modules())


def test_the_package_has_docstring_examples() -> None:
    assert len(MODULES) >= 10, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    try:
        flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        result = doctest.testmod(module, optionflags=flags)
    finally:
        if name.startswith("automl_nb.notebook"):
            from automl_nb.notebook import set_draft

            set_draft(None)  # examples build drafts; later tests start from none
    assert result.failed == 0
