"""The methods `sani bench` compares: sani's presets, the repair objectives and erase settings of the
baselines, and the calibrated default's trade-off curve, each a set of `SanitizeConfig` values on top of a
preset."""

from __future__ import annotations

from typing import Any

from ..presets import make_config

UNCALIBRATED = {"forget_weight": 1.0, "lr": 5e-4, "epochs": 2.0}  # the forget terms' settings before calibration
# name -> SanitizeConfig values (on top of the default preset, or the preset named in "preset")
METHODS: dict[str, dict[str, Any]] = {
    "sani": {},
    "sani-paper": {"preset": "paper"},
    "unlikelihood": {"objective": "masked+unlikelihood", **UNCALIBRATED},  # sani's default before calibration
    "erase-only": {"epochs": 0.0},
    "repair-only": {"fraction": 0.0},
    "gradient-ascent": {"fraction": 0.0, "objective": "ascent", "epochs": 1.0, "lr": 1e-4},
    "gradient-difference": {"fraction": 0.0, "objective": "masked+ascent", **UNCALIBRATED},
    "npo": {"fraction": 0.0, "objective": "masked+npo", **UNCALIBRATED},
    # DEPN (Wu et al. 2023): privacy neurons by integrated gradients anywhere in the network, set to zero
    "depn": {"strategy": "attribution", "scope": "network", "fraction": 0.05, "reset": "zero", "epochs": 0.0},
}
# the calibrated default's trade-off curve (shorter, weaker, slower, no anchors), by name only
CURVE = {"calibrated-e2": {"epochs": 2.0}, "calibrated-e1": {"epochs": 1.0, "level_warmup": 0.5},
         "calibrated-w1": {"forget_weight": 1.0}, "calibrated-lr1e-3": {"lr": 1e-3},
         "calibrated-no-anchors": {"anchors": 0},
         # the surrogates' sources, each at the fixed level they set (the correction would move them all)
         "calibrated-corpus": {"surrogate_source": "corpus", "level": "fixed"},
         "calibrated-faker": {"surrogate_source": "faker", "level": "fixed"},
         "calibrated-holdout": {"surrogate_source": "holdout", "level": "fixed"},
         "calibrated-level": {"level": "holdout"}, "calibrated-fixed": {"level": "fixed"},
         "calibrated-unlikelihood": {  # masked LMs' (docs/method.md)
             "objective": "masked+calibrated+unlikelihood", "forget_weight": 3.0, "epochs": 5.0, "lr": 2e-3, "scheduler": "linear"}}  # fmt: skip
QUICK_METHODS = ("sani", "sani-paper", "unlikelihood", "repair-only", "gradient-difference", "npo")


def config_of(values: dict[str, Any], task: str, **given: Any) -> Any:
    """The settings a method's `values` (`METHODS`, `CURVE`: on top of a preset) give a model of kind `task`."""
    values = {**values, **given}
    return make_config(values.pop("preset", None), task=task, **values)
