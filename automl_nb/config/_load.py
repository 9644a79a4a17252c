"""``load_job`` / ``dump_job``: job YAML (file, text or mapping) <-> :class:`JobSpec`."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

import yaml

from automl_nb.config._job import JobSpec
from automl_nb.config._merge import set_path
from automl_nb.config._report import Reporter
from automl_nb.config._validate import validate_job
from automl_nb.config._yaml import Located
from automl_nb.config._yaml import Mark
from automl_nb.config._yaml import decode_yaml_bytes
from automl_nb.config._yaml import load_located
from automl_nb.config._yaml import parse_scalar
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.errors import not_a_file_reason

# Job files are a few kB; parsing tens of MB of YAML takes minutes.
MAX_JOB_FILE_BYTES = 1 << 20


def read_source(source: Any, name: str | None = None) -> tuple[Located, str | None]:
    """Located raw data from a path, YAML text, a mapping or a :class:`JobSpec`.

    Returns:
        The located data and the YAML file path (None unless ``source`` was a file).
    """
    if isinstance(source, JobSpec):
        return Located(source.to_dict(), {}, {}), source.source_path
    if isinstance(source, Mapping):
        return Located(copy.deepcopy(dict(source)), {(): Mark(name)}, {}), None
    if isinstance(source, os.PathLike) or (
        isinstance(source, str)
        and "\n" not in source
        and (source.strip().lower().endswith((".yml", ".yaml")) or os.path.isfile(source))
    ):
        path = os.fspath(source)
        reason = not_a_file_reason(path)
        if reason:
            raise ConfigError(Problem(f"cannot read the job file: {reason}", file=path))
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_JOB_FILE_BYTES + 1)
        except OSError as exc:
            raise ConfigError(
                Problem(f"cannot read the job file: {exc.strerror}", file=path)
            ) from None
        if len(raw) > MAX_JOB_FILE_BYTES:
            raise ConfigError(
                Problem(
                    f"the job file is larger than {MAX_JOB_FILE_BYTES >> 20} MB; a job YAML "
                    "holds settings, not data",
                    file=path,
                )
            )
        return load_located(decode_yaml_bytes(raw, path), path), path
    if isinstance(source, str):
        return load_located(source, name), None
    raise ConfigError(
        Problem(f"a job is a YAML file, YAML text or a mapping, not {type(source).__name__}")
    )


def apply_overrides(located: Located, overrides: Mapping[str, Any] | None) -> None:
    """Apply ``{"training_parameters.learning_rate": 0.01}`` to the raw data in place."""
    if not overrides:
        return
    if located.data is None:
        located.data = {}
    if not isinstance(located.data, dict):
        return
    for dotted, value in overrides.items():
        try:
            path = set_path(located.data, str(dotted), value)
        except (KeyError, ValueError):
            raise ConfigError(
                Problem("cannot set this key path", file="--set", path=str(dotted))
            ) from None
        # The overridden value (and anything below it) came from the command line.
        for marks in (located.values, located.keys):
            for key in [k for k in marks if k[: len(path)] == path]:
                del marks[key]
            marks[path] = Mark("--set")


def load_job(
    source: Any,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> JobSpec:
    """Load and validate a job.

    Args:
        source: A path to a ``.yml``/``.yaml`` file, YAML text, or a mapping.
        overrides: Dotted key paths to values, applied before validation
            (``{"training_parameters.learning_rate": 0.01}``; see :func:`parse_set_option`).

    Returns:
        The validated :class:`JobSpec`; ``source_path`` is set for files.

    Raises:
        ConfigError: Every problem found, each naming file, line, key path and value.

    Example:
        >>> spec = load_job('''
        ... task: image_classification
        ... target_column_name: label
        ... training_data: {path: data/train, type: mltable}
        ... training_parameters: {lr_scheduler: step}
        ... ''')
        >>> spec.training_parameters.learning_rate_scheduler
        'step'
    """
    located, path = read_source(source)
    apply_overrides(located, overrides)
    return build_spec(located, path)


def build_spec(located: Located, path: str | None) -> JobSpec:
    """Validate located raw data into a :class:`JobSpec` (raising on any problem)."""
    rep = Reporter(located.values, located.keys, file=path)
    values = validate_job(located.data, rep)
    problems = rep.errors + rep.missing
    if problems or values is None:
        raise ConfigError(problems, header=_header(path, len(problems)))
    return JobSpec(**values, source_path=os.path.abspath(path) if path else None)


def _header(path: str | None, count: int) -> str:
    where = f" in {path}" if path else ""
    return f"invalid job spec{where} ({count} problem{'s' if count != 1 else ''}):"


def dump_job(spec: JobSpec) -> str:
    """The job as YAML text with v2 names; ``load_job(dump_job(s)) == s``.

    Args:
        spec: A job spec.

    Returns:
        YAML text.
    """
    return yaml.safe_dump(spec.to_dict(), sort_keys=False, default_flow_style=False, width=1000)


def parse_set_option(option: str) -> tuple[str, Any]:
    """Split a CLI ``--set KEY=VALUE`` into the key path and a YAML-parsed value.

    Args:
        option: e.g. ``"training_parameters.learning_rate=0.01"``.

    Returns:
        ``("training_parameters.learning_rate", 0.01)``.

    Raises:
        ConfigError: No ``=`` or an empty key.
    """
    key, sep, value = str(option).partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            Problem(
                "expected KEY=VALUE, e.g. training_parameters.learning_rate=0.01",
                file="--set",
                value=repr(option),
            )
        )
    return key.strip(), parse_scalar(value)
