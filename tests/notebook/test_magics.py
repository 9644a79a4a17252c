"""The extension: loading, unloading, reloading, options, and a cheap import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from IPython.core.error import UsageError

from automl_nb.notebook import AutoMLVision
from automl_nb.notebook import current_draft
from automl_nb.notebook import settings


def _registered(shell) -> bool:
    return "automl_vision" in shell.magics_manager.magics["line"]


def test_load_registers_a_line_and_cell_magic(ip):
    assert "automl_vision" in ip.magics_manager.magics["line"]
    assert "automl_vision" in ip.magics_manager.magics["cell"]
    assert sum(isinstance(c, AutoMLVision) for c in ip.configurables) == 1


def test_unload_removes_what_load_registered(ip):
    ip.run_line_magic("unload_ext", "automl_nb")
    assert not _registered(ip)
    assert "automl_vision" not in ip.magics_manager.magics["cell"]
    assert not any(type(c).__name__ == "AutoMLVision" for c in ip.configurables)
    ip.run_line_magic("load_ext", "automl_nb")
    assert _registered(ip)


def test_reload_keeps_one_instance_and_the_draft(ip):
    ip.run_line_magic("automl_vision", "new classification --name kept")
    ip.run_line_magic("reload_ext", "automl_nb")
    assert _registered(ip)
    assert sum(type(c).__name__ == "AutoMLVision" for c in ip.configurables) == 1
    assert current_draft().to_dict()["name"] == "kept"


def test_config_options_reach_the_verbs(ip, tmp_path):
    ip.run_line_magic("config", f"AutoMLVision.workspace = '{tmp_path / 'elsewhere'}'")
    ip.run_line_magic("config", "AutoMLVision.refresh_seconds = 0.1")
    ip.run_line_magic("config", "AutoMLVision.default_compute = 'azureml:gpu-cluster'")
    assert settings().workspace == str(tmp_path / "elsewhere")
    # Faster than twice a second would flood the frontend.
    assert settings().refresh_seconds == 0.5
    view = ip.run_line_magic("automl_vision", "new classification")
    assert "compute: azureml:gpu-cluster" in view.yaml
    assert str(tmp_path / "elsewhere") in ip.run_line_magic("automl_vision", "jobs").title


def test_magic_does_not_expand_variables(ip):
    ip.user_ns["name"] = "expanded"
    view = ip.run_line_magic("automl_vision", "new classification --name $name")
    assert view.draft.to_dict()["name"] == "$name"


def test_trailing_semicolon_silences_the_result(ip):
    result = ip.run_cell("%automl_vision new classification;")
    assert result.result is None
    assert current_draft().to_dict()["task"] == "image_classification"


def test_unknown_verb_suggests_the_closest(ip):
    with pytest.raises(UsageError, match="did you mean 'status'"):
        ip.run_line_magic("automl_vision", "stauts")


def test_empty_line_lists_the_verbs(ip):
    table = ip.run_line_magic("automl_vision", "")
    assert [row[0] for row in table.rows][:3] == [
        "%automl_vision new",
        "%automl_vision config",
        "%automl_vision show",
    ]


def test_loading_the_extension_imports_nothing_heavy():
    code = (
        "import json, sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from traitlets.config import Config\n"
        "c = Config(); c.HistoryAccessor.enabled = False\n"
        "ip = InteractiveShell.instance(config=c)\n"
        "ip.run_line_magic('load_ext', 'automl_nb')\n"
        "ip.run_line_magic('automl_vision', 'new classification')\n"
        "ip.run_line_magic('automl_vision', 'help')\n"
        "print(json.dumps(sorted(m for m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "automl_nb.notebook" in modules
    heavy = {"torch", "timm", "optuna", "captum", "torchvision", "ipywidgets", "matplotlib"}
    assert not heavy & {m.split(".")[0] for m in modules}
