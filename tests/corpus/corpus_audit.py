"""Corpus cases from the second bad-input audit: special files (FIFOs, devices, dangling
links), outputs that would overwrite their source, tampered model settings, strict scoring
bodies, command-line values out of range, and the converters' unreadable inputs."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpus_cases import PRECIOUS
from corpus_cases import Case
from corpus_cases import Run
from corpus_files import TASKS
from corpus_files import bomb_png
from corpus_files import good_line
from corpus_files import job_text
from corpus_files import png_bytes
from corpus_files import write_images
from corpus_files import write_job
from corpus_files import write_jsonl
from PIL import Image

_SPECIAL: dict[str, Any] = {
    "fifo": lambda path: os.mkfifo(path),
    "dev-zero": lambda path: os.symlink("/dev/zero", path),
    "dangling-link": lambda path: os.symlink(path.parent / "gone", path),
}


def _validate(folder: Path, *expect: str, images: bool = False) -> Run:
    argv = ["validate", str(folder / "job.yml")]
    return Run(argv=argv if images else [*argv, "--no-images"], expect=expect)


def special_file_cases() -> Iterator[Case]:
    """A FIFO, ``/dev/zero`` or a dangling link where a job, JSONL, MLTable or image should be:
    each is refused by name at once (a reader would block or never end)."""
    for kind, make in _SPECIAL.items():

        def job(folder: Path, _: Any, make=make) -> Run:
            write_jsonl(folder, TASKS[0])
            make(folder / "job.yml")
            return _validate(folder, "job.yml")

        def jsonl(folder: Path, _: Any, make=make) -> Run:
            write_job(folder, TASKS[0])
            make(folder / "train.jsonl")
            return _validate(folder, "train.jsonl")

        def image(folder: Path, _: Any, make=make) -> Run:
            write_images(folder)
            write_jsonl(folder, TASKS[2])
            write_job(folder, TASKS[2])
            target = folder / "images" / "004.png"
            target.unlink()
            make(target)
            return _validate(folder, "train.jsonl:5", "image_url", images=True)

        def predict(folder: Path, context: Any, make=make) -> Run:
            make(folder / "p.png")
            argv = ["predict", str(context.model_dir), str(folder / "p.png"), "--device", "cpu"]
            return Run(argv=argv, expect=("p.png",))

        def check(folder: Path, _: Any, make=make) -> Run:
            write_images(folder)
            write_jsonl(folder, TASKS[0])
            (folder / "images" / "004.png").unlink()
            make(folder / "images" / "004.png")
            return Run(argv=["check", str(folder / "train.jsonl")], expect=("004.png",))

        yield Case(f"job-file-{kind}", job)
        yield Case(f"jsonl-file-{kind}", jsonl)
        yield Case(f"image-det-{kind}", image)
        yield Case(f"predict-image-{kind}", predict)
        yield Case(f"check-image-{kind}", check)
    for kind in ("fifo", "dev-zero"):

        def names(folder: Path, _: Any, kind=kind) -> Run:
            (folder / "a.png").write_bytes(png_bytes(8))
            (folder / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
            _SPECIAL[kind](folder / "classes.txt")
            out = folder / "out.jsonl"
            out.write_text(PRECIOUS)
            argv = ["convert", "yolo", str(folder), "-o", str(out)]
            return Run(argv=argv, expect=("classes.txt",), untouched=(out,))

        def csv(folder: Path, _: Any, kind=kind) -> Run:
            _SPECIAL[kind](folder / "labels.csv")
            out = folder / "out.jsonl"
            out.write_text(PRECIOUS)
            argv = ["convert", "csv", str(folder / "labels.csv"), "-o", str(out)]
            return Run(argv=argv, expect=("labels.csv",), untouched=(out,))

        def folder_image(folder: Path, _: Any, kind=kind) -> Run:
            for name in ("cat", "dog"):
                (folder / "src" / name).mkdir(parents=True)
                (folder / "src" / name / "1.png").write_bytes(png_bytes(8))
            (folder / "src" / "cat" / "2.png").write_bytes(png_bytes(8))
            _SPECIAL[kind](folder / "src" / "dog" / "2.png")
            argv = ["convert", "folder", str(folder / "src"), "-o", str(folder / "o.jsonl")]
            return Run(argv=argv)

        yield Case(f"convert-csv-{kind}", csv)
        if kind == "fifo":
            # A special file among good images is skipped by name in the report (exit 0).
            yield Case(f"good-convert-folder-image-{kind}", folder_image, good=True)

    def mltable(folder: Path, _: Any) -> Run:
        write_jsonl(folder, TASKS[0])
        (folder / "MLTable").write_text("paths:\n  - file: ./train.jsonl\n")
        (folder / "train.jsonl").unlink()
        os.mkfifo(folder / "train.jsonl")
        write_job(folder, TASKS[0], data=".", data_type="mltable")
        return _validate(folder, "train.jsonl")

    yield Case("mltable-file-fifo", mltable)


def _json_literal_cases() -> Iterator[Case]:
    """Literal NaN / Infinity (which Python's json reads) and control characters in a line."""
    for i, literal in enumerate(("NaN", "Infinity", "-Infinity", "1e999")):
        for task, key, field in (
            (TASKS[2], '"topX": 0.1', "topX"),
            (TASKS[0], '"width": 8', "width"),
        ):

            def build(
                folder: Path, _: Any, task=task, key=key, literal=literal, field=field
            ) -> Run:
                text = json.dumps(good_line(task, 4)).replace(
                    key, key.split(":")[0] + ": " + literal
                )
                write_jsonl(folder, task, text)
                write_job(folder, task)
                return _validate(folder, "train.jsonl:5", field)

            yield Case(f"jsonl-literal-{field}-{i}", build)

    def nul(folder: Path, _: Any) -> Run:
        write_jsonl(
            folder, TASKS[0], json.dumps({"image_url": "images/00\x004.png", "label": "cat"})
        )
        write_job(folder, TASKS[0])
        return _validate(folder, "train.jsonl:5", "image_url", "control character")

    yield Case("jsonl-cls-url-nul", nul)


def job_size_cases() -> Iterator[Case]:
    """A job YAML of tens of MB is refused by size (parsing it would take minutes)."""

    def huge(folder: Path, _: Any) -> Run:
        write_jsonl(folder, TASKS[0])
        (folder / "job.yml").write_text(
            "description: " + "x" * (2 << 20) + "\n" + job_text(TASKS[0])
        )
        return _validate(folder, "job.yml", "larger than 1 MB")

    yield Case("job-file-too-large", huge)


def _model_copy(folder: Path, context: Any) -> Path:
    model = folder / "model"
    shutil.copytree(context.model_dir, model)
    return model


_SETTINGS_BAD: dict[str, tuple[str, str]] = {
    "wrong-type": ('{"valid_crop_size": "big"}', "valid_crop_size"),
    "nan": ('{"valid_resize_size": NaN}', "valid_resize_size"),
    "huge": ('{"validation_crop_size": 100000000}', "valid_crop_size"),
    "threshold": ('{"box_score_thresh": 3}', "box_score_thresh"),
    "grid": ('{"tile_grid_size": "many"}', "tile_grid_size"),
}


def model_setting_cases() -> Iterator[Case]:
    """Tampered ``settings.json`` / ``labels.json`` values in predict, explain and export."""
    for verb in ("predict", "explain", "export"):
        broken = {f"settings-{k}": v for k, v in _SETTINGS_BAD.items()}
        broken["labels-repeated"] = ('["cat", "cat", "fox"]', "repeated")
        broken["settings-binary"] = ("\x80\x81\xfe", "settings.json")
        for name, (text, expect) in broken.items():

            def build(
                folder: Path, context: Any, verb=verb, name=name, text=text, expect=expect
            ) -> Run:
                model = _model_copy(folder, context)
                target = model / ("labels.json" if name.startswith("labels") else "settings.json")
                target.write_bytes(text.encode("latin-1"))
                image = folder / "a.png"
                image.write_bytes(png_bytes(32))
                if verb == "export":
                    argv = ["export", str(model), "-f", "torchscript", "-o", str(folder / "o")]
                else:
                    argv = [verb, str(model), str(image), "--device", "cpu"]
                if verb == "explain":
                    argv += ["--out", str(folder / "out"), "--n-steps", "2"]
                return Run(argv=argv, expect=(target.name, expect))

            yield Case(f"{verb}-{name}", build)

    def unknown_key(folder: Path, context: Any) -> Run:
        model = _model_copy(folder, context)
        settings = json.loads((model / "settings.json").read_text())
        (model / "settings.json").write_text(json.dumps({**settings, "box_scor_thresh": 0.3}))
        image = folder / "a.png"
        image.write_bytes(png_bytes(32))
        argv = ["predict", str(model), str(image), "--device", "cpu"]
        return Run(argv=argv)

    # An Azure folder may carry keys this version does not know: a warning, not a refusal.
    yield Case("good-predict-settings-unknown-key", unknown_key, good=True)


def option_cases() -> Iterator[Case]:
    """Command-line values out of range: each names its option."""
    options = {
        "predict-batch-zero": (["predict"], ["--batch-size", "0"], "--batch-size"),
        "predict-batch-negative": (["predict"], ["--batch-size", "-3"], "--batch-size"),
        "predict-device-bogus": (["predict"], ["--device", "tpu9"], "device"),
        "predict-device-cuda-9": (["predict"], ["--device", "cuda:9"], "device"),
        "explain-algorithm-empty": (["explain"], ["--algorithm", ","], "--algorithm"),
        "explain-threshold-2": (
            ["explain"],
            ["--confidence-score-threshold-multilabel", "2"],
            "confidence_score_threshold_multilabel",
        ),
        "explain-threshold-nan": (
            ["explain"],
            ["--confidence-score-threshold-multilabel", "nan"],
            "confidence_score_threshold_multilabel",
        ),
        "serve-port-huge": (["serve"], ["--port", "99999"], "--port"),
        "serve-port-negative": (["serve"], ["--port", "-1"], "--port"),
        "serve-max-body-zero": (["serve"], ["--max-body-mb", "0"], "--max-body-mb"),
        "serve-max-images-zero": (["serve"], ["--max-images", "0"], "--max-images"),
        "serve-timeout-negative": (["serve"], ["--request-timeout", "-1"], "--request-timeout"),
        "serve-timeout-inf": (["serve"], ["--request-timeout", "inf"], "--request-timeout"),
        "serve-concurrent-zero": (["serve"], ["--max-concurrent", "0"], "--max-concurrent"),
        "export-batch-zero": (
            ["export"],
            ["-f", "onnx", "-o", "OUT", "--batch-size", "0"],
            "--batch-size",
        ),
    }
    for name, (verb, extra, expect) in options.items():

        def build(folder: Path, context: Any, verb=verb, extra=extra, expect=expect) -> Run:
            image = folder / "a.png"
            image.write_bytes(png_bytes(32))
            extra = [str(folder / "o") if x == "OUT" else x for x in extra]
            if verb[0] in ("serve", "export"):
                argv = [verb[0], str(context.model_dir), *extra]
                if verb[0] == "serve":
                    argv += ["--no-auth", "--device", "cpu"]
            else:
                argv = [verb[0], str(context.model_dir), str(image), "--device", "cpu", *extra]
                if verb[0] == "explain":
                    argv += ["--out", str(folder / "out"), "--n-steps", "2"]
            return Run(argv=argv, expect=(expect,))

        yield Case(name, build)

    def port_in_use(folder: Path, context: Any) -> Run:
        import socket

        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        _HELD.append(holder)
        argv = [
            "serve",
            str(context.model_dir),
            "--port",
            str(port),
            "--no-auth",
            "--device",
            "cpu",
        ]
        return Run(argv=argv, expect=(f"127.0.0.1:{port}", "port"))

    yield Case("serve-port-in-use", port_in_use)


_HELD: list[Any] = []  # sockets that keep a port busy until the test process ends


def _coco(folder: Path) -> Path:
    (folder / "a.png").write_bytes(png_bytes(8))
    doc = {
        "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]}],
        "categories": [{"id": 1, "name": "cat"}],
    }
    src = folder / "instances.json"
    src.write_text(json.dumps(doc))
    return src


def converter_output_cases() -> Iterator[Case]:
    """Outputs that would overwrite the source or files already there; unreadable masks."""

    def coco_onto_source(folder: Path, _: Any) -> Run:
        src = _coco(folder)
        argv = ["convert", "coco", str(src), "-o", str(src)]
        return Run(argv=argv, expect=("instances.json", "overwrite the source"), untouched=(src,))

    def csv_onto_source(folder: Path, _: Any) -> Run:
        (folder / "a.png").write_bytes(png_bytes(8))
        src = folder / "labels.csv"
        src.write_text("filename,labels\na.png,cat\n")
        argv = ["convert", "csv", str(src), "-o", str(src)]
        return Run(argv=argv, expect=("labels.csv", "overwrite the source"), untouched=(src,))

    def export(fmt: str, kind: str):
        def build(folder: Path, _: Any) -> Run:
            write_images(folder)
            src = write_jsonl(folder, TASKS[2])
            out = folder / ("o.json" if fmt == "coco" else "outdir")
            kept: tuple[Path, ...] = ()
            if kind == "non-empty":
                (out / "labels").mkdir(parents=True)
                (out / "labels" / "000.txt").write_text(PRECIOUS)
                kept = (out / "labels" / "000.txt",)
            elif kind == "file":
                out.write_text(PRECIOUS)
                kept = (out,)
            else:
                out.mkdir()
            argv = ["convert", fmt, str(src), "-o", str(out), "--task", TASKS[2]]
            return Run(argv=argv, expect=(out.name,), untouched=kept)

        return build

    def masks(content: bytes, name: str):
        def build(folder: Path, _: Any) -> Run:
            (folder / "PNGImages").mkdir()
            (folder / "PedMasks").mkdir()
            Image.new("RGB", (16, 16)).save(folder / "PNGImages" / "a.png")
            (folder / "PedMasks" / "a_mask.png").write_bytes(content)
            out = folder / "out.jsonl"
            out.write_text(PRECIOUS)
            argv = ["convert", "masks", str(folder), "-o", str(out)]
            return Run(argv=argv, expect=("a_mask.png", "unreadable mask"), untouched=(out,))

        return build

    def one_class(folder: Path, _: Any) -> Run:
        (folder / "src" / "cat").mkdir(parents=True)
        for i in range(2):
            (folder / "src" / "cat" / f"{i}.png").write_bytes(png_bytes(8))
        argv = ["convert", "folder", str(folder / "src"), "-o", str(folder / "o.jsonl")]
        return Run(argv=argv, expect=("warning", "one class"))

    yield Case("convert-coco-output-is-source", coco_onto_source)
    yield Case("convert-csv-output-is-source", csv_onto_source)
    yield Case("convert-export-yolo-non-empty", export("yolo", "non-empty"))
    yield Case("convert-export-voc-non-empty", export("voc", "non-empty"))
    yield Case("convert-export-yolo-out-is-file", export("yolo", "file"))
    yield Case("convert-export-coco-out-is-folder", export("coco", "folder"))
    yield Case("convert-masks-garbage", masks(b"junk", "garbage"))
    yield Case("convert-masks-bomb", masks(bomb_png(), "bomb"))
    yield Case("good-convert-folder-one-class-warns", one_class, good=True)

    def names_missing(folder: Path, _: Any) -> Run:
        (folder / "a.png").write_bytes(png_bytes(8))
        (folder / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
        argv = ["convert", "yolo", str(folder), "-o", str(folder / "o.jsonl")]
        return Run(argv=[*argv, "--names", str(folder / "nope.names")], expect=("nope.names",))

    yield Case("convert-yolo-names-missing", names_missing)


def data_url_cases() -> Iterator[Case]:
    """URLs whose protocol needs a package that is not installed, or no protocol at all."""
    urls = {
        "http": "http://127.0.0.1:9/train.jsonl",
        "unknown-protocol": "nosuchproto://bucket/train.jsonl",
    }
    for name, url in urls.items():

        def build(folder: Path, _: Any, url=url) -> Run:
            (folder / "job.yml").write_text(job_text(TASKS[0], data=url))
            return _validate(folder, url.split("/")[-1])

        def mltable(folder: Path, _: Any, url=url) -> Run:
            (folder / "MLTable").write_text(f"paths:\n  - file: {url}\n")
            write_job(folder, TASKS[0], data=".", data_type="mltable")
            return _validate(folder, url.split("/")[-1])

        yield Case(f"job-data-url-{name}", build)
        yield Case(f"mltable-url-{name}", mltable)


def sdk_audit_cases() -> Iterator[Case]:
    """SDK builder calls the first corpus does not make."""
    from automl_nb.config import image_classification

    base = {"training_data": "data", "target_column_name": "label"}

    def not_a_space(folder: Path, _: Any) -> Run:
        job = image_classification(**base)
        return Run(call=lambda: job.extend_search_space([5]), expect=("search_space[0]",))

    def nan(folder: Path, _: Any) -> Run:
        job = image_classification(**base)
        return Run(
            call=lambda: job.set_training_parameters(learning_rate=float("nan")).to_spec(),
            expect=("learning_rate",),
        )

    yield Case("sdk-search-space-not-a-space", not_a_space)
    yield Case("sdk-learning-rate-nan", nan)


def audit_cases() -> Iterator[Case]:
    """Every case of this module."""
    yield from scoring_audit_cases()
    for group in (
        special_file_cases,
        _json_literal_cases,
        job_size_cases,
        model_setting_cases,
        option_cases,
        converter_output_cases,
        data_url_cases,
        sdk_audit_cases,
        coco_category_cases,
        csv_label_cases,
    ):
        for case in group():
            yield Case(f"{case.id.split('-')[0]}-audit-{case.id.split('-', 1)[1]}", case.build,
                       good=case.good, xfail=case.xfail)  # fmt: skip


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _item(**extra: Any) -> str:
    return json.dumps({"image_base64": _b64(png_bytes(16)), **extra})


def _body(*items: Any) -> str:
    return json.dumps({"input_data": {"columns": ["image"], "data": list(items)}})


_SCORING_AUDIT: dict[str, tuple[str, tuple[str, ...]]] = {
    "duplicate-key": (
        '{"input_data": {"data": ["x"]}, "input_data": {"data": ["y"]}}',
        ("input_data", "twice"),
    ),
    "item-duplicate-key": (
        _body('{"image_base64": "aGk=", "image_base64": "aGk="}'),
        ("data[0]", "twice"),
    ),
    "explainability-text": (_body(_item(model_explainability="yes")), ("model_explainability",)),
    "explainability-number": (_body(_item(model_explainability=1)), ("model_explainability",)),
    "item-unknown-key": (_body(_item(imag_base64="x")), ("imag_base64", "data[0]")),
    "visualizations-text": (
        _body(_item(model_explainability=True, xai_parameters={"visualizations": "yes"})),
        ("visualizations",),
    ),
    "attributions-number": (
        _body(_item(model_explainability=True, xai_parameters={"attributions": 2})),
        ("attributions",),
    ),
    "threshold-2": (
        _body(
            _item(
                model_explainability=True,
                xai_parameters={"confidence_score_threshold_multilabel": 2},
            )
        ),
        ("confidence_score_threshold_multilabel",),
    ),
    "threshold-text": (
        _body(
            _item(
                model_explainability=True,
                xai_parameters={"confidence_score_threshold_multilabel": "nan"},
            )
        ),
        ("confidence_score_threshold_multilabel",),
    ),
}


def scoring_audit_cases() -> Iterator[Case]:
    """Scoring bodies that were scored as something else than they say."""
    for name, (body, expect) in _SCORING_AUDIT.items():

        def build(folder: Path, context: Any, body=body, expect=expect) -> Run:
            server = context.server  # loaded here, outside the case's time limit
            return Run(call=lambda: server.score(body), expect=expect, status=400)

        yield Case(f"score-audit-{name}", build)


def coco_category_cases() -> Iterator[Case]:
    """Two COCO categories with one id: which class an annotation has would be a guess."""

    def duplicate(folder: Path, _: Any) -> Run:
        src = _coco(folder)
        doc = json.loads(src.read_text())
        doc["categories"] = [{"id": 1, "name": "cat"}, {"id": 1, "name": "dog"}]
        src.write_text(json.dumps(doc))
        out = folder / "out.jsonl"
        out.write_text(PRECIOUS)
        argv = ["convert", "coco", str(src), "-o", str(out)]
        return Run(argv=argv, expect=("instances.json", "categories[1].id"), untouched=(out,))

    yield Case("convert-coco-category-id-twice", duplicate)


def csv_label_cases() -> Iterator[Case]:
    """A CSV whose quote never closes, or whose class name holds a NUL: the rows after it
    would become part of one class name."""
    texts = {
        "unclosed-quote": 'filename,labels\na.png,"cat\nb.png,dog\n',
        "nul-in-label": "filename,labels\na.png,c\x00at\nb.png,dog\n",
    }
    for name, text in texts.items():

        def build(folder: Path, _: Any, text=text) -> Run:
            for image in ("a.png", "b.png"):
                (folder / image).write_bytes(png_bytes(8))
            (folder / "labels.csv").write_text(text)
            out = folder / "out.jsonl"
            out.write_text(PRECIOUS)
            argv = ["convert", "csv", str(folder / "labels.csv"), "-o", str(out)]
            return Run(argv=argv, expect=("labels.csv:2", "labels"), untouched=(out,))

        yield Case(f"convert-csv-{name}", build)
