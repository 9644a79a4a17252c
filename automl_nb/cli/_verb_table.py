"""The verbs that ``automl-vision`` and ``%automl_vision`` share: one table, one argument set.

A shared verb declares what it *does* once, here: its inputs and the settings that change its
result. Each surface adds only how it *shows* the result in its own module's
``add_arguments`` (``--json`` or ``--indent`` on the command line; ``--max`` drawings or
``--viewer`` in a notebook). Both surfaces then call the module's ``run(args, ctx)``, where
``ctx.workspace`` is the workspace folder and ``ctx.last_job`` the job a notebook submitted
last (None on the command line).

Example:
    >>> VERB_TABLE.get("serve").magic
    'deploy'
    >>> sorted(magic_verbs())[:3]
    ['cancel', 'check', 'deploy']
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from automl_nb.cli._jobs_common import add_datastore_argument
from automl_nb.cli._jobs_common import add_set_argument
from automl_nb.cli._jobs_common import add_task_filter_arguments
from automl_nb.cli._jobs_common import add_workspace_argument
from automl_nb.cli._jobs_common import task_name
from automl_nb.errors import AutoMLError
from automl_nb.registry import Registry

if TYPE_CHECKING:
    from automl_nb.inference import ScoringLimits

Arguments = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Verb:
    """One verb of both surfaces.

    Attributes:
        name: The ``automl-vision`` command.
        magic: The ``%automl_vision`` verb doing the same work.
        arguments: Declares the arguments both surfaces take.
    """

    name: str
    magic: str
    arguments: Arguments


@dataclass(frozen=True)
class CommandContext:
    """What an ``automl-vision`` verb may use besides its arguments (the notebook's
    :class:`automl_nb.notebook._dispatch.Context` offers the same attributes)."""

    workspace: str | None = None
    last_job: None = None
    in_kernel: bool = False


_NEWEST = "(default: the last job submitted from this notebook, else the newest job)"


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number above 0 (got {text})")
    return value


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 0 to 65535 (got {value})")
    return value


def _job_argument(
    parser: argparse.ArgumentParser, what: str = "job", default: str = _NEWEST
) -> None:
    name = "job id, unique id prefix or folder" if what == "job" else "JOB, JOB/TRIAL or /TRIAL"
    parser.add_argument(what, nargs="?", help=f"{name} {default}")
    add_workspace_argument(parser)


def _wait_argument(parser: argparse.ArgumentParser, until: str) -> None:
    parser.add_argument("--wait", action="store_true", help=f"block until {until}")


def _model_source(parser: argparse.ArgumentParser, positional: str | None) -> None:
    """``--job`` / ``--model`` (and a model folder as first positional, as before)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--job", help="use this job's best model")
    source.add_argument("--model", help="use this model folder")
    if positional == "model_dir":
        parser.add_argument(
            "model_dir",
            metavar="MODEL_DIR",
            nargs="?",
            help="a model folder (default: the best model of the newest job that has one)",
        )
    elif positional == "images":
        parser.add_argument(
            "images",
            metavar="IMAGE",
            nargs="+",
            help="image files or URLs; in a notebook, glob patterns too (a model folder may "
            "come first)",
        )
    add_workspace_argument(parser)


def _device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: auto)")


def check_arguments(parser: argparse.ArgumentParser) -> None:
    """``check [DATA] [--validation [DATA]] [--task T] [--input-size N] [--no-files]``."""
    parser.add_argument(
        "data",
        metavar="DATA",
        nargs="?",
        help="JSONL file or MLTable folder (default in a notebook: the draft's training data)",
    )
    parser.add_argument("--file", help=argparse.SUPPRESS)  # the notebook's older spelling
    parser.add_argument(
        "--validation",
        metavar="DATA",
        nargs="?",
        const=True,
        help="validation JSONL/MLTable: also look for train/validation duplicates (alone, in "
        "a notebook: check the draft's validation data)",
    )
    parser.add_argument(
        "--task",
        type=task_name,
        metavar="TASK",
        help="task of DATA (default: the draft's, else guessed from the labels)",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        metavar="N",
        help="model input: crop size (classification, default 224) or min_size (detection, "
        "default 600)",
    )
    parser.add_argument(
        "--no-files", action="store_true", help="use the labels only; do not open the images"
    )
    add_datastore_argument(parser)


def submit_arguments(parser: argparse.ArgumentParser) -> None:
    """``submit [JOB.yml] [--set K=V] [--storage URL] [--wait [--timeout S]]``."""
    parser.add_argument(
        "job", nargs="?", help="job YAML file (in a notebook, default: the current draft)"
    )
    parser.add_argument("--file", help=argparse.SUPPRESS)  # the notebook's older spelling
    add_workspace_argument(parser)
    add_set_argument(parser)
    parser.add_argument("--storage", default=None, help="Optuna storage URL shared with workers")
    add_datastore_argument(parser)
    _wait_argument(parser, "the job ends")
    parser.add_argument("--timeout", type=float, help="with --wait: give up after S seconds")


