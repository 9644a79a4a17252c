"""AutoMode's budget planner: its choices fit the budget for a given cost table."""

from __future__ import annotations

import json

import optuna
import pytest

from automl_nb.config import load_job
from automl_nb.sweep import Budget
from automl_nb.sweep import Cost
from automl_nb.sweep import DataProfile
from automl_nb.sweep import Machine
from automl_nb.sweep import Plan
from automl_nb.sweep import create_study_components
from automl_nb.sweep import plan_automode
from automl_nb.sweep._plan_object import PLAN_FILE
from automl_nb.sweep._planner import BUDGET_USE
from automl_nb.sweep._planner import successive_halving_fraction
from automl_nb.sweep._probe import GFLOPS_224

CPU = Machine(cpu_cores=2)
GPU = Machine(cpu_cores=16, gpu_count=1, gpu_memory_gb=80.0, gpu_name="test GPU")
FRIDGE = DataProfile(train_images=100, valid_images=34, classes=4, short_side=113)


def table(seconds_per_gflop: float):
    """A cost table: training seconds per image proportional to GFLOPs and pixels."""
    calls: list[tuple[str, int]] = []

    def cost(model: str, size: int, batch: int) -> Cost:
        calls.append((model, size))
        gflops = GFLOPS_224.get(model, 20.0) * (size / 224) ** 2
        return Cost(train=seconds_per_gflop * gflops, eval=seconds_per_gflop * gflops / 3)

    cost.calls = calls
    return cost


def expected_sweep_seconds(plan: Plan) -> float:
    """The plan's own arithmetic, recomputed: the first trial in full, the others' share."""
    fraction = successive_halving_fraction(plan.epochs, plan.min_resource, plan.reduction_factor)
    total = 0.0
    for i, c in enumerate(plan.candidates):
        share = 1.0 if i == 0 or c.role == "default" else fraction
        total += plan.trial_overhead_seconds + share * c.expected_seconds
    return total


@pytest.mark.parametrize("minutes", [5, 15, 60])
def test_cpu_from_scratch_plan_fits_the_budget(minutes) -> None:
    budget = Budget(seconds=minutes * 60, max_trials=10)
    plan = plan_automode(
        "image_classification", budget, CPU, FRIDGE, pretrained=False, cost=table(0.01)
    )
    assert 1 <= len(plan.candidates) <= plan.n_trials <= 10
    # The plan's own arithmetic, recomputed here, fits the share of the budget it plans for.
    assert expected_sweep_seconds(plan) <= BUDGET_USE * budget.seconds
    assert plan.expected_seconds <= BUDGET_USE * budget.seconds + 1e-6
    if not plan.sampled_trials:
        assert plan.expected_seconds == pytest.approx(expected_sweep_seconds(plan))
    # From scratch on a CPU: small CNNs at small inputs, never the 224 px ViT.
    portfolio = [c for c in plan.candidates if c.role == "portfolio"]
    assert portfolio and all(c.params["model_name"] != "vitb16r224" for c in portfolio)
    assert all(c.size <= 160 for c in portfolio)
    assert all(c.params["number_of_epochs"] == plan.epochs for c in portfolio)
    assert "vitb16r224" in plan.first_reason and "budget" in plan.first_reason
    default = plan.candidates[0]
    if plan.first_is_default:  # Azure's rule holds only while the default fits 40%
        assert default.params == {"model_name": "vitb16r224"}
        assert default.expected_seconds <= 0.4 * budget.seconds
    else:
        assert default.role == "portfolio" and "not the default" in plan.first_reason


def test_more_budget_buys_more_epochs_and_candidates() -> None:
    plans = [
        plan_automode(
            "image_classification",
            Budget(seconds=m * 60, max_trials=10),
            CPU,
            FRIDGE,
            pretrained=False,
            cost=table(0.01),
        )
        for m in (5, 15)
    ]
    assert plans[1].epochs >= plans[0].epochs
    assert len(plans[1].candidates) >= len(plans[0].candidates)
    assert plans[1].epochs > plans[0].epochs or len(plans[1].candidates) > len(plans[0].candidates)


def test_a_tiny_budget_shrinks_the_input_before_the_epochs() -> None:
    plan = plan_automode(
        "image_classification",
        Budget(seconds=60, max_trials=10),
        CPU,
        FRIDGE,
        pretrained=False,
        cost=table(0.5),
    )
    assert plan.candidates[0].size < 64
    assert any("px" in note for note in plan.notes)
    assert expected_sweep_seconds(plan) <= BUDGET_USE * 60


