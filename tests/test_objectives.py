"""The objective registry answers as the name tables it replaced did: the same objectives, in the config's
order, with the same forget term, reference, calibration, learnt tokens and masked-LM collator."""

import pytest

from sani import config
from sani.errors import SaniError
from sani.models import masked
from sani.models.collators import IGNORE
from sani.models.kinds import CausalLM, MaskedLM
from sani.repair import losses
from sani.repair.objectives import OBJECTIVES, objective

pytestmark = pytest.mark.unit

# what losses.py, kinds.py and the trainer said of each name before the registry (issue 34)
FORGET_LOSSES = {
    "masked+unlikelihood": losses.unlikelihood_loss,
    "masked+maxent": losses.maxent_loss,
    "masked+unlikelihood+maxent": losses.unlikelihood_maxent_loss,
    "ascent": losses.ascent_loss,
    "masked+ascent": losses.ascent_loss,
    "masked+npo": losses.npo_loss,
    "masked+calibrated": losses.calibrated_loss,
    "masked+calibrated+unlikelihood": losses.calibrated_unlikelihood_loss,
}
NEEDS_REFERENCE = {"masked+npo"}
CALIBRATED = {"masked+calibrated", "masked+calibrated+unlikelihood"}


def test_the_registry_holds_the_configs_choices_in_order():
    assert tuple(OBJECTIVES) == config.OBJECTIVES
    assert all(objective(name).name == name for name in config.OBJECTIVES)


def test_an_unknown_name_is_one_line_naming_the_choices():
    with pytest.raises(SaniError, match=r"^objective='bogus': choose one of full, masked, masked\+unlikelihood, "):
        objective("bogus")


@pytest.mark.parametrize("name", config.OBJECTIVES)
def test_each_objective_asks_what_its_name_did(name):
    goal = objective(name)
    assert goal.forget_loss is FORGET_LOSSES.get(name)
    assert goal.forgets == (name in FORGET_LOSSES)
    assert goal.needs_reference == (name in NEEDS_REFERENCE)
    assert goal.calibrated == (name in CALIBRATED)
    assert goal.learn == (name != "ascent")
    assert goal.full == (name == "full")
    assert goal.alone == (name == "masked+calibrated+unlikelihood")


@pytest.mark.parametrize("name", config.OBJECTIVES)
def test_the_kinds_windows_follow_the_objective(name):
    ids, sens = [5, 6, 7, 8], [False, True, True, False]
    causal = CausalLM().example(ids, sens, objective(name))
    want = {"ascent": [IGNORE] * 4, "full": ids}.get(name, [5, IGNORE, IGNORE, 8])
    assert causal == {"input_ids": ids, "labels": want, "forget_labels": [IGNORE, 6, 7, IGNORE]}
    assert CausalLM().example(ids, sens, objective(name), learn=False)["labels"] == [IGNORE] * 4
    masked = MaskedLM().example(ids, sens, objective(name))
    assert masked == {"input_ids": ids, "sensitive": [0] * 4 if name == "full" else [0, 1, 1, 0]}


@pytest.mark.parametrize("name", config.OBJECTIVES)
def test_the_masked_lm_collator_follows_the_objective(name, monkeypatch):
    monkeypatch.setattr(masked, "MLMCollator", lambda *a, **kw: (a, kw))
    cfg = config.RepairConfig(objective=name, forget_probability=0.25)
    args, kw = MaskedLM().collator(None, cfg, objective(name))
    assert args == (None, cfg.mlm_probability, cfg.mask_sensitive_inputs, 0.25 if name in FORGET_LOSSES else 0.0)
    assert kw == {"learn": name != "ascent", "alone": name == "masked+calibrated+unlikelihood"}
