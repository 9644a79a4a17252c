"""The bad-input corpus: every case writes its inputs into a fresh folder and says how to run
them and what a good answer names.

A case's :class:`Run` is a CLI command (run in-process through ``automl_nb.cli.main``, or as
a real subprocess when ``subprocess`` is set) or a call into the Python API. Bad inputs must
fail with a located message; ``good`` inputs (BOM, CRLF, ...) must be accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from corpus_files import BAD_LINE
from corpus_files import BROKEN_IMAGES
from corpus_files import MLTABLE_TEXT
from corpus_files import N_LINES
from corpus_files import TASKS
from corpus_files import alias_bomb
from corpus_files import good_label
from corpus_files import good_line
from corpus_files import job_text
from corpus_files import write_images
from corpus_files import write_job
from corpus_files import write_jsonl

PRECIOUS = "already written: must survive a failed command\n"
WHERE = f"train.jsonl:{BAD_LINE}"


@dataclass
class Run:
    """How to run one case and what its answer must hold.

    Attributes:
        argv: ``automl-vision`` arguments (the CLI cases).
        call: A Python API call (the SDK, scoring and reader cases).
        expect: Text the error message (or, for good inputs, stderr) must contain.
        untouched: Files whose content must be the same afterwards.
        forbidden: Files that must not exist afterwards (code from a file would make them).
        subprocess: Run ``argv`` as ``python -m automl_nb.cli`` in a real process.
        status: For scoring calls, the HTTP status the error must carry (0: any 4xx/503).
    """

    argv: list[str] | None = None
    call: Callable[[], Any] | None = None
    expect: tuple[str, ...] = ()
    untouched: tuple[Path, ...] = ()
    forbidden: tuple[Path, ...] = ()
    subprocess: bool = False
    status: int = 0


@dataclass(frozen=True)
class Case:
    """One corpus entry: ``build(folder, context)`` writes the inputs and returns the run."""

    id: str
    build: Callable[[Path, Any], Run]
    good: bool = False
    xfail: str | None = None
    marks: tuple[str, ...] = field(default=())


def _validate(folder: Path, *expect: str, images: bool = False) -> Run:
    argv = ["validate", str(folder / "job.yml")]
    return Run(argv=argv if images else [*argv, "--no-images"], expect=expect)


# -- JSONL lines: a wrong value in every field of every task ---------------------------------

_NUMBER_BAD: tuple[Any, ...] = (None, True, [], {}, "", "abc", -0.5, 1.5, "nan", "inf", [[[1]]])
_CROWD_BAD: tuple[Any, ...] = (2, "yes", [], {}, -1, 0.5)
_NAME_BAD: tuple[Any, ...] = (None, "", [], {}, True, 1.5)
_SIZE_BAD: tuple[Any, ...] = (0, -5, "abc", 1.5, True, "400pt", [])
_FORMAT_BAD: tuple[Any, ...] = ("gif", 5, [], "")
_URL_BAD: tuple[Any, ...] = (None, "", 5, [], {}, True)
_POLYGON_BAD: dict[str, Any] = {
    "null": None,
    "empty": [],
    "empty_segment": [[]],
    "one_point": [[0.1, 0.1]],
    "odd": [[0.1, 0.1, 0.2]],
    "flat": [[0.1, 0.1, 0.2, 0.2, 0.3, 0.3]],
    "text": [["a", 0.1, 0.2, 0.2, 0.3, 0.1]],
    "outside": [[0.1, 0.1, 2, 0.2, 0.3, 0.3]],
    "string": "0.1 0.1 0.2",
    "object": {},
}
_WHOLE_LABEL_BAD: dict[str, tuple[Any, ...]] = {
    "image_classification": (None, [], {}, True, "", 1.5, [{"a": 1}]),
    "image_classification_multilabel": (None, "x", {}, [None], [""], [[]], True),
    "image_object_detection": (None, "x", {}, [1], [[]], True, {"label": "a"}),
    "image_instance_segmentation": (None, "x", {}, [1], [[]], True, {"label": "a"}),
}


def _line_case(case_id: str, task: str, obj: Any, field_path: str | None) -> Case:
    def build(folder: Path, _: Any) -> Run:
        write_jsonl(folder, task, obj if isinstance(obj, str) else json.dumps(obj))
        write_job(folder, task)
        return _validate(folder, WHERE, *([field_path] if field_path else []))

    return Case(case_id, build)


def _with(task: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    line = good_line(task, BAD_LINE - 1)
    target: Any = line
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return line


def _short(task: str) -> str:
    return {
        "image_classification": "cls",
        "image_classification_multilabel": "multi",
        "image_object_detection": "det",
        "image_instance_segmentation": "seg",
    }[task]


def jsonl_field_cases() -> Iterator[Case]:
    """A wrong value in each field of each task's JSONL line."""
    for task in TASKS:
        t = _short(task)
        detection = task in ("image_object_detection", "image_instance_segmentation")
        if detection:
            for coord in ("topX", "topY", "bottomX", "bottomY"):
                for i, value in enumerate(_NUMBER_BAD):
                    obj = _with(task, ("label", 0, coord), value)
                    yield _line_case(f"jsonl-{t}-{coord}-{i}", task, obj, f"label[0].{coord}")
            for i, value in enumerate(_CROWD_BAD):
                obj = _with(task, ("label", 0, "isCrowd"), value)
                yield _line_case(f"jsonl-{t}-iscrowd-{i}", task, obj, "label[0].isCrowd")
            for i, value in enumerate(_NAME_BAD):
                obj = _with(task, ("label", 0, "label"), value)
                yield _line_case(f"jsonl-{t}-objlabel-{i}", task, obj, "label[0].label")
        if task == "image_instance_segmentation":
            for name, value in _POLYGON_BAD.items():
                obj = _with(task, ("label", 0, "polygon"), value)
                yield _line_case(f"jsonl-seg-polygon-{name}", task, obj, "label[0].polygon")
        for i, value in enumerate(_URL_BAD):
            obj = _with(task, ("image_url",), value)
            yield _line_case(f"jsonl-{t}-url-{i}", task, obj, "image_url")
        for key in ("width", "height"):
            for i, value in enumerate(_SIZE_BAD):
                obj = _with(task, ("image_details", key), value)
                yield _line_case(f"jsonl-{t}-{key}-{i}", task, obj, f"image_details.{key}")
        for i, value in enumerate(_FORMAT_BAD):
            obj = _with(task, ("image_details", "format"), value)
            yield _line_case(f"jsonl-{t}-format-{i}", task, obj, "image_details.format")
        for i, value in enumerate(("x", [], 5)):
            obj = _with(task, ("image_details",), value)
            yield _line_case(f"jsonl-{t}-details-{i}", task, obj, "image_details")
        for i, value in enumerate(_WHOLE_LABEL_BAD[task]):
            yield _line_case(f"jsonl-{t}-label-{i}", task, _with(task, ("label",), value), "label")


