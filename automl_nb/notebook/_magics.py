"""The ``%automl_vision`` / ``%%automl_vision`` magic and its ``%config`` options."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics
from IPython.core.magic import line_cell_magic
from IPython.core.magic import magics_class
from IPython.core.magic import no_var_expand
from IPython.core.magic import output_can_be_silenced
from traitlets import Bool
from traitlets import Float
from traitlets import Int
from traitlets import Unicode
from traitlets import validate

MAGIC_NAME = "automl_vision"


@magics_class
class AutoMLVision(Magics):
    """AutoML for Images in the notebook: ``%automl_vision <verb> [arguments]``.

    Build a job cell by cell (``new``, ``config``, ``builder``, ``sweep``), check its data
    (``data``, ``check``), run it (``submit``) and watch it live (``dashboard``), then use the
    result (``best``, ``predict``, ``explain``). ``%automl_vision help`` lists every verb;
    ``%automl_vision VERB --help`` explains one. Options: ``%config AutoMLVision``.
    """

    workspace = Unicode(
        "",
        help="Folder that holds the jobs (default: $AUTOML_NB_WORKSPACE or ./automl_runs).",
    ).tag(config=True)
    refresh_seconds = Float(
        1.0, help="How often a live dashboard re-reads its job (seconds, >= 0.5)."
    ).tag(config=True)
    default_compute = Unicode("local", help="The 'compute' a new draft starts with.").tag(
        config=True
    )
    storage = Unicode(
        "", help="Optuna storage URL for submitted jobs (default: a journal file per job)."
    ).tag(config=True)
    dashboard_on_submit = Bool(True, help="Show the live dashboard when a job is submitted.").tag(
        config=True
    )
    preview_images = Int(12, help="How many images the data preview shows per page.").tag(
        config=True
    )

    @validate("refresh_seconds")
    def _check_refresh(self, proposal: Any) -> float:
        # Faster than twice a second floods the frontend with comm messages.
        return max(0.5, float(proposal["value"]))

    @validate("preview_images")
    def _check_preview(self, proposal: Any) -> int:
        return min(64, max(1, int(proposal["value"])))

    @no_var_expand
    @output_can_be_silenced
    @line_cell_magic(MAGIC_NAME)  # type: ignore[arg-type]
    def automl_vision(self, line: str, cell: str | None = None) -> Any:
        """Run an AutoML for Images verb; ``%automl_vision help`` lists them."""
        from automl_nb.notebook._dispatch import run_command

        # IPython passes a silencing trailing ';' through; it is not part of the arguments.
        line = line.rstrip()
        if line.endswith(";"):
            line = line[:-1]
        return run_command(line, cell, shell=self.shell)


def load_ipython_extension(ipython: Any) -> None:
    """Register the magic and its options (``%load_ext automl_nb``)."""
    from automl_nb.notebook._state import set_settings

    unload_ipython_extension(ipython)
    magics = AutoMLVision(shell=ipython)
    ipython.register_magics(magics)
    set_settings(magics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` registered, and stop live dashboards."""
    from automl_nb.notebook._state import STATE
    from automl_nb.notebook._state import set_settings

    STATE.stop_dashboards()
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop(MAGIC_NAME, None)
    manager.registry.pop(AutoMLVision.__name__, None)
    ipython.configurables[:] = [
        c for c in ipython.configurables if type(c).__name__ != AutoMLVision.__name__
    ]
    set_settings(None)
