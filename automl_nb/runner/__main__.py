"""``python -m automl_nb.runner JOB_DIR [--storage URL]``: the detached job controller."""

from __future__ import annotations

import argparse
import logging
import sys

from automl_nb.runner._controller import JobController


def main(argv: list[str] | None = None) -> int:
    """Run the controller of one job folder until the job ends."""
    parser = argparse.ArgumentParser(prog="python -m automl_nb.runner")
    parser.add_argument("job_dir")
    parser.add_argument("--storage", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    final = JobController(args.job_dir, storage=args.storage).run()
    return 0 if final == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
