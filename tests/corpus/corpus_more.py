"""Corpus cases for the SDK builders, the converters, model folders and scoring requests."""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from corpus_cases import PRECIOUS
from corpus_cases import WHERE
from corpus_cases import Case
from corpus_cases import Run
from corpus_files import BROKEN_IMAGES
from corpus_files import TASKS
from corpus_files import alias_bomb
from corpus_files import png_bytes
from corpus_files import write_jsonl

# -- SDK builders ----------------------------------------------------------------------------

_SDK_BAD: dict[str, tuple[dict[str, Any], str]] = {
    "data-number": ({"training_data": 5}, "training_data"),
    "data-type": ({"training_data": {"path": "d", "type": "bogus"}}, "training_data.type"),
    "metric": ({"primary_metric": "iou"}, "primary_metric"),
    "validation-size": ({"validation_data_size": 2}, "validation_data_size"),
    "validation-size-text": ({"validation_data_size": "x"}, "validation_data_size"),
    "unknown-argument": ({"trainin_data": "x"}, "trainin_data"),
    "tags": ({"tags": 5}, "tags"),
}
_SDK_CALLS: dict[str, tuple[str, dict[str, Any], str]] = {
    "max-trials": ("set_limits", {"max_trials": -1}, "limits.max_trials"),
    "lr-text": ("set_training_parameters", {"learning_rate": "x"}, "learning_rate"),
    "unknown-parameter": ("set_training_parameters", {"lr": 5}, "training_parameters.lr"),
    "epochs": ("set_training_parameters", {"number_of_epochs": 0}, "number_of_epochs"),
    "sampling": ("set_sweep", {"sampling_algorithm": "bogus"}, "sweep.sampling_algorithm"),
}


def sdk_cases() -> Iterator[Case]:
    """Bad arguments to the Azure-SDK-style builders."""
    from automl_nb.config import image_classification

    base = {"training_data": "data", "target_column_name": "label"}
    for name, (kwargs, expect) in _SDK_BAD.items():

        def build(folder: Path, _: Any, kwargs=kwargs, expect=expect) -> Run:
            return Run(call=lambda: image_classification(**{**base, **kwargs}), expect=(expect,))

        yield Case(f"sdk-{name}", build)
    for name, (method, kwargs, expect) in _SDK_CALLS.items():

        def build_call(folder: Path, _: Any, method=method, kwargs=kwargs, expect=expect) -> Run:
            job = image_classification(**base)
            return Run(call=lambda: getattr(job, method)(**kwargs).to_spec(), expect=(expect,))

        yield Case(f"sdk-{name}", build_call)
    # Defects of the builders (outside the data layer), kept visible as expected failures.
    yield Case(
        "sdk-target-column-number",
        lambda folder, _: Run(
            call=lambda: image_classification(training_data="d", target_column_name=5),
            expect=("target_column_name",),
        ),
    )
    yield Case(
        "sdk-set-limits-typo",
        lambda folder, _: Run(
            call=lambda: image_classification(**base).set_limits(max_trails=3),
            expect=("max_trails",),
        ),
    )


# -- converters ------------------------------------------------------------------------------


def _coco_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}],
        "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4]}],
        "categories": [{"id": 1, "name": "cat"}],
    }
    doc.update(changes)
    return doc


def _ann(**changes: Any) -> list[dict[str, Any]]:
    return [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4], **changes}]


