"""The example notebooks run top to bottom in a real kernel, with tiny parameters, and write
their job folders."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Tiny values for each notebook's parameters cell (papermill style injection); the data is a
# small, evenly spread subset of the notebook's own bundled demo data.
TRAIN_IMAGES, VALIDATION_IMAGES = 12, 4
TINY = {
    "multiclass_classification": {"EPOCHS": 1, "IMAGE_SIZE": 32},
    "multilabel_classification": {"EPOCHS": 1, "IMAGE_SIZE": 32},
    "object_detection": {"EPOCHS": 1, "IMAGE_SIZE": 64},
    "instance_segmentation": {"EPOCHS": 1, "IMAGE_SIZE": 64},
    "sweep_early_termination": {"EPOCHS": 2, "IMAGE_SIZE": 32, "MAX_TRIALS": 2},
}


def test_every_example_notebook_is_listed_and_saved_clean():
    assert {p.stem for p in EXAMPLES.glob("*.ipynb")} == set(TINY)
    for name in TINY:
        book = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
        nbformat.validate(book)
        assert book.metadata.kernelspec.name == "python3"
        tagged = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1
        for key in [*TINY[name], "TRAIN_DATA", "VALIDATION_DATA", "WORKSPACE"]:
            assert f"{key} = " in tagged[0].source
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def _subset(source: Path, count: int, out: Path) -> str:
    """Every k-th line of a JSONL file, image paths made absolute; returns the new path."""
    lines = source.read_text(encoding="utf-8").splitlines()
    step = max(1, len(lines) // count)
    rows = [json.loads(line) for line in lines[::step][:count]]
    for row in rows:
        row["image_url"] = str(source.parent / row["image_url"])
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(out)


def _parameters(book: nbformat.NotebookNode) -> dict:
    cell = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
    values: dict = {}
    exec(cell.source, {}, values)  # noqa: S102 - the notebook's own literal assignments
    return values


def _inject(book: nbformat.NotebookNode, values: dict) -> None:
    index = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    source = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    book.cells.insert(index + 1, cell)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(TINY))
def test_example_notebook_runs_end_to_end(name, tmp_path):
    book = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    workspace = tmp_path / "runs"
    defaults = _parameters(book)
    data = {
        "TRAIN_DATA": _subset(
            EXAMPLES / defaults["TRAIN_DATA"], TRAIN_IMAGES, tmp_path / "t.jsonl"
        ),
        "VALIDATION_DATA": _subset(
            EXAMPLES / defaults["VALIDATION_DATA"], VALIDATION_IMAGES, tmp_path / "v.jsonl"
        ),
    }
    _inject(book, {**TINY[name], **data, "WORKSPACE": str(workspace)})
    client = NotebookClient(
        book,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute()
    errors = [
        out
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, errors
    jobs = sorted(workspace.glob("*/*/job.json"))
    assert len(jobs) == 1
    folder = jobs[0].parent
    status = json.loads((folder / "status.json").read_text(encoding="utf-8"))
    assert status["status"] == "completed", status
    assert (folder / "best_model" / "model.pt").is_file()
    assert len(list((folder / "trials").iterdir())) == TINY[name].get("MAX_TRIALS", 1)
    # The dashboard (a widget) and the rich results were displayed.
    mimes = {
        mime
        for cell in book.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        for mime in out.get("data", {})
    }
    assert "application/vnd.jupyter.widget-view+json" in mimes
    assert "text/html" in mimes
