"""Optimizers, learning-rate schedules, weighted losses and early stopping."""

from __future__ import annotations

import math

import pytest
import torch

from automl_nb.errors import ConfigError
from automl_nb.testing.configs import trial_config
from automl_nb.training import EarlyStopping
from automl_nb.training import class_weights
from automl_nb.training import create_classification_loss
from automl_nb.training import create_optimizer
from automl_nb.training import create_scheduler


def _model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def _lrs(hp: dict, steps_per_epoch: int) -> list[float]:
    """The learning rate of every optimizer step over the whole run."""
    cfg = trial_config(**hp)
    optimizer = create_optimizer(_model(), cfg)
    schedule = create_scheduler(optimizer, cfg, steps_per_epoch)
    seen = []
    for _ in range(cfg.number_of_epochs):
        for _ in range(steps_per_epoch):
            seen.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            schedule.step_iteration()
        schedule.step_epoch()
    return seen


BASE = {"learning_rate": 0.1, "optimizer": "sgd", "momentum": 0.9, "number_of_epochs": 10}


def test_warmup_cosine_rises_linearly_then_decays_to_the_cycle_end() -> None:
    hp = {
        **BASE,
        "learning_rate_scheduler": "warmup_cosine",
        "warmup_cosine_lr_warmup_epochs": 2,
        "warmup_cosine_lr_cycles": 0.45,
    }
    lrs = _lrs(hp, steps_per_epoch=5)
    warmup = lrs[:10]
    assert warmup == pytest.approx([0.1 * (i + 1) / 10 for i in range(10)])
    decay = lrs[10:]
    assert all(a >= b for a, b in zip(decay, decay[1:]))
    # 0.45 cycles end at 0.5 * (1 + cos(0.9 pi)) of the base rate, not at zero.
    end = 0.1 * 0.5 * (1 + math.cos(math.pi * 0.9 * 39 / 40))
    assert lrs[-1] == pytest.approx(end, rel=1e-6)
    assert lrs[-1] > 0.002


def test_step_schedule_multiplies_by_gamma_every_step_size_epochs() -> None:
    hp = {**BASE, "learning_rate_scheduler": "step", "step_lr_gamma": 0.5, "step_lr_step_size": 3}
    per_epoch = _lrs(hp, steps_per_epoch=2)[::2]
    assert per_epoch == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025] * 3 + [0.0125])


def test_none_schedule_keeps_the_rate() -> None:
    lrs = _lrs({**BASE, "learning_rate_scheduler": "none"}, steps_per_epoch=3)
    assert set(lrs) == {0.1}


def test_unknown_scheduler_names_the_nearest() -> None:
    with pytest.raises(ConfigError, match="warmup_cosine"):
        trial_config(**{**BASE, "learning_rate_scheduler": "warmup_cosin"})