def test_a_budget_with_epochs_to_spare_starts_one_size_up() -> None:
    from automl_nb.sweep._planner import LARGER_INPUT_EPOCHS

    def first(seconds_per_gflop: float, data: DataProfile = FRIDGE):
        plan = plan_automode(
            "image_classification",
            Budget(seconds=300, max_trials=10),
            CPU,
            data,
            pretrained=False,
            cost=table(seconds_per_gflop),
        )
        return plan, plan.candidates[0]

    # Fast epochs: 96 px still gets its epochs, so the sweep starts there and says why.
    plan, lead = first(0.01)
    assert lead.size == 96 and plan.epochs >= LARGER_INPUT_EPOCHS
    assert any("inputs start one size above 64 px" in note for note in plan.notes)
    # Slower epochs: 96 px would get too few, so it stays at 64 px.
    plan, lead = first(0.1)
    assert lead.size == 64 and not any("one size above" in note for note in plan.notes)
    # Images too small to upscale past 64 px stay there whatever the budget.
    tiny = DataProfile(train_images=100, valid_images=34, classes=4, short_side=40)
    assert first(0.01, tiny)[1].size == 64


def test_azure_rule_first_trial_is_the_default_when_the_budget_allows() -> None:
    # A GPU with pretrained weights and an hour: the default ViT-B with its defaults first.
    plan = plan_automode(
        "image_classification",
        Budget(seconds=3600, max_trials=10),
        GPU,
        FRIDGE,
        pretrained=True,
        cost=table(0.0002),
    )
    first = plan.candidates[0]
    assert plan.first_is_default and first.role == "default"
    assert first.params == {"model_name": "vitb16r224"}
    assert "Azure" in plan.first_reason
    assert plan.n_trials == 10  # time to spare: sampled trials fill max_trials
    assert plan.sampled_trials == 10 - len(plan.candidates)


def test_max_trials_caps_the_plan() -> None:
    plan = plan_automode(
        "image_classification",
        Budget(seconds=3600, max_trials=2),
        CPU,
        FRIDGE,
        pretrained=False,
        cost=table(0.001),
    )
    assert plan.n_trials == len(plan.candidates) <= 2


def test_plan_round_trips_and_drives_the_study(tmp_path) -> None:
    plan = plan_automode(
        "image_classification",
        Budget(seconds=300, max_trials=6),
        CPU,
        FRIDGE,
        pretrained=False,
        cost=table(0.01),
    )
    plan.save(tmp_path)
    again = Plan.load(tmp_path)
    assert again.to_dict() == plan.to_dict()
    assert json.loads((tmp_path / PLAN_FILE).read_text())["epochs"] == plan.epochs
    text = again.text()
    for c in plan.candidates:
        assert c.params["model_name"] in text
    assert "successive halving" in text and "measured" not in text.split("schedule")[0]

    spec = load_job(
        {
            "type": "automl",
            "task": "image_classification",
            "target_column_name": "label",
            "training_data": {"path": "train.jsonl", "type": "uri_file"},
            "limits": {"max_trials": 6, "timeout_minutes": 5},
        }
    )
    sweep = create_study_components(spec, seed=0, automode_plan=again)
    assert isinstance(sweep.pruner, optuna.pruners.SuccessiveHalvingPruner)
    study = optuna.create_study(direction="maximize", sampler=sweep.sampler, pruner=sweep.pruner)
    assert sweep.enqueue_first_trial(study)
    assert not sweep.enqueue_first_trial(study)  # resume-safe: queued once
    asked = [sweep.suggest(study.ask()) for _ in range(len(plan.candidates) + 1)]
    assert asked[: len(plan.candidates)] == [c.params for c in plan.candidates]
    sampled = asked[-1]
    models = {c.params["model_name"] for c in plan.candidates}
    assert sampled["model_name"] in models
    assert isinstance(sampled["learning_rate"], float)


def test_short_yolov5_runs_get_adamw_and_long_ones_azures_sgd() -> None:
    from automl_nb.sweep._portfolio import portfolio

    def yolo(data: DataProfile) -> dict:
        pool = portfolio("image_object_detection", CPU, data, pretrained=False)
        return next(p for p in pool if p["model_name"] == "yolov5")

    short = yolo(DataProfile(train_images=96, valid_images=32, classes=4))
    assert short["optimizer"] == "adamw"
    assert short["learning_rate"] == pytest.approx(0.00125)  # 0.01 / (4 + 4 classes)
    assert short["training_batch_size"] == 16
    fewer = yolo(DataProfile(train_images=96, valid_images=32, classes=1))
    assert fewer["learning_rate"] == pytest.approx(0.002)
    # 30 epochs of 64-image steps over 40 000 images is past the short-run rule.
    long = yolo(DataProfile(train_images=40_000, valid_images=4_000, classes=4))
    assert "optimizer" not in long and "learning_rate" not in long


def test_the_reason_for_skipping_the_default_names_its_real_input_size() -> None:
    plan = plan_automode(
        "image_object_detection",
        Budget(seconds=600, max_trials=10),
        CPU,
        DataProfile(train_images=96, valid_images=32, classes=4),
        pretrained=False,
        cost=table(0.01),
    )
    assert not plan.first_is_default
    assert "yolov5 with its defaults: 30 epochs at 640 px" in plan.first_reason