def jsonl_line_cases() -> Iterator[Case]:
    """Lines that are not a usable JSON object at all."""
    for task in TASKS:
        t = _short(task)
        label = json.dumps(good_label(task))
        lines: dict[str, tuple[str, str | None]] = {
            "array": ("[]", None),
            "string": ('"x"', None),
            "number": ("5", None),
            "null": ("null", None),
            "malformed": ("{oops", None),
            "truncated": ('{"image_url": ', None),
            "trailing-comma": ('{"image_url": "images/004.png",}', None),
            "duplicate-key": (
                f'{{"image_url": "images/004.png", "image_url": "images/005.png", '
                f'"label": {label}}}',
                "image_url",
            ),
            "deep-100000": ("[" * 100_000 + "]" * 100_000, None),
            "deep-40": (
                f'{{"image_url": "images/004.png", "label": {label}, "x": '
                + "[" * 40
                + "]" * 40
                + "}",
                None,
            ),
            "missing-label": ('{"image_url": "images/004.png"}', "label"),
            "missing-url": (f'{{"label": {label}}}', "image_url"),
        }
        for name, (text, field_path) in lines.items():
            yield _line_case(f"jsonl-{t}-line-{name}", task, text, field_path)


def jsonl_good_cases() -> Iterator[Case]:
    """Legal variants that must be accepted: BOM, CRLF, both; duplicates and one class warn."""
    variants = {
        "bom": {"prefix": b"\xef\xbb\xbf"},
        "crlf": {"newline": "\r\n"},
        "bom-crlf": {"prefix": b"\xef\xbb\xbf", "newline": "\r\n"},
    }
    for task in TASKS:
        for name, options in variants.items():

            def build(folder: Path, _: Any, task=task, options=options) -> Run:
                write_jsonl(folder, task, **options)
                write_job(folder, task)
                return _validate(folder)

            yield Case(f"good-jsonl-{_short(task)}-{name}", build, good=True)

    def duplicate(folder: Path, _: Any) -> Run:
        write_jsonl(folder, TASKS[0], json.dumps(good_line(TASKS[0], 0)))
        write_job(folder, TASKS[0])
        return Run(**{**_validate(folder).__dict__, "expect": ("warning:", WHERE, "image_url")})

    def one_class(folder: Path, _: Any) -> Run:
        lines = [good_line(TASKS[0], 0) | {"image_url": f"images/{i:03d}.png"} for i in range(12)]
        (folder / "train.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
        write_job(folder, TASKS[0])
        return Run(**{**_validate(folder).__dict__, "expect": ("warning:", "one class")})

    yield Case("good-jsonl-duplicate-line-warns", duplicate, good=True)
    yield Case("good-jsonl-one-class-warns", one_class, good=True)


_JSONL_FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "empty": (b"", ("train.jsonl", "no images")),
    "blank-lines": (b"\n\n  \n", ("train.jsonl", "no images")),
    "binary": (bytes(range(256)) * 8, ("train.jsonl:2", "cannot decode")),  # 1: \x00-\x09
    "utf16-no-bom": (
        "\n".join(json.dumps(good_line(TASKS[0], i)) for i in range(N_LINES)).encode("utf-16-le"),
        ("train.jsonl",),
    ),
    "latin1": (
        b'{"image_url": "images/\xe9.png", "label": "cat"}\n',
        ("train.jsonl:1", "cannot decode"),
    ),
    "one-long-line": (b"{" + b'"a": 1, ' * 200_000 + b'"b": 2}\n', ("train.jsonl:1",)),
}


