"""Read the training and validation data of a job, with the job-level checks."""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from automl_nb.data._images import check_images as _check_images
from automl_nb.data._jsonl import capped_problems
from automl_nb.data._jsonl import read_jsonl
from automl_nb.data._mltable import MLTABLE_FILE
from automl_nb.data._mltable import parse_mltable
from automl_nb.data._mltable import read_mltable
from automl_nb.data._records import LabeledImages
from automl_nb.data._sources import is_url
from automl_nb.data._split import split_validation
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

MIN_TRAINING_IMAGES = 10


def read_dataset(
    path: str | os.PathLike[str],
    task: Task | str,
    *,
    target_column: str = "label",
    invalid_lines: str | None = None,
    datastores: Mapping[str, str] | None = None,
) -> LabeledImages:
    """Read a JSONL file or an MLTable folder, whichever ``path`` is.

    Args:
        path: A ``.jsonl`` file (local or fsspec URL), an MLTable folder, or an ``MLTable``
            file.
        task: Task whose label shape the data must have.
        target_column: Name of the label field.
        invalid_lines: ``"error"`` or ``"drop"``; ``None``: the MLTable's setting, or
            ``"error"`` for a JSONL file.
        datastores: ``{datastore name: local folder}`` for ``azureml://`` URIs.

    Returns:
        The labelled images.

    Raises:
        DataError: Missing path, folder without an MLTable file, or invalid data.
    """
    text = os.fspath(path)
    kwargs: dict[str, Any] = {"target_column": target_column, "datastores": datastores}
    if text.startswith("azureml:") and not text.startswith("azureml://"):
        raise DataError(
            Problem(
                "Azure data assets cannot be read locally; point the path at a local MLTable "
                "folder or JSONL file",
                value=repr(text),
            )
        )
    if is_url(text) and not text.startswith("file://"):
        return read_jsonl(text, task, invalid_lines=invalid_lines or "error", **kwargs)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if os.path.isdir(text) or os.path.basename(text) == MLTABLE_FILE:
        return read_mltable(text, task, invalid_lines=invalid_lines, **kwargs)
    if not os.path.exists(text):
        raise DataError(Problem("data path not found", file=text))
    return read_jsonl(text, task, invalid_lines=invalid_lines or "error", **kwargs)


def _invalid_lines_of(path: str, datastores: Mapping[str, str] | None) -> str:
    if os.path.isdir(path) or os.path.basename(path) == MLTABLE_FILE:
        return parse_mltable(path, datastores=datastores).invalid_lines
    return "error"


def _resolve(spec: Any, path: str) -> str:
    if is_url(path) or path.startswith("azureml:"):
        return path
    resolver = getattr(spec, "resolve_path", None)
    if callable(resolver):
        return os.fspath(resolver(path))
    source = getattr(spec, "source_path", None)
    base = os.path.dirname(os.fspath(source)) if source else os.getcwd()
    return os.path.normpath(os.path.join(base, os.path.expanduser(path)))


def _first_record_with(data: LabeledImages, name: str) -> Problem:
    for record in data.records:
        if name in record.class_names:
            file, _, line = (record.source or "").rpartition(":")
            return Problem(
                f"label {name!r} is in the validation data but not in the training data",
                file=file or data.source,
                line=int(line) if line.isdigit() else None,
                path="label",
            )
    return Problem(f"label {name!r} is in the validation data only", file=data.source)


def _apply_image_checks(
    data: LabeledImages, mode: str, problems: list[Problem], progress: Any
) -> LabeledImages:
    found = _check_images(data, decode=True, progress=progress)
    if not found:
        return data
    if mode == "error":
        problems.extend(found)
        return data
    bad = {(p.file, p.line) for p in found}
    keep = []
    for index, record in enumerate(data.records):
        file, _, line = (record.source or "").rpartition(":")
        if (file, int(line) if line.isdigit() else None) not in bad:
            keep.append(index)
    kept = data.subset(keep)
    kept.dropped = [*data.dropped, *found]
    kept.warnings = list(data.warnings)
    return kept


