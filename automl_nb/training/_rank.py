"""Entry point of the processes of a multi-process trial (see :mod:`automl_nb.training._launch`):

``python -m automl_nb.training._rank agent TORCHRUN_ARGS...`` (``torchrun``, dying with its
parent) and ``python -m automl_nb.training._rank rank REQUEST`` (one rank).
"""

from __future__ import annotations

import sys

from automl_nb.training._launch import agent_main
from automl_nb.training._launch import rank_main

if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    if role == "agent":
        agent_main(rest)
    else:
        raise SystemExit(rank_main(rest[0]))
