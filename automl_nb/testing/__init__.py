"""Helpers for testing code built on automl-nb: tiny real datasets written to disk.

Import the submodules directly (``from automl_nb.testing.datasets import
make_detection_jsonl``); this package imports nothing heavy.
"""
