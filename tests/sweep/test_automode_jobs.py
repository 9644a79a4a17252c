"""AutoMode end to end: the real cost probe, the ``plan`` verb, a planned sweep and its
extension with ``resume --max-trials``."""

from __future__ import annotations

import json
import textwrap

import pytest

from automl_nb.cli import main as cli
from automl_nb.sweep import CostProbe
from automl_nb.sweep import Plan
from automl_nb.sweep import detect_machine
from automl_nb.testing.processes import kill_job_processes


def test_the_probe_keeps_costs_apart_by_the_precision_trials_train_in(tmp_path) -> None:
    from automl_nb.training._precision import cpu_has_native_bf16

    machine = detect_machine()
    auto = CostProbe(machine, "image_classification", num_classes=2, cache_dir=tmp_path)
    auto.cost("resnet18", 32, 4)
    fp32 = CostProbe(
        machine, "image_classification", num_classes=2, cache_dir=tmp_path, precision="fp32"
    )
    # Where auto means bf16, an fp32 job must not plan from the bf16 measurement.
    assert fp32.known("resnet18", 32, 4) is not cpu_has_native_bf16()


@pytest.fixture(scope="module")
def colours(tmp_path_factory):
    """40 synthetic two-class 32 px images (learned in an epoch or two)."""
    from automl_nb.testing.datasets import make_classification_jsonl

    return make_classification_jsonl(
        tmp_path_factory.mktemp("colours"), n=40, size=32, classes=("red", "green")
    )


def write_job(folder, jsonl, limits: str, extra: str = "") -> str:
    path = folder / "job.yml"
    path.write_text(
        textwrap.dedent(
            f"""\
            type: automl
            task: image_classification
            target_column_name: label
            training_data: {{path: {jsonl}, type: uri_file}}
            validation_data_size: 0.3
            limits: {limits}
            training_parameters:
              random_seed: 1
              advanced_settings: '{{"use_pretrained": false}}'
            """
        )
        + textwrap.dedent(extra),
        encoding="utf-8",
    )
    return str(path)


def test_probe_measures_once_then_reads_its_cache(tmp_path) -> None:
    machine = detect_machine()
    probe = CostProbe(machine, "image_classification", num_classes=2, cache_dir=tmp_path)
    cost = probe.cost("resnet18", 32, 4)
    assert cost.train > 0 and cost.eval > 0
    assert len(probe.measured) == 1 and probe.seconds > 0
    assert (tmp_path / ".cache" / "cost_probe.json").is_file()
    again = CostProbe(machine, "image_classification", num_classes=2, cache_dir=tmp_path)
    assert again.known("resnet18", 32, 4)
    assert again.cost("resnet18", 32, 4) == cost
    assert again.measured == [] and len(again.cached) == 1
    # Another size is extrapolated from the probe (cost ~ pixels), not measured.
    scaled = again.scaled("resnet18", 64, 32, 4)
    assert not scaled.measured and scaled.train == pytest.approx(4 * cost.train)


def test_probe_gives_up_on_a_model_too_slow_for_the_budget(tmp_path) -> None:
    probe = CostProbe(detect_machine(), "image_classification", num_classes=2, cache_dir=tmp_path)
    # Any real step costs more than a nanosecond per image: the warm-up step decides.
    bound = probe.cost("resnet18", 32, 4, give_up_above=1e-9)
    assert not bound.measured and bound.train > 1e-9
    assert probe.measured == [] and len(probe.gave_up) == 1
    seconds = probe.seconds
    assert probe.cost("resnet18", 32, 4, give_up_above=1e-9) == bound
    assert probe.seconds == seconds  # asked again, not probed again
    # A lower bound is not a measurement: the cache does not keep it.
    assert not CostProbe(
        detect_machine(), "image_classification", num_classes=2, cache_dir=tmp_path
    ).known("resnet18", 32, 4)
    # With room in the budget, the same model is measured in full.
    fresh = CostProbe(detect_machine(), "image_classification", num_classes=2)
    assert fresh.cost("resnet18", 32, 4, give_up_above=10.0).measured


@pytest.fixture(scope="module")
def probe_workspace(tmp_path_factory):
    """One workspace for the plan tests: the second plan reads the first one's probe."""
    return tmp_path_factory.mktemp("probe") / "ws"


