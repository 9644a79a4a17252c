from __future__ import annotations

import os

from automl_nb.runner._slots import plan_slots
from automl_nb.runner._slots import visible_gpus


def test_cpu_machine_gets_one_slot_unless_more_are_asked_for():
    slots = plan_slots(max_trials=10, max_concurrent_trials=1, compute="cpu")
    assert [s.name for s in slots] == ["cpu:0"]
    assert slots[0].cuda_devices == ""
    assert slots[0].threads == (os.cpu_count() or 1)


def test_cpu_slots_share_the_cores_and_are_capped_by_max_trials():
    slots = plan_slots(max_trials=3, max_concurrent_trials=8, compute="cpu")
    assert len(slots) == 3
    assert all(s.threads == max(1, (os.cpu_count() or 1) // 3) for s in slots)


def test_explicit_gpu_list_gives_one_slot_per_gpu():
    slots = plan_slots(max_trials=10, max_concurrent_trials=4, compute="cuda:0,1")
    assert [(s.name, s.cuda_devices) for s in slots] == [("gpu:0", "0"), ("gpu:1", "1")]


def test_cloud_compute_means_local():
    assert visible_gpus("azureml:gpu-cluster") == visible_gpus("local")
    assert visible_gpus("cpu") == []