def status_arguments(parser: argparse.ArgumentParser) -> None:
    """``status [JOB]``."""
    _job_argument(parser, default="(default: every job; in a notebook, the last job)")


def job_arguments(parser: argparse.ArgumentParser) -> None:
    """``[JOB] [--workspace DIR]``: the arguments of the verbs about one job (``trials``,
    and ``best`` or ``dashboard`` in a notebook)."""
    _job_argument(parser)


def cancel_arguments(parser: argparse.ArgumentParser) -> None:
    """``cancel [JOB | JOB/TRIAL | /TRIAL] [--wait]``."""
    _job_argument(parser, "target")
    _wait_argument(parser, "it has stopped")


def resume_arguments(parser: argparse.ArgumentParser) -> None:
    """``resume [JOB] [--max-trials N] [--timeout-minutes M] [--wait]``."""
    _job_argument(parser)
    parser.add_argument(
        "--max-trials",
        type=int,
        default=None,
        metavar="N",
        help="extend the sweep to N trials in all (earlier trials are kept and count)",
    )
    parser.add_argument(
        "--timeout-minutes",
        type=int,
        default=None,
        metavar="M",
        help="let the resumed sweep run M minutes from now (with --max-trials alone: the "
        "job's timeout_minutes again, from now)",
    )
    _wait_argument(parser, "the job ends")


def plan_arguments(parser: argparse.ArgumentParser) -> None:
    """``plan [JOB.yml] [--set K=V]``."""
    parser.add_argument(
        "job", nargs="?", help="job YAML file (in a notebook, default: the current draft)"
    )
    parser.add_argument("--file", help=argparse.SUPPRESS)  # the notebook's older spelling
    add_workspace_argument(parser)
    add_set_argument(parser)
    add_datastore_argument(parser)


def predict_arguments(parser: argparse.ArgumentParser) -> None:
    """``predict IMAGE... [--job J | --model DIR] [--set K=V] [--device D]``."""
    _model_source(parser, "images")
    parser.add_argument(
        "--set",
        dest="settings",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="an inference setting (v1 or v2 name), e.g. box_score_thresh=0.5; repeatable",
    )
    _device_argument(parser)
    parser.add_argument(
        "--batch-size", type=positive_int, default=None, help="images per forward pass"
    )


def explain_arguments(parser: argparse.ArgumentParser) -> None:
    """``explain IMAGE... [--algorithm A[,B]] [--label L] [--param K=V] [--n-steps N] ...``."""
    _model_source(parser, "images")
    parser.add_argument(
        "--algorithm",
        "-a",
        default="xrai",
        help="xrai (default), integrated_gradients, guided_backprop or guided_gradcam; "
        "comma-separate several to compare them",
    )
    parser.add_argument("--label", help="explain this label instead of the predicted ones")
    parser.add_argument(
        "--param", dest="params", action="append", metavar="KEY=VALUE", help="repeatable"
    )
    parser.add_argument("--n-steps", type=int, default=None, help="IG steps (xrai, IG; 50)")
    parser.add_argument(
        "--approximation-method",
        default=None,
        help="integrated_gradients: riemann_middle (default) or gausslegendre",
    )
    parser.add_argument(
        "--xrai-fast",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="xrai: the fast algorithm (default) or the full one",
    )
    parser.add_argument(
        "--confidence-score-threshold-multilabel",
        type=float,
        default=None,
        help="multi-label: explain each label scoring at least this (0.5)",
    )
    _device_argument(parser)


EXPORT_FORMATS = ("onnx", "torchscript", "mlflow")


