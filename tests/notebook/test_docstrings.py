"""The docstring examples of the notebook layer run."""

from __future__ import annotations

import doctest

import pytest

from automl_nb.notebook import _dispatch
from automl_nb.notebook import _threshold
from automl_nb.notebook import set_draft


@pytest.mark.parametrize("module", [_dispatch, _threshold])
def test_docstring_examples(module):
    try:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    finally:
        set_draft(None)
    assert result.attempted > 0
    assert result.failed == 0