def jsonl_file_cases() -> Iterator[Case]:
    """Whole JSONL files that are empty, binary or in the wrong encoding."""
    for name, (content, expect) in _JSONL_FILES.items():

        def build(folder: Path, _: Any, content=content, expect=expect) -> Run:
            (folder / "train.jsonl").write_bytes(content)
            write_job(folder, TASKS[0])
            return _validate(folder, *expect)

        yield Case(f"jsonl-file-{name}", build)

    def truncated(folder: Path, _: Any) -> Run:
        path = write_jsonl(folder, TASKS[2])
        path.write_bytes(path.read_bytes()[:-40])
        write_job(folder, TASKS[2])
        return _validate(folder, f"train.jsonl:{N_LINES}", "malformed JSON")

    yield Case("jsonl-file-truncated", truncated)


def image_cases() -> Iterator[Case]:
    """Broken image files behind a valid JSONL line: validate decodes every image."""
    kinds = {**BROKEN_IMAGES, "missing": None, "folder": "folder"}
    for task in (TASKS[0], TASKS[2]):
        for name, content in kinds.items():

            def build(folder: Path, _: Any, task=task, content=content) -> Run:
                write_images(folder)
                write_jsonl(folder, task)
                write_job(folder, task)
                target = folder / "images" / f"{BAD_LINE - 1:03d}.png"
                target.unlink()
                if content == "folder":
                    target.mkdir()
                elif content is not None:
                    target.write_bytes(content)
                return _validate(folder, WHERE, "image_url", images=True)

            yield Case(f"image-{_short(task)}-{name}", build)


# -- job YAML and MLTable files ---------------------------------------------------------------