_COCO_BAD: dict[str, tuple[Any, tuple[str, ...]]] = {
    "bbox-strings": (_coco_doc(annotations=_ann(bbox=["a", 1, 4, 4])), ("annotations[0]", "bbox")),
    "bbox-number": (_coco_doc(annotations=_ann(bbox=5)), ("annotations[0]", "bbox")),
    "bbox-nan": (_coco_doc(annotations=_ann(bbox=[1, 1, "nan", 4])), ("annotations[0]",)),
    "negative-width": (_coco_doc(annotations=_ann(bbox=[5, 1, -4, 4])), ("negative",)),
    "negative-height": (_coco_doc(annotations=_ann(bbox=[1, 5, 4, -4])), ("negative",)),
    "rle-empty": (
        _coco_doc(annotations=_ann(segmentation={"size": [8, 8], "counts": ""})),
        ("annotations[0]", "RLE"),
    ),
    "rle-short": (
        _coco_doc(annotations=_ann(segmentation={"size": [8, 8], "counts": [5, 5]})),
        ("annotations[0]", "RLE"),
    ),
    "rle-garbage": (
        _coco_doc(annotations=_ann(segmentation={"size": [8, 8], "counts": "garbage!!"})),
        ("annotations[0]", "RLE"),
    ),
    "rle-negative": (
        _coco_doc(annotations=_ann(segmentation={"size": [8, 8], "counts": [-3, 67]})),
        ("annotations[0]", "RLE"),
    ),
    "rle-size": (
        _coco_doc(annotations=_ann(segmentation={"size": "8x8", "counts": [64]})),
        ("annotations[0]", "RLE size"),
    ),
    "polygon-strings": (
        _coco_doc(annotations=_ann(segmentation=[["a", 1, 2, 2, 3, 1]])),
        ("annotations[0]", "segmentation"),
    ),
    "duplicate-image-id": (
        _coco_doc(images=[{"id": 1, "file_name": "a.png"}, {"id": 1, "file_name": "b.png"}]),
        ("images[1].id",),
    ),
    "image-not-object": (_coco_doc(images=[5]), ("images[0]",)),
    "annotation-not-object": (_coco_doc(annotations=["x"]), ("annotations[0]",)),
    "annotations-mapping": (_coco_doc(annotations={"a": 1}), ("annotations",)),
    "width-text": (
        _coco_doc(images=[{"id": 1, "file_name": "a.png", "width": "wide"}]),
        ("images[0]", "width"),
    ),
    "no-images": ({"annotations": []}, ("images",)),
    "not-json": ("{oops", ("instances.json:1", "not valid JSON")),
    "truncated": (json.dumps(_coco_doc())[:40], ("instances.json:1",)),
    "deep": ("[" * 100_000 + "]" * 100_000, ("instances.json",)),
}

_VOC_BOX = "<object><name>cat</name><bndbox>{}</bndbox></object>"
_VOC_BAD: dict[str, tuple[str, tuple[str, ...]]] = {
    "xmin-gt-xmax": ("<xmin>6</xmin><ymin>1</ymin><xmax>2</xmax><ymax>6</ymax>", ("inverted",)),
    "ymin-gt-ymax": ("<xmin>1</xmin><ymin>6</ymin><xmax>6</xmax><ymax>2</ymax>", ("inverted",)),
    "nan": ("<xmin>nan</xmin><ymin>1</ymin><xmax>6</xmax><ymax>6</ymax>", ("finite",)),
    "inf": ("<xmin>1</xmin><ymin>1</ymin><xmax>inf</xmax><ymax>6</ymax>", ("finite",)),
}

_YOLO_BAD: dict[str, tuple[str, tuple[str, ...]]] = {
    "class-1.5": ("1.5 0.5 0.5 0.2 0.2\n", ("a.txt:1", "class")),
    "class-negative": ("-1 0.5 0.5 0.2 0.2\n", ("a.txt:1", "class")),
    "class-nan": ("nan 0.5 0.5 0.2 0.2\n", ("a.txt:1", "class")),
    "nan-coordinate": ("0 0.5 nan 0.2 0.2\n", ("a.txt:1", "nan")),
    "inf-coordinate": ("0 0.5 0.5 inf 0.2\n", ("a.txt:1", "inf")),
    "second-line": ("0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 nan\n", ("a.txt:2",)),
}

_CSV_BAD: dict[str, tuple[str, tuple[str, ...]]] = {
    "no-file-column": ("picture,labels\na.png,cat\n", ("labels.csv:1", "header")),
    "unknown-header": ("pic,lbl\na.png,cat\nb.png,dog\n", ("labels.csv:1", "header")),
    "onehot-text": ("filename,lbl\na.png,cat\n", ("labels.csv:2", "lbl")),
    "empty": ("", ("labels.csv", "empty")),
}


def _convert_run(folder: Path, fmt: str, src: Path, expect: tuple[str, ...]) -> Run:
    out = folder / "out.jsonl"
    out.write_text(PRECIOUS)
    return Run(argv=["convert", fmt, str(src), "-o", str(out)], expect=expect, untouched=(out,))


