"""The offline-weights error keeps its advice and the whole cause (nothing cut mid-word)."""

from __future__ import annotations

from automl_nb.models._weights import weights_unavailable

HUB_ERROR = (
    "An error happened while trying to locate the file on the Hub and we cannot find the "
    "requested files in the local cache. Please check your connection and try again or make "
    "sure your Internet connection is on."
)


def test_the_advice_comes_first_and_the_cause_is_whole() -> None:
    text = str(weights_unavailable("resnet18", "resnet18.a1_in1k", "/cache/hf", HUB_ERROR))
    advice = text.index('"use_pretrained": false')
    assert advice < text.index("An error happened")
    assert "try again or make sure your Internet connection is on." in text
    assert "/cache/hf" in text


def test_a_very_long_cause_is_cut_at_a_word_and_says_so() -> None:
    cause = "word " * 200
    text = str(weights_unavailable("resnet18", "w", "/c", cause))
    assert text.endswith("word word ...).")
    assert "wor " not in text and "checkpoint_path" in text