_JOB_BAD: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "alias-bomb-9x9": (
        (job_text(TASKS[0]) + alias_bomb(9, 9)).encode(),
        ("job.yml:", "aliases expand"),
    ),
    "alias-count": (
        (job_text(TASKS[0]) + "a: &a x\nb: [" + ", ".join(["*a"] * 150) + "]\n").encode(),
        ("job.yml:5", "aliases"),
    ),
    "self-alias": (b"description: &a [*a]\n", ("job.yml:1", "cycle")),
    "mapping-cycle": (b"task: image_classification\nx: &a {b: *a}\n", ("job.yml:2", "cycle")),
    "deep-100000": (b"x: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", ("job.yml:1", "nested")),
    "deep-70": (b"x: " + b"[" * 70 + b"]" * 70 + b"\n", ("job.yml:1", "nested")),
    "binary": (bytes(range(256)) * 8, ("job.yml", "not a text file")),
    "utf16-no-bom": (job_text(TASKS[0]).encode("utf-16-le"), ("job.yml:1", "NUL")),
    "bad-utf8": (b"task: image_classification\ndescription: \xc3\x28\n", ("job.yml:2", "UTF-8")),
    "unclosed-bracket": (b"task: [image_classification\n", ("job.yml:", "invalid YAML")),
    "tab-indent": (b"training_data:\n\tpath: x\n", ("job.yml:2", "invalid YAML")),
    "bad-indent": (b"task: a\n  b: c\n", ("job.yml:2", "invalid YAML")),
    "duplicate-key": (
        (job_text(TASKS[0]) + "task: image_object_detection\n").encode(),
        ("job.yml:4", "task", "twice"),
    ),
    "top-level-list": (b"- task\n- x\n", ("job.yml",)),
    "top-level-scalar": (b"just text\n", ("job.yml",)),
    "empty": (b"", ("job.yml",)),
    "only-comment": (b"# nothing\n", ("job.yml",)),
    "typo-key": ((job_text(TASKS[0]) + "taks: x\n").encode(), ("job.yml:4", "taks")),
    "bad-task": (job_text("image_clasification").encode(), ("job.yml:1", "task")),
    "task-list": (b"task: [a]\ntarget_column_name: label\n", ("job.yml:1", "task")),
    "no-training-data": (b"task: image_classification\ntarget_column_name: label\n", ("job.yml",)),
    "data-type": (job_text(TASKS[0], data_type="bogus").encode(), ("job.yml:3", "type")),
    "lr-text": (
        (job_text(TASKS[0]) + "training_parameters: {learning_rate: fast}\n").encode(),
        ("job.yml:4", "learning_rate"),
    ),
    "lr-negative": (
        (job_text(TASKS[0]) + "training_parameters:\n  learning_rate: -1\n").encode(),
        ("job.yml:5", "learning_rate"),
    ),
    "validation-size": (
        (job_text(TASKS[0]) + "validation_data_size: 2\n").encode(),
        ("job.yml:4", "validation_data_size"),
    ),
    "epochs-list": (
        (job_text(TASKS[0]) + "training_parameters: {number_of_epochs: [1]}\n").encode(),
        ("job.yml:4", "number_of_epochs"),
    ),
    "data-missing": (job_text(TASKS[0], data="nowhere.jsonl").encode(), ("nowhere.jsonl",)),
}


def job_yaml_cases() -> Iterator[Case]:
    """Broken, hostile or invalid job YAML files."""
    for name, (content, expect) in _JOB_BAD.items():

        def build(folder: Path, _: Any, content=content, expect=expect) -> Run:
            write_jsonl(folder, TASKS[0])
            (folder / "job.yml").write_bytes(content)
            return _validate(folder, *expect)

        yield Case(f"job-{name}", build)

    def python_tag(folder: Path, _: Any) -> Run:
        marker = folder / "ran"
        text = job_text(TASKS[0]) + f'x: !!python/object/apply:os.system ["touch {marker}"]\n'
        (folder / "job.yml").write_text(text)
        write_jsonl(folder, TASKS[0])
        run = _validate(folder, "job.yml:4")
        run.forbidden = (marker,)
        return run

    yield Case("job-python-tag-never-runs", python_tag)
    good = {
        "bom": b"\xef\xbb\xbf" + job_text(TASKS[0]).encode(),
        "utf16-bom": job_text(TASKS[0]).encode("utf-16"),
        "crlf": job_text(TASKS[0]).replace("\n", "\r\n").encode(),
    }
    for name, content in good.items():

        def build_good(folder: Path, _: Any, content=content) -> Run:
            write_jsonl(folder, TASKS[0])
            (folder / "job.yml").write_bytes(content)
            return _validate(folder)

        yield Case(f"good-job-{name}", build_good, good=True)