@pytest.mark.parametrize(
    ("name", "cls", "check"),
    [
        ("sgd", torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
        ("adam", torch.optim.Adam, {"betas": (0.8, 0.99), "amsgrad": True}),
        ("adamw", torch.optim.AdamW, {"betas": (0.8, 0.99), "weight_decay": 0.01}),
    ],
)
def test_optimizers_take_their_hyperparameters(name: str, cls: type, check: dict) -> None:
    hp = {
        "optimizer": name,
        "learning_rate": 0.01,
        "momentum": 0.9,
        "nesterov": 1,
        "beta1": 0.8,
        "beta2": 0.99,
        "ams_gradient": 1,
        "weight_decay": 0.01,
    }
    optimizer = create_optimizer(_model(), trial_config(**hp))
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    for key, value in check.items():
        assert group[key] == value


def test_optimizer_skips_frozen_parameters() -> None:
    model = _model()
    model[0].weight.requires_grad_(False)
    optimizer = create_optimizer(model, trial_config(**BASE))
    params = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert id(model[0].weight) not in params
    assert id(model[2].weight) in params


def test_class_weights_inverse_frequency_and_sqrt() -> None:
    counts = [30, 10]
    assert class_weights(counts, 0) is None
    assert class_weights(counts, 2).tolist() == pytest.approx([40 / 60, 40 / 20])
    assert class_weights(counts, 1).tolist() == pytest.approx([(40 / 60) ** 0.5, 2**0.5])
    with pytest.raises(ConfigError):
        class_weights(counts, 3)


def test_weighted_loss_penalises_the_rare_class_more() -> None:
    logits = torch.zeros(1, 2)
    plain = create_classification_loss(
        multilabel=False, counts=[30, 10], num_samples=40, weighted_loss=0
    )
    weighted = create_classification_loss(
        multilabel=False, counts=[30, 10], num_samples=40, weighted_loss=2
    )
    rare, common = torch.tensor([1]), torch.tensor([0])
    assert plain(logits, rare) == pytest.approx(plain(logits, common))
    # A single-sample weighted CE normalises by its own weight; compare per-class gradients.
    assert weighted.weight[1] > weighted.weight[0]


def test_multilabel_weighted_loss_uses_pos_weight() -> None:
    loss = create_classification_loss(
        multilabel=True, counts=[5, 20], num_samples=25, weighted_loss=2
    )
    assert isinstance(loss, torch.nn.BCEWithLogitsLoss)
    assert loss.pos_weight.tolist() == pytest.approx([20 / 5, 5 / 20])


def test_early_stopping_counts_evaluations_after_the_delay() -> None:
    early = EarlyStopping(enabled=True, patience=2, delay=2)
    # No stop during the delay, even without improvement.
    assert [early.update(s) for s in (0.5, 0.4)] == [False, False]
    assert early.update(0.3) is False  # 1 bad evaluation after the delay
    assert early.update(0.3) is True  # 2 bad evaluations = patience
    restored = EarlyStopping(enabled=True, patience=2, delay=2)
    restored.load_state_dict(early.state_dict())
    assert restored.best == 0.5 and restored.bad == 2


def test_early_stopping_resets_on_improvement_and_can_be_off() -> None:
    early = EarlyStopping(enabled=True, patience=2, delay=0)
    assert [early.update(s) for s in (0.5, 0.4, 0.6, 0.5)] == [False, False, False, False]
    off = EarlyStopping(enabled=False, patience=1, delay=0)
    assert not any(off.update(s) for s in (0.5, 0.1, 0.1, 0.1))


def test_fit_epochs_shortens_warmup_cosine_and_survives_a_resume() -> None:
    hp = {**BASE, "learning_rate_scheduler": "warmup_cosine", "warmup_cosine_lr_warmup_epochs": 1}
    cfg = trial_config(**{**hp, "number_of_epochs": 100})
    optimizer = create_optimizer(_model(), cfg)
    schedule = create_scheduler(optimizer, cfg, steps_per_epoch=4)
    for _ in range(4 * 5):  # five epochs of the planned 100
        optimizer.step()
        schedule.step_iteration()
    assert optimizer.param_groups[0]["lr"] > 0.09
    # Only ten epochs fit: the cosine now ends at epoch 10 instead of 100.
    assert schedule.fit_epochs(10) is True
    assert schedule.fit_epochs(10) is False
    saved = schedule.state_dict()
    for _ in range(4 * 5):
        optimizer.step()
        schedule.step_iteration()
    end = 0.1 * 0.5 * (1 + math.cos(math.pi * 0.9))
    assert optimizer.param_groups[0]["lr"] == pytest.approx(end, rel=1e-6)
    # Past the shortened end the rate stays at its final value (it does not rise again).
    for _ in range(8):
        optimizer.step()
        schedule.step_iteration()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(end, rel=1e-6)
    # A resumed schedule keeps the shortened length.
    again = create_scheduler(create_optimizer(_model(), cfg), cfg, steps_per_epoch=4)
    again.load_state_dict(saved)
    assert again.fit_epochs(10) is False


def test_fit_epochs_leaves_other_schedules_alone() -> None:
    for name in ("step", "none"):
        cfg = trial_config(**BASE, learning_rate_scheduler=name)
        schedule = create_scheduler(create_optimizer(_model(), cfg), cfg, steps_per_epoch=2)
        assert schedule.fit_epochs(3) is False


def test_yolov5_decays_only_its_weights_and_keeps_one_schedule_for_all_groups() -> None:
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4), torch.nn.Conv2d(4, 2, 1)
    )
    cfg = trial_config("image_object_detection", "yolov5", weight_decay=5e-4, number_of_epochs=4)
    optimizer = create_optimizer(model, cfg)
    decay_of = {id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]}
    assert decay_of[id(model[0].weight)] == decay_of[id(model[2].weight)] == 5e-4
    for param in (model[1].weight, model[1].bias, model[2].bias):
        assert decay_of[id(param)] == 0.0
    schedule = create_scheduler(optimizer, cfg, steps_per_epoch=3)
    for _ in range(5):
        optimizer.step()
        schedule.step_iteration()
    assert len({g["lr"] for g in optimizer.param_groups}) == 1
    # Other models keep one group, as Azure's optimizers take them.
    assert len(create_optimizer(model, trial_config(weight_decay=5e-4)).param_groups) == 1