def converter_cases() -> Iterator[Case]:
    """Bad COCO, VOC, YOLO, CSV, folder and mask sources; the output file must survive."""
    for name, (doc, expect) in _COCO_BAD.items():

        def coco(folder: Path, _: Any, doc=doc, expect=expect) -> Run:
            for image in ("a.png", "b.png"):
                (folder / image).write_bytes(png_bytes(8))
            src = folder / "instances.json"
            src.write_text(doc if isinstance(doc, str) else json.dumps(doc))
            return _convert_run(folder, "coco", src, ("instances.json", *expect))

        yield Case(f"convert-coco-{name}", coco)
    for name, (box, expect) in _VOC_BAD.items():

        def voc(folder: Path, _: Any, box=box, expect=expect) -> Run:
            (folder / "JPEGImages").mkdir()
            (folder / "JPEGImages" / "a.png").write_bytes(png_bytes(8))
            (folder / "Annotations").mkdir()
            xml = f"<annotation><filename>a.png</filename>{_VOC_BOX.format(box)}</annotation>"
            (folder / "Annotations" / "a.xml").write_text(xml)
            return _convert_run(folder, "voc", folder, ("a.xml", "object[0]", *expect))

        yield Case(f"convert-voc-{name}", voc)
    for name, (text, expect) in _YOLO_BAD.items():

        def yolo(folder: Path, _: Any, text=text, expect=expect) -> Run:
            (folder / "a.png").write_bytes(png_bytes(8))
            (folder / "a.txt").write_text(text)
            (folder / "classes.txt").write_text("cat\ndog\n")
            return _convert_run(folder, "yolo", folder, expect)

        yield Case(f"convert-yolo-{name}", yolo)

    def yolo_bomb(folder: Path, _: Any) -> Run:
        (folder / "a.png").write_bytes(png_bytes(8))
        (folder / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
        (folder / "data.yaml").write_text("names: *a9\n" + alias_bomb(9, 9))
        return _convert_run(folder, "yolo", folder, ("data.yaml",))

    def yolo_bomb_names(folder: Path, _: Any) -> Run:
        (folder / "a.png").write_bytes(png_bytes(8))
        (folder / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
        (folder / "data.yaml").write_text(alias_bomb(9, 9) + "names: *a9\n")
        return _convert_run(folder, "yolo", folder, ("data.yaml", "aliases"))

    yield Case("convert-yolo-yaml-undefined-alias", yolo_bomb)
    yield Case("convert-yolo-yaml-alias-bomb", yolo_bomb_names)
    for name, (text, expect) in _CSV_BAD.items():

        def csv(folder: Path, _: Any, text=text, expect=expect) -> Run:
            (folder / "a.png").write_bytes(png_bytes(8))
            (folder / "b.png").write_bytes(png_bytes(8))
            (folder / "labels.csv").write_text(text)
            return _convert_run(folder, "csv", folder / "labels.csv", expect)

        yield Case(f"convert-csv-{name}", csv)
    yield from _converter_misc_cases()


def _converter_misc_cases() -> Iterator[Case]:
    def empty_folder(folder: Path, _: Any) -> Run:
        (folder / "src").mkdir()
        return _convert_run(folder, "folder", folder / "src", ("src",))

    def masks_missing(folder: Path, _: Any) -> Run:
        (folder / "src").mkdir()
        return _convert_run(folder, "masks", folder / "src", ("src",))

    def unknown_format(folder: Path, _: Any) -> Run:
        return _convert_run(folder, "vocc", folder, ("vocc", "voc"))

    def output_is_folder(folder: Path, _: Any) -> Run:
        (folder / "cat").mkdir()
        (folder / "cat" / "1.png").write_bytes(png_bytes(8))
        (folder / "out").mkdir()
        return Run(
            argv=["convert", "folder", str(folder), "-o", str(folder / "out")], expect=("out",)
        )

    def export_bad_jsonl(folder: Path, _: Any) -> Run:
        src = write_jsonl(folder, TASKS[2], '{"image_url": 5}')
        target = folder / "out.json"
        target.write_text(PRECIOUS)
        return Run(
            argv=["convert", "coco", str(src), "-o", str(target), "--task", TASKS[2]],
            expect=(WHERE, "image_url"),
            untouched=(target,),
        )

    yield Case("convert-folder-empty", empty_folder)
    yield Case("convert-masks-no-masks", masks_missing)
    yield Case("convert-unknown-format", unknown_format)
    yield Case("convert-output-is-folder", output_is_folder)
    yield Case("convert-export-bad-jsonl", export_bad_jsonl)


# -- model folders and prediction inputs -----------------------------------------------------


class _RunsCode:
    """Pickles to a call of ``os.system``: what a tampered model file may hold."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105
        import os

        return (os.system, (f"touch {self.marker}",))


def _tamper(folder: Path, name: str, marker: Path) -> tuple[str, ...]:
    """Break the model folder ``folder`` the way ``name`` says; return the expected text."""
    import torch

    model = folder / "model.pt"
    if name == "garbage":
        model.write_bytes(b"garbage" * 100)
    elif name == "empty":
        model.write_bytes(b"")
    elif name == "pickle-code":
        model.write_bytes(pickle.dumps(_RunsCode(marker)))
    elif name == "torch-code":
        torch.save({"state_dict": {}, "x": _RunsCode(marker)}, model)
    elif name == "truncated":
        model.write_bytes(model.read_bytes()[:2000])
    elif name == "not-a-dict":
        torch.save([1, 2, 3], model)
    elif name == "wrong-shapes":
        torch.save({"state_dict": {"fc.weight": torch.zeros(2, 2)}, "model_name": "resnet18",
                    "task": "image_classification", "num_classes": 3}, model)  # fmt: skip
    elif name == "unknown-model":
        payload = torch.load(model, weights_only=True)
        torch.save({**payload, "model_name": "resnet9000"}, model)
    elif name == "bad-task":
        payload = torch.load(model, weights_only=True)
        torch.save({**payload, "task": "image_painting"}, model)
    elif name == "num-classes-text":
        payload = torch.load(model, weights_only=True)
        torch.save({**payload, "num_classes": "three"}, model)
    elif name == "model-is-folder":
        model.unlink()
        model.mkdir()
    elif name in ("labels-missing", "labels-not-list", "labels-count", "labels-binary"):
        labels = folder / "labels.json"
        content = {"labels-not-list": b'{"a": 1}', "labels-count": b'["a"]'}.get(name)
        if name == "labels-missing":
            labels.unlink()
        else:
            labels.write_bytes(content or bytes(range(256)))
        return ("labels.json",) if name != "labels-count" else ("labels",)
    elif name in ("settings-invalid", "settings-list", "settings-deep"):
        text = {"settings-invalid": "{oops", "settings-list": "[1]"}.get(name)
        (folder / "settings.json").write_text(text or "[" * 100_000 + "]" * 100_000)
        return ("settings.json",)
    return ("model.pt",)


_TAMPERED = (
    "garbage",
    "empty",
    "pickle-code",
    "torch-code",
    "truncated",
    "not-a-dict",
    "wrong-shapes",
    "unknown-model",
    "bad-task",
    "num-classes-text",
    "model-is-folder",
    "labels-missing",
    "labels-not-list",
    "labels-count",
    "labels-binary",
    "settings-invalid",
    "settings-list",
    "settings-deep",
)


def model_cases() -> Iterator[Case]:
    """Tampered model folders in predict and explain; broken images in predict and explain."""
    for verb in ("predict", "explain"):
        for name in _TAMPERED if verb == "predict" else _TAMPERED[:6]:

            def build(folder: Path, context: Any, name=name, verb=verb) -> Run:
                model = folder / "model"
                shutil.copytree(context.model_dir, model)
                marker = folder / "code-ran"
                expect = _tamper(model, name, marker)
                image = folder / "a.png"
                image.write_bytes(png_bytes(32))
                argv = [verb, str(model), str(image), "--device", "cpu"]
                if verb == "explain":
                    argv += ["--out", str(folder / "out")]
                return Run(argv=argv, expect=expect, forbidden=(marker,))

            yield Case(f"{verb}-model-{name}", build)
        for kind, content in {**BROKEN_IMAGES, "missing": None}.items():

            def image_case(folder: Path, context: Any, verb=verb, content=content) -> Run:
                image = folder / "broken.png"
                if content is not None:
                    image.write_bytes(content)
                argv = [verb, str(context.model_dir), str(image), "--device", "cpu"]
                if verb == "explain":
                    argv += ["--out", str(folder / "out"), "--n-steps", "2"]
                return Run(argv=argv, expect=("broken.png",))

            yield Case(f"{verb}-image-{kind}", image_case)

    def out_is_file(folder: Path, context: Any) -> Run:
        image, out = folder / "a.png", folder / "report.txt"
        image.write_bytes(png_bytes(32))
        out.write_text(PRECIOUS)
        argv = ["explain", str(context.model_dir), str(image), "--out", str(out)]
        return Run(argv=argv, expect=("report.txt",), untouched=(out,))

    def n_steps(folder: Path, context: Any, value: str = "0") -> Run:
        image = folder / "a.png"
        image.write_bytes(png_bytes(32))
        argv = ["explain", str(context.model_dir), str(image), "--n-steps", value]
        return Run(argv=[*argv, "--out", str(folder / "o")], expect=("--n-steps",))

    def missing_folder(folder: Path, context: Any) -> Run:
        return Run(argv=["predict", str(folder / "nope"), "x.png"], expect=("nope",))

    yield Case("explain-out-is-a-file", out_is_file)
    yield Case("explain-n-steps-0", n_steps)
    yield Case("explain-n-steps-huge", lambda f, c: n_steps(f, c, "100000000"))
    yield Case("predict-model-folder-missing", missing_folder)
