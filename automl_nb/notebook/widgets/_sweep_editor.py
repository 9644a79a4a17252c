"""The sweep editor: sub-spaces of hyperparameter distributions, the sampling algorithm and
the early-termination policy, emitted as the ``sweep`` / ``search_space`` YAML the job
spec reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

import ipywidgets as widgets
import yaml

from automl_nb.config import DISTRIBUTIONS
from automl_nb.config import TRAINING_FIELDS
from automl_nb.errors import ConfigError
from automl_nb.notebook._html import esc

SAMPLING = ("random", "grid", "bayesian")
POLICY_PARAMETERS = {
    "none": (),
    "bandit": ("slack_factor", "slack_amount", "evaluation_interval", "delay_evaluation"),
    "median_stopping": ("evaluation_interval", "delay_evaluation"),
    "truncation_selection": (
        "truncation_percentage",
        "evaluation_interval",
        "delay_evaluation",
        "exclude_finished_jobs",
    ),
}
FIXED = "fixed"


def _scalar(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def _values(text: str) -> list[Any]:
    return [_scalar(part.strip()) for part in text.split(",") if part.strip()]


def _format(values: Any) -> str:
    return ", ".join(str(v) for v in (values if isinstance(values, list) else [values]))


class ParameterRow(widgets.HBox):
    """One hyperparameter of a sub-space: name, distribution and its arguments.

    The arguments are comma-separated, in the distribution's order (``uniform``:
    ``min_value, max_value``; ``choice``: the values; ``fixed``: one value).
    """

    def __init__(self, name: str = "learning_rate", kind: str = "uniform", args: str = "") -> None:
        self.name = widgets.Combobox(
            value=name,
            options=list(TRAINING_FIELDS),
            ensure_option=False,
            layout={"width": "220px"},
        )
        self.kind = widgets.Dropdown(
            options=[FIXED, *DISTRIBUTIONS], value=kind, layout={"width": "130px"}
        )
        self.args = widgets.Text(value=args, placeholder="0.0001, 0.01", layout={"width": "220px"})
        self.remove = widgets.Button(icon="trash", layout={"width": "40px"})
        super().__init__([self.name, self.kind, self.args, self.remove])

    @classmethod
    def from_value(cls, name: str, value: Any) -> ParameterRow:
        """A row for ``name: value`` as the spec writes it."""
        if isinstance(value, dict) and "type" in value:
            kind = str(value["type"])
            args = [v for k, v in value.items() if k != "type"]
            text = _format(args[0]) if kind == "choice" else _format(args)
            return cls(name, kind, text)
        return cls(name, FIXED, _format(value))

    def to_item(self) -> tuple[str, Any]:
        """``(name, YAML value)`` of this row."""
        values = _values(self.args.value)
        if self.kind.value == FIXED:
            return self.name.value.strip(), values[0] if len(values) == 1 else values
        if self.kind.value == "choice":
            return self.name.value.strip(), {"type": "choice", "values": values}
        names = [f.name for f in fields(DISTRIBUTIONS[self.kind.value])]
        return self.name.value.strip(), {"type": self.kind.value, **dict(zip(names, values))}


class SubSpace(widgets.VBox):
    """A sub-space: the models it applies to and the rows of hyperparameters."""

    def __init__(self, models: str = "", rows: list[ParameterRow] | None = None) -> None:
        self.models = widgets.Text(
            value=models,
            description="models",
            placeholder="resnet18, mobilenetv2",
            layout={"width": "460px"},
        )
        self.rows = widgets.VBox()
        self.add_row = widgets.Button(description="+ parameter", layout={"width": "auto"})
        self.remove = widgets.Button(
            description="remove sub-space", icon="trash", layout={"width": "auto"}
        )
        self.add_row.on_click(lambda _: self.add(ParameterRow()))
        for row in rows or []:
            self.add(row)
        super().__init__(
            [self.models, self.rows, widgets.HBox([self.add_row, self.remove])],
            layout={"border": "1px solid #d0d7de", "padding": "4px", "margin": "4px 0"},
        )

    def add(self, row: ParameterRow) -> ParameterRow:
        """Append a parameter row."""
        row.remove.on_click(lambda _: self._drop(row))
        self.rows.children = (*self.rows.children, row)
        return row

    def _drop(self, row: ParameterRow) -> None:
        self.rows.children = tuple(r for r in self.rows.children if r is not row)

    def to_dict(self) -> dict[str, Any]:
        """The sub-space as a ``search_space`` entry."""
        out: dict[str, Any] = {}
        models = _values(self.models.value)
        if models:
            out["model_name"] = {"type": "choice", "values": models}
        for row in self.rows.children:
            name, value = row.to_item()
            if name:
                out[name] = value
        return out


class SweepEditor(widgets.VBox):
    """Edit the draft's sweep; :attr:`yaml` is exactly what :meth:`apply` merges.

    Args:
        draft: The :class:`~automl_nb.config.JobDraft`, or a callable returning it (default:
            the notebook's current draft).
    """

    def __init__(self, draft: Any = None) -> None:
        if draft is None:
            from automl_nb.notebook._state import current_draft

            draft = current_draft
        self._get_draft: Callable[[], Any] = draft if callable(draft) else (lambda: draft)
        data = self.draft.to_dict()
        sweep = data.get("sweep") or {}
        policy = dict(sweep.get("early_termination") or {"type": "none"})
        self.sampling = widgets.Dropdown(
            options=SAMPLING,
            value=sweep.get("sampling_algorithm", "random"),
            description="sampling",
        )
        self.policy = widgets.Dropdown(
            options=list(POLICY_PARAMETERS), value=policy.pop("type"), description="early stop"
        )
        names = sorted({n for ps in POLICY_PARAMETERS.values() for n in ps})
        self.policy_fields = {
            n: widgets.Checkbox(value=bool(policy.get(n, False)), description=n)
            if n == "exclude_finished_jobs"
            else widgets.Text(
                value=str(policy.get(n, "")), description=n, style={"description_width": "150px"}
            )
            for n in names
        }
        self.subspaces = widgets.VBox()
        self.add_subspace_button = widgets.Button(
            description="+ sub-space", layout={"width": "auto"}
        )
        self.apply_button = widgets.Button(
            description="Apply to draft", button_style="primary", layout={"width": "auto"}
        )
        self.error = widgets.HTML()
        self.preview = widgets.HTML()
        self.add_subspace_button.on_click(lambda _: self.add_subspace())
        self.apply_button.on_click(lambda _: self.apply())
        self.policy.observe(lambda _: self._show_policy_fields(), names="value")
        for sub in data.get("search_space") or []:
            models = sub.get("model_name")
            model_text = (
                _format(models["values"]) if isinstance(models, dict) else _format(models or [])
            )
            rows = [ParameterRow.from_value(k, v) for k, v in sub.items() if k != "model_name"]
            self.add_subspace(SubSpace(model_text, rows))
        super().__init__(
            [
                widgets.HBox([self.sampling, self.policy]),
                widgets.VBox(list(self.policy_fields.values())),
                self.subspaces,
                widgets.HBox([self.add_subspace_button, self.apply_button]),
                self.error,
                self.preview,
            ]
        )
        self._show_policy_fields()

    @property
    def draft(self) -> Any:
        """The draft the editor applies to."""
        return self._get_draft()

    def add_subspace(self, subspace: SubSpace | None = None) -> SubSpace:
        """Append a sub-space (an empty one by default)."""
        subspace = subspace or SubSpace()
        subspace.remove.on_click(lambda _: self._drop(subspace))
        self.subspaces.children = (*self.subspaces.children, subspace)
        return subspace

    def _drop(self, subspace: SubSpace) -> None:
        self.subspaces.children = tuple(s for s in self.subspaces.children if s is not subspace)

    def _show_policy_fields(self) -> None:
        wanted = POLICY_PARAMETERS[self.policy.value]
        for name, widget in self.policy_fields.items():
            widget.layout.display = "" if name in wanted else "none"

    def to_dict(self) -> dict[str, Any]:
        """``{"sweep": ..., "search_space": [...]}`` from the widgets."""
        sweep: dict[str, Any] = {"sampling_algorithm": self.sampling.value}
        if self.policy.value != "none":
            policy: dict[str, Any] = {"type": self.policy.value}
            for name in POLICY_PARAMETERS[self.policy.value]:
                widget = self.policy_fields[name]
                if isinstance(widget, widgets.Checkbox):
                    policy[name] = widget.value
                elif widget.value.strip():
                    policy[name] = _scalar(widget.value.strip())
            sweep["early_termination"] = policy
        out: dict[str, Any] = {"sweep": sweep}
        spaces = [s.to_dict() for s in self.subspaces.children]
        spaces = [s for s in spaces if s]
        if spaces:
            out["search_space"] = spaces
        return out

    @property
    def yaml(self) -> str:
        """The YAML that :meth:`apply` merges into the draft."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=False)

    def apply(self) -> bool:
        """Merge :attr:`yaml` into the draft; on an error, show it and keep the draft."""
        text = self.yaml
        self.preview.value = f"<pre style='margin:0'>{esc(text)}</pre>"
        try:
            self.draft.merge(text, source="sweep editor")
        except ConfigError as exc:
            self.error.value = f"<pre style='color:#cf222e;margin:0'>{esc(exc)}</pre>"
            return False
        self.error.value = "<span style='color:#1a7f37'>applied to the draft</span>"
        return True

    def __repr__(self) -> str:
        return self.yaml
