"""The job builder: a form over the draft's main keys. Each edit is merged into the draft
at once; an invalid value shows the error and leaves the draft as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import yaml

from automl_nb.errors import ConfigError
from automl_nb.notebook._html import esc
from automl_nb.tasks import TASK_NAMES

DATA_TYPES = ("jsonl", "mltable", "uri_file", "uri_folder")
OPTIMIZERS = ("", "sgd", "adam", "adamw")
PLACEHOLDERS = {
    "training data": "data/train.jsonl or an MLTable folder",
    "target column": "label",
    "validation size": "0.2",
}
# Training parameters shown as free text: empty removes the setting.
TEXT_PARAMETERS = (
    ("number_of_epochs", "epochs"),
    ("training_batch_size", "batch size"),
    ("learning_rate", "learning rate"),
    ("training_crop_size", "crop size"),
    ("min_size", "min size"),
)


def _nest(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    fragment: Any = value
    for key in reversed(path):
        fragment = {key: fragment}
    return fragment


def _text_value(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


class JobBuilder(widgets.VBox):
    """A form for the current draft (task, data, target column, validation size, limits and
    key training parameters).

    Args:
        draft: The :class:`~automl_nb.config.JobDraft` to edit, or a callable returning it
            (default: the notebook's current draft, whichever it is at edit time).

    Attributes:
        fields: ``{dotted key: widget}``; setting a widget's ``value`` edits the draft.
        error: Shows the last error (empty when the last edit was merged).
        preview: The draft's YAML.
    """

    def __init__(self, draft: Any = None) -> None:
        if draft is None:
            from automl_nb.notebook._state import current_draft

            draft = current_draft
        self._get_draft: Callable[[], Any] = draft if callable(draft) else (lambda: draft)
        data = self.draft.to_dict()
        params = data.get("training_parameters", {})
        limits = data.get("limits", {})
        train = data.get("training_data") or {}
        valid = data.get("validation_data") or {}
        style = {"description_width": "150px"}
        layout = {"width": "460px"}

        def text(description: str, value: Any) -> widgets.Text:
            value = "" if value is None else str(value)
            return widgets.Text(
                value=value,
                description=description,
                style=style,
                layout=layout,
                placeholder=PLACEHOLDERS.get(description, ""),
            )

        self.fields: dict[str, widgets.Widget] = {
            "task": widgets.Dropdown(
                options=["", *TASK_NAMES],
                value=data.get("task", ""),
                description="task",
                style=style,
                layout=layout,
            ),
            "name": text("name", data.get("name")),
            "training_data.path": text("training data", train.get("path")),
            "training_data.type": widgets.Dropdown(
                options=DATA_TYPES,
                value=train.get("type", "jsonl"),
                description="data type",
                style=style,
                layout=layout,
            ),
            "validation_data.path": text("validation data", valid.get("path")),
            "target_column_name": text("target column", data.get("target_column_name")),
            "validation_data_size": text("validation size", data.get("validation_data_size")),
            "limits.max_trials": text("max trials", limits.get("max_trials")),
            "limits.max_concurrent_trials": text(
                "concurrent trials", limits.get("max_concurrent_trials")
            ),
            "limits.timeout_minutes": text("timeout (min)", limits.get("timeout_minutes")),
            "training_parameters.model_name": widgets.Combobox(
                value=params.get("model_name", ""),
                options=self._models(data.get("task")),
                description="model",
                ensure_option=False,
                style=style,
                layout=layout,
            ),
            "training_parameters.optimizer": widgets.Dropdown(
                options=OPTIMIZERS,
                value=params.get("optimizer", ""),
                description="optimizer",
                style=style,
                layout=layout,
            ),
        }
        for key, label in TEXT_PARAMETERS:
            self.fields[f"training_parameters.{key}"] = text(label, params.get(key))
        advanced = params.get("advanced_settings") or "{}"
        pretrained = (
            json.loads(advanced).get("use_pretrained", True) if isinstance(advanced, str) else True
        )
        self.fields["use_pretrained"] = widgets.Checkbox(
            value=bool(pretrained), description="pretrained weights", style=style
        )
        self.error = widgets.HTML()
        self.preview = widgets.HTML()
        for key, widget in self.fields.items():
            widget.observe(lambda change, key=key: self.edit(key, change["new"]), names="value")
        super().__init__([*self.fields.values(), self.error, self.preview])
        self._show_yaml()

    @property
    def draft(self) -> Any:
        """The draft being edited."""
        return self._get_draft()

    @staticmethod
    def _models(task: str | None) -> list[str]:
        if not task:
            return []
        from automl_nb.models import list_models

        return list_models(task)

    def fragment(self, key: str, value: Any) -> dict[str, Any] | None:
        """The YAML fragment an edit of ``key`` merges (None: nothing to merge)."""
        if key == "use_pretrained":
            params = self.draft.to_dict().get("training_parameters", {})
            advanced = json.loads(params.get("advanced_settings") or "{}")
            advanced["use_pretrained"] = bool(value)
            return {"training_parameters": {"advanced_settings": json.dumps(advanced)}}
        path = tuple(key.split("."))
        if key.startswith(("training_data", "validation_data")):
            section = path[0]
            path_value = self.fields[f"{section}.path"].value.strip()
            if not path_value:
                return None
            return {section: {"path": path_value, "type": self.fields["training_data.type"].value}}
        if isinstance(value, str):
            value = (
                _text_value(value)
                if key != "training_parameters.model_name"
                else value.strip() or None
            )
        if value is None and path[0] != "training_parameters":
            return None  # top-level keys cannot be unset; an empty box keeps the draft's value
        return _nest(path, value)

    def edit(self, key: str, value: Any) -> bool:
        """Merge one edit into the draft; returns False (and shows why) when it is invalid."""
        fragment = self.fragment(key, value)
        if fragment is None:
            return True
        try:
            self.draft.merge(fragment, source="builder")
        except ConfigError as exc:
            self.error.value = f"<pre style='color:#cf222e;margin:0'>{esc(exc)}</pre>"
            return False
        self.error.value = ""
        if key == "task":
            self.fields["training_parameters.model_name"].options = self._models(value)
        self._show_yaml()
        return True

    def _show_yaml(self) -> None:
        draft = self.draft
        missing = "".join(f"<li>{esc(p.message)}</li>" for p in draft.problems())
        state = f"<ul style='margin:0'>{missing}</ul>" if missing else "<b>complete</b>"
        self.preview.value = f"{state}<pre style='margin:0'>{esc(draft.to_yaml())}</pre>"

    def __repr__(self) -> str:
        return f"JobBuilder for {self.draft!r}"