@pytest.mark.slow  # the real cost probe: tens of seconds on a busy 2-core machine
def test_plan_verb_prints_the_plan(tmp_path, colours, capsys, probe_workspace) -> None:
    job = write_job(tmp_path, colours, "{max_trials: 4, timeout_minutes: 2}")
    workspace = probe_workspace
    assert cli(["plan", job, "--workspace", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("AutoMode plan:")
    assert "2.0 min budget (from scratch)" in out
    assert "resnet18" in out and "epochs" in out and "measured now" in out
    assert "not the default model vitb16r224" in out
    # The probe's time comes out of the budget: the sweep is planned for what is left.
    assert "planning (data checks, profile and cost probe) took" in out
    assert (workspace / ".cache" / "cost_probe.json").is_file()

    assert cli(["plan", job, "--workspace", str(workspace), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    plan = Plan.from_dict(data)
    assert plan.candidates and plan.n_trials <= 4
    # The second plan reads the first one's measurements from the workspace cache.
    assert any("(cached" in line for line in plan.measured)
    # It fits the budget, unless the probe found this (busy) machine too slow even for the
    # minimum epochs of the smallest input, and says so.
    too_slow = any("fits only" in note for note in plan.notes)
    assert plan.expected_seconds <= 120 or too_slow, plan.text()

    single = write_job(tmp_path, colours, "{max_trials: 1}")
    assert cli(["plan", single, "--workspace", str(workspace)]) == 0
    assert "not AutoMode" in capsys.readouterr().out


@pytest.mark.slow
def test_plan_magic_shows_the_plan(tmp_path, colours, probe_workspace, monkeypatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("AUTOML_NB_WORKSPACE", str(probe_workspace))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "automl_nb")
    try:
        job = write_job(tmp_path, colours, "{max_trials: 4, timeout_minutes: 2}")
        view = shell.run_line_magic("automl_vision", f"plan --file {job}")
        assert repr(view).startswith("AutoMode plan:")
        assert "<pre>AutoMode plan:" in view._repr_html_()
        assert view.plan.candidates and view.plan.n_trials <= 4
        single = write_job(tmp_path, colours, "{max_trials: 1}")
        assert "not AutoMode" in repr(
            shell.run_line_magic("automl_vision", f"plan --file {single}")
        )
    finally:
        shell.run_line_magic("unload_ext", "automl_nb")


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    yield ws
    kill_job_processes(ws)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_planned_sweep_runs_and_resume_adds_trials(tmp_path, colours, workspace, capsys):
    from automl_nb.runner import get_job

    # Cheap epochs: the plan's candidates at 32-64 px on 28 training images.
    job_yaml = write_job(tmp_path, colours, "{max_trials: 2, timeout_minutes: 3}")
    assert cli(["run", job_yaml, "--workspace", str(workspace), "--no-progress", "--json"]) == 0
    out = capsys.readouterr().out
    assert "AutoMode plan:" in out.splitlines()[0]
    summary = json.loads(out.strip().splitlines()[-1])
    job = get_job(summary["job_id"], workspace=workspace)
    plan = job.plan()
    assert plan is not None and (job.dir / "plan.json").is_file()
    first = job.trials()
    assert len(first) == 2
    # The planned candidates ran in order (the first is not the default: the budget is short).
    assert first[0].hyperparameters == plan.candidates[0].params
    assert summary["status"] == "completed" and job.best_model_dir is not None
    # The job's clock started before planning: the probe counts against timeout_minutes.
    status = json.loads((job.dir / "status.json").read_text(encoding="utf-8"))
    assert status["started"] < (job.dir / "plan.json").stat().st_mtime
    scores = {t.number: t.best_score for t in first}
    _plan_is_shown(job, plan)

    # Extend the finished sweep: one more trial, the first two kept as they were.
    assert cli(["resume", job.id, "--workspace", str(workspace), "--max-trials", "3"]) == 0
    assert "max_trials 3" in capsys.readouterr().out
    assert job.wait(timeout=600) == "completed"
    trials = job.trials()
    assert [t.number for t in trials] == [0, 1, 2]
    assert {t.number: t.best_score for t in trials[:2]} == scores
    assert job.spec.limits.max_trials == 3
    added = trials[2].hyperparameters
    assert added["model_name"] in {c.params["model_name"] for c in plan.candidates}
    assert trials[2].state in ("completed", "pruned", "timeout")
    # Fewer trials than it has is refused.
    assert cli(["resume", job.id, "--workspace", str(workspace), "--max-trials", "2"]) == 2


def _plan_is_shown(job, plan) -> None:
    """The job panel's payload and the notebook dashboard show the plan the job ran."""
    from automl_nb.notebook.widgets import Dashboard
    from automl_nb.server._payload import job_detail

    shown = job_detail(job)["plan"]
    assert shown["headline"] == plan.headline() and shown["headline"].startswith("AutoMode plan:")
    assert plan.candidates[0].params["model_name"] in shown["text"]
    dashboard = Dashboard(job, start=False)
    assert f"<summary>{plan.headline()}</summary>" in dashboard.plan.value
    assert plan.headline() in dashboard.static_html()


def test_time_before_planning_counts_against_the_budget(tmp_path, colours) -> None:
    """The data checks that run before the plan are on the job's clock too: a job whose
    clock started 90 s ago plans its sweep for the 3.5 minutes left of 5, not for 5."""
    import time

    from automl_nb.config import load_job
    from automl_nb.sweep import Cost
    from automl_nb.sweep import DataProfile
    from automl_nb.sweep import Machine
    from automl_nb.sweep._plan_job import plan_job

    spec = load_job(write_job(tmp_path, colours, "{max_trials: 4, timeout_minutes: 5}"))
    data = DataProfile(train_images=100, valid_images=34, classes=4, short_side=113)

    def measure(model, task, size, **_):
        return Cost(0.004 * (size / 64) ** 2, 0.001 * (size / 64) ** 2)

    def plan(started=None):
        return plan_job(
            spec, machine=Machine(cpu_cores=1), data=data, measure=measure, started=started
        )

    fresh, late = plan(), plan(started=time.time() - 90)
    assert late.budget_seconds == fresh.budget_seconds == 300
    note = next(n for n in late.notes if n.startswith("planning"))
    assert "took 90 s" in note and "3.5 min left" in note
    assert late.expected_seconds < fresh.expected_seconds
    assert late.epochs < fresh.epochs
