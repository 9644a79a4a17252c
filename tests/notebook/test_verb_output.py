"""What the draft verbs and ``help`` print: whole sentences, and no draft reprinted per cell."""

from __future__ import annotations

from automl_nb.notebook import automl_vision
from automl_nb.notebook.verbs import VERBS
from automl_nb.notebook.verbs import get_verb
from automl_nb.notebook.verbs import summary


def test_help_lists_each_verb_with_a_whole_sentence() -> None:
    rows = automl_vision("help").rows
    assert [row[0] for row in rows] == [f"%automl_vision {v}" for v in VERBS]
    for name in VERBS:
        text = summary(get_verb(name))
        assert text.endswith((".", ")")), (name, text)
    predict = dict((row[0], row[1]) for row in rows)["%automl_vision predict"]
    assert predict.endswith("each drawn on its image.")


def test_config_says_what_changed_and_does_not_reprint_the_draft() -> None:
    new = automl_vision("new image_classification --name demo")
    assert "task:" not in new.to_text() and "%automl_vision show" in new.to_text()
    view = automl_vision(
        "config", "target_column_name: label\ntraining_parameters: {learning_rate: 0.02}"
    )
    assert view.note == ("merged the cell: target_column_name, training_parameters.learning_rate")
    assert "learning_rate: 0.02" not in view.to_text()
    assert "learning_rate: 0.02" in automl_vision("show").to_text()
    again = automl_vision("config", "training_parameters: {learning_rate: 0.02}")
    assert again.note == "merged the cell: nothing new"