_MLTABLE_BAD: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "alias-bomb": ((MLTABLE_TEXT + alias_bomb(9, 9)).encode(), ("MLTable:", "aliases expand")),
    "self-alias": (b"paths: &a [*a]\n", ("MLTable:1", "cycle")),
    "deep": (b"paths: " + b"[" * 100_000 + b"]" * 100_000, ("MLTable:1", "nested")),
    "binary": (bytes(range(256)) * 4, ("MLTable", "not a text file")),
    "utf16-no-bom": (MLTABLE_TEXT.encode("utf-16-le"), ("MLTable:1", "NUL")),
    "bad-utf8": (b"paths:\n  - file: \xff.jsonl\n", ("MLTable:2", "UTF-8")),
    "invalid-yaml": (b"paths: [\n", ("MLTable:", "invalid YAML")),
    "empty": (b"", ("MLTable",)),
    "list": (b"- file: x\n", ("MLTable",)),
    "no-paths": (b"transformations: []\n", ("MLTable", "paths")),
    "paths-mapping": (b"paths: {file: x}\n", ("MLTable:1", "paths")),
    "unknown-kind": (b"paths:\n  - fle: ./train.jsonl\n", ("MLTable:2", "fle")),
    "two-kinds": (b"paths:\n  - {file: a, folder: b}\n", ("MLTable:2", "paths[0]")),
    "file-missing": (b"paths:\n  - file: ./nope.jsonl\n", ("MLTable:2", "nope.jsonl")),
    "file-number": (b"paths:\n  - file: 5\n", ("MLTable:2", "paths[0].file")),
    "no-match": (b"paths:\n  - pattern: ./*.csv\n", ("MLTable:2", "pattern")),
    "encoding": (
        MLTABLE_TEXT.replace("utf8", "klingon").encode(),
        ("MLTable:5", "encoding"),
    ),
    "invalid-lines": (
        MLTABLE_TEXT.replace("invalid_lines: error", "invalid_lines: skip").encode(),
        ("MLTable:6", "invalid_lines"),
    ),
    "transformations-mapping": (
        b"paths:\n  - file: ./train.jsonl\ntransformations: {a: 1}\n",
        ("MLTable:3", "transformations"),
    ),
    "unknown-transformation": (
        b"paths:\n  - file: ./train.jsonl\ntransformations:\n  - read_csv: {}\n",
        ("MLTable:4", "read_csv"),
    ),
    "convert-bad": (
        MLTABLE_TEXT.encode() + b"  - convert_column_types: [5]\n",
        ("MLTable:7", "convert_column_types"),
    ),
    "option-typo": (
        MLTABLE_TEXT.replace("encoding:", "encodng:").encode(),
        ("MLTable:5", "encodng"),
    ),
}


def mltable_cases() -> Iterator[Case]:
    """Broken or hostile MLTable files behind a valid job."""
    for name, (content, expect) in _MLTABLE_BAD.items():

        def build(folder: Path, _: Any, content=content, expect=expect) -> Run:
            write_jsonl(folder, TASKS[0])
            (folder / "MLTable").write_bytes(content)
            write_job(folder, TASKS[0], data=".", data_type="mltable")
            return _validate(folder, *expect)

        yield Case(f"mltable-{name}", build)

    def crlf(folder: Path, _: Any) -> Run:
        write_jsonl(folder, TASKS[0], newline="\r\n")
        (folder / "MLTable").write_bytes(MLTABLE_TEXT.replace("\n", "\r\n").encode())
        write_job(folder, TASKS[0], data=".", data_type="mltable")
        return _validate(folder)

    yield Case("good-mltable-crlf", crlf, good=True)


def all_cases() -> list[Case]:
    """Every case of the corpus, ids unique."""
    from corpus_audit import audit_cases
    from corpus_more import converter_cases
    from corpus_more import model_cases
    from corpus_more import sdk_cases
    from corpus_requests import check_cases
    from corpus_requests import scoring_cases
    from corpus_requests import subprocess_cases

    groups = (
        jsonl_field_cases,
        jsonl_line_cases,
        jsonl_file_cases,
        jsonl_good_cases,
        image_cases,
        job_yaml_cases,
        mltable_cases,
        sdk_cases,
        converter_cases,
        model_cases,
        scoring_cases,
        check_cases,
        subprocess_cases,
        audit_cases,
    )
    cases = [case for group in groups for case in group()]
    ids = [case.id for case in cases]
    assert len(ids) == len(set(ids)), "corpus case ids must be unique"
    return cases


__all__ = ["N_LINES", "PRECIOUS", "Case", "Run", "all_cases"]