def _check_all_images(
    loaded: dict[str, LabeledImages], modes: dict[str, str], progress: Any
) -> None:
    problems: list[Problem] = []
    for key in loaded:
        loaded[key] = _apply_image_checks(loaded[key], modes[key], problems, progress)
    if problems:
        raise DataError(
            capped_problems(problems), header=f"{len(problems)} image(s) missing or broken"
        )


def _check_enough(train: LabeledImages) -> None:
    if len(train) >= MIN_TRAINING_IMAGES:
        return
    broken = sum(1 for p in train.dropped if p.path == "image_url")
    usable = " usable" if broken else ""
    after = f" after dropping {broken} broken image(s)" if broken else ""
    raise DataError(
        Problem(
            f"training data has {len(train)}{usable} image(s){after}; at least "
            f"{MIN_TRAINING_IMAGES} are needed",
            file=train.source,
            path="training_data",
        )
    )


def _one_class_warning(train: LabeledImages, target: str) -> Problem:
    return Problem(
        f"the training data has one class ({train.labels[0]!r}): every prediction will be "
        "that class",
        file=train.source,
        path=target,
    )


def load_job_data(
    spec: Any,
    *,
    datastores: Mapping[str, str] | None = None,
    check_images: bool = False,
    progress: bool | Callable[[int, int], None] = False,
) -> tuple[LabeledImages, LabeledImages]:
    """Read a job's training and validation data and apply the job-level checks.

    The training data is ``spec.training_data``; validation data is
    ``spec.validation_data`` when given, else a seeded split of ``validation_data_size``
    (stratified for classification; the seed is ``training_parameters.random_seed`` when
    set). Relative data paths are relative to the job YAML's folder.

    Args:
        spec: A :class:`automl_nb.config.JobSpec`.
        datastores: ``{datastore name: local folder}`` for ``azureml://`` URIs; defaults to
            the ``AUTOML_NB_DATASTORES`` environment variable.
        check_images: Also decode every image fully (truncated files and decompression
            bombs are caught). Broken images are errors, or are dropped where the data says
            ``invalid_lines: drop``.
        progress: Image-check progress: ``True`` prints it on stderr for large sets, a
            callable gets ``(done, total)``.

    Returns:
        ``(train, valid)``, both with the same sorted ``labels`` (the training classes).
        ``train.warnings`` lists legal but suspicious input of both (the same image on two
        lines, a classification job with one class).

    Raises:
        DataError: Unreadable or invalid data, fewer than 10 training images, labels that
            only the validation data has, or broken images; all problems are listed.
    """
    task = as_task(spec.task)
    target = getattr(spec, "target_column_name", None) or "label"
    if spec.training_data is None:
        raise DataError(Problem("the job has no training_data", path="training_data"))
    inputs = {"training_data": spec.training_data}
    if spec.validation_data is not None:
        inputs["validation_data"] = spec.validation_data
    loaded: dict[str, LabeledImages] = {}
    modes: dict[str, str] = {}
    problems: list[Problem] = []
    for key, data_input in inputs.items():
        path = _resolve(spec, str(data_input.path))
        try:
            loaded[key] = read_dataset(path, task, target_column=target, datastores=datastores)
            modes[key] = _invalid_lines_of(path, datastores)
        except DataError as exc:
            header = [Problem(exc.header)] if exc.header else []
            problems.extend([*header, *exc.problems])
    if problems:
        raise DataError(problems, header="the job's data is invalid")

    if check_images:
        _check_all_images(loaded, modes, progress)
    train = loaded["training_data"]
    warnings = [w for data in loaded.values() for w in data.warnings]
    _check_enough(train)
    if "validation_data" in loaded:
        valid = loaded["validation_data"]
    else:
        params = getattr(spec, "training_parameters", None)
        seed = getattr(params, "random_seed", None)
        size = getattr(spec, "validation_data_size", None) or 0.2
        train, valid = split_validation(train, size, seed=seed)

    # The model's classes are the training classes; validation may only use those.
    labels = sorted(train.label_counts())
    unknown = sorted(set(valid.label_counts()) - set(labels))
    if unknown:
        raise DataError([_first_record_with(valid, name) for name in unknown])
    train.labels = list(labels)
    valid.labels = list(labels)
    if task is Task.CLASSIFICATION and len(labels) == 1:
        warnings.append(_one_class_warning(train, target))
    train.warnings, valid.warnings = warnings, []
    return train, valid