def export_arguments(parser: argparse.ArgumentParser) -> None:
    """``export [MODEL_DIR | --job J | --model DIR] --format F --output OUT ...``."""
    _model_source(parser, "model_dir")
    parser.add_argument(
        "--format", "-f", required=True, choices=EXPORT_FORMATS, help="export format"
    )
    parser.add_argument(
        "--output", "-o", required=True, metavar="OUT", help="folder to write (new or empty)"
    )
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        help="onnx: fixed batch size (detection default 1; classification default dynamic)",
    )
    parser.add_argument(
        "--onnx-normalization",
        action="store_true",
        default=None,
        help="classification: normalise inside the model; the input is RGB scaled to 0-1 "
        "(Azure's enable_onnx_normalization)",
    )
    parser.add_argument("--height", type=int, default=None, help="onnx detection: input height")
    parser.add_argument("--width", type=int, default=None, help="onnx detection: input width")
    parser.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty OUT folder"
    )


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    """``serve [MODEL_DIR | --job J | --model DIR] [--host H] [--port P] [--key K | --no-auth]``
    and the request limits."""
    _model_source(parser, "model_dir")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default 127.0.0.1; any other is reachable from other machines)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=5001,
        help="TCP port (default 5001; 0 picks a free one)",
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--key", default=None, help="the key clients send as 'Authorization: Bearer KEY'"
    )
    auth.add_argument(
        "--no-auth",
        action="store_true",
        help="accept requests without a key (auth_mode none; loopback hosts only)",
    )
    _device_argument(parser)
    limits = parser.add_argument_group("request limits")
    limits.add_argument(
        "--max-body-mb", type=positive_float, default=50.0, help="413 past it (50)"
    )
    limits.add_argument(
        "--max-images", type=positive_int, default=32, help="images per request (32)"
    )
    limits.add_argument(
        "--max-n-steps", type=positive_int, default=200, help="largest xai n_steps (200)"
    )
    limits.add_argument(
        "--request-timeout",
        type=positive_float,
        default=120.0,
        metavar="S",
        help="503 past it (120)",
    )
    limits.add_argument(
        "--max-concurrent", type=positive_int, default=16, help="requests served at once (16)"
    )


def scoring_limits(args: argparse.Namespace) -> ScoringLimits:
    """The :class:`automl_nb.inference.ScoringLimits` of ``serve``'s arguments."""
    from automl_nb.inference import ScoringLimits

    return ScoringLimits(
        max_body_bytes=max(1, int(args.max_body_mb * 1024 * 1024)),
        max_images=args.max_images,
        max_n_steps=args.max_n_steps,
        request_timeout_s=args.request_timeout,
        max_concurrent_requests=args.max_concurrent,
    )


def models_arguments(parser: argparse.ArgumentParser) -> None:
    """``models [--task T] [--pattern P]``."""
    add_task_filter_arguments(
        parser,
        task_help="only models for this task (Azure or short name; in a notebook, "
        "default: the draft's task)",
    )


VERB_TABLE: Registry[Verb] = Registry("command", error=AutoMLError)
for _verb in (
    Verb("check", "check", check_arguments),
    Verb("plan", "plan", plan_arguments),
    Verb("submit", "submit", submit_arguments),
    Verb("status", "status", status_arguments),
    Verb("trials", "trials", job_arguments),
    Verb("cancel", "cancel", cancel_arguments),
    Verb("resume", "resume", resume_arguments),
    Verb("predict", "predict", predict_arguments),
    Verb("explain", "explain", explain_arguments),
    Verb("export", "export", export_arguments),
    Verb("serve", "deploy", serve_arguments),
    Verb("models", "models", models_arguments),
):
    VERB_TABLE.add(_verb.name, _verb)


def magic_verbs() -> dict[str, str]:
    """``{magic verb: automl-vision command}`` of the shared verbs."""
    return {verb.magic: name for name, verb in VERB_TABLE.items()}


def add_shared_arguments(
    parser: argparse.ArgumentParser, *, command: str | None = None, magic: str | None = None
) -> None:
    """Declare the shared arguments of a verb named by its ``command`` or ``magic`` name
    (nothing for a verb of one surface only)."""
    if magic is not None:
        command = magic_verbs().get(magic)
    if command is not None and command in VERB_TABLE:
        VERB_TABLE.get(command).arguments(parser)


# Past a few hundred steps the attributions no longer change, only time and memory grow.
MAX_N_STEPS = 1000


def explain_settings(args: argparse.Namespace) -> tuple[list[str], dict[str, Any]]:
    """``(algorithms, explain_image keywords)`` of ``explain``'s arguments.

    Raises:
        ConfigError: A ``--param`` that is not KEY=VALUE, or ``n_steps`` out of range.
    """
    from automl_nb.cli._jobs_common import parse_key_values
    from automl_nb.errors import ConfigError
    from automl_nb.errors import Problem

    algorithms = [a.strip() for a in str(args.algorithm).split(",") if a.strip()]
    if args.algorithm is not None and not algorithms:
        raise ConfigError(
            Problem("names no algorithm", path="--algorithm", value=repr(args.algorithm))
        )
    params: dict[str, Any] = parse_key_values(args.params, option="--param")
    named = {
        "n_steps": args.n_steps,
        "approximation_method": args.approximation_method,
        "xrai_fast": args.xrai_fast,
        "confidence_score_threshold_multilabel": args.confidence_score_threshold_multilabel,
        "labels_to_explain": [args.label] if args.label else None,
    }
    params.update({key: value for key, value in named.items() if value is not None})
    steps = params.get("n_steps")
    if steps is not None and not (isinstance(steps, int) and 1 <= steps <= MAX_N_STEPS):
        raise ConfigError(
            Problem(f"must be from 1 to {MAX_N_STEPS}", path="--n-steps", value=str(steps))
        )
    return algorithms or ["xrai"], params
