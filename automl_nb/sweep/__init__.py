"""Sweeps: search spaces, samplers, early termination, AutoMode and limits, on Optuna.

Names are resolved on first use so that importing this package does not import Optuna.
"""

from __future__ import annotations

from automl_nb._lazy import lazy_exports

_LAZY_EXPORTS: dict[str, str] = {
    "CompiledSpace": "automl_nb.sweep._search_space",
    "compile_search_space": "automl_nb.sweep._search_space",
    "enqueue_hyperparameters": "automl_nb.sweep._search_space",
    "normalize_search_space": "automl_nb.sweep._search_space",
    "suggest_parameters": "automl_nb.sweep._search_space",
    "suggest_value": "automl_nb.sweep._search_space",
    "trial_hyperparameters": "automl_nb.sweep._search_space",
    "GridPoint": "automl_nb.sweep._grid",
    "GridSearchSampler": "automl_nb.sweep._grid",
    "grid_points": "automl_nb.sweep._grid",
    "grid_size": "automl_nb.sweep._grid",
    "SAMPLERS": "automl_nb.sweep._samplers",
    "create_sampler": "automl_nb.sweep._samplers",
    "list_samplers": "automl_nb.sweep._samplers",
    "register_sampler": "automl_nb.sweep._samplers",
    "POLICIES": "automl_nb.sweep._policy_base",
    "PolicyPruner": "automl_nb.sweep._policy_base",
    "register_policy": "automl_nb.sweep._policy_base",
    "BanditPruner": "automl_nb.sweep._bandit",
    "MedianStoppingPruner": "automl_nb.sweep._median_stopping",
    "TruncationSelectionPruner": "automl_nb.sweep._truncation_selection",
    "create_pruner": "automl_nb.sweep._policies",
    "list_policies": "automl_nb.sweep._policies",
    "DEFAULT_MODELS": "automl_nb.sweep._automode",
    "automode_first_params": "automl_nb.sweep._automode",
    "automode_search_space": "automl_nb.sweep._automode",
    "memory_tier": "automl_nb.sweep._automode",
    "visible_gpu_memory_gb": "automl_nb.sweep._automode",
    "effective_concurrency": "automl_nb.sweep._limits",
    "gpu_slots": "automl_nb.sweep._limits",
    "timeout_seconds": "automl_nb.sweep._limits",
    "Budget": "automl_nb.sweep._budget",
    "DataProfile": "automl_nb.sweep._budget",
    "plan_automode": "automl_nb.sweep._planner",
    "Candidate": "automl_nb.sweep._plan_object",
    "Plan": "automl_nb.sweep._plan_object",
    "Cost": "automl_nb.sweep._probe",
    "CostProbe": "automl_nb.sweep._probe",
    "Machine": "automl_nb.sweep._probe",
    "detect_machine": "automl_nb.sweep._probe",
    "measure_cost": "automl_nb.sweep._probe",
    "is_automode": "automl_nb.sweep._plan_job",
    "plan_job": "automl_nb.sweep._plan_job",
    "SweepPlan": "automl_nb.sweep._plan",
    "create_study_components": "automl_nb.sweep._plan",
}

__all__ = sorted(_LAZY_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY_EXPORTS)
