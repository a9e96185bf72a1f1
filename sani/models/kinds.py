"""The model kind, resolved once when a model is loaded: a causal LM (GPT-2, Llama...) predicts each next
token; a masked LM (BERT family) fills in masked tokens. Everything that differs between the two lives here
and the rest of sani asks the kind: the training example and its collator, whether the loss shifts by one,
the log-probability of a record's tokens (teacher-forced, or pseudo-log-likelihood: each token masked alone,
Salazar et al. 2020) and of the sensitive tokens (what erase scores attribute).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from torch import nn

from .causal import MEMO, CausalLM
from .masked import MaskedLM
from .masking import shared

TASKS = ("causal-lm", "masked-lm")


@contextmanager
def one_pass() -> Iterator[None]:
    """Within it, a causal LM's `token_stats` reads each token list once per model (utility, extraction and
    membership share one teacher-forced pass), and a masked LM scores each masked copy once
    (`masking.shared`). Only while no weights change (the audit's metrics)."""
    token = MEMO.set(weakref.WeakKeyDictionary())
    try:
        with shared():
            yield
    finally:
        MEMO.reset(token)


Kind = CausalLM | MaskedLM
KINDS: dict[str, Kind] = {k.name: k for k in (CausalLM(), MaskedLM())}


def by_name(task: str) -> Kind:
    return KINDS[task]


def detect(heads: Sequence[str] = (), model_type: str | None = None) -> Kind | None:
    """The one rule for a model directory's config (`models.inspect`), a loaded model (`of`) and a tiny
    architecture (`sani.bench.demo`): the kind its head classes name, else its model type's (an encoder such as
    BERT also has a causal head: the masked one is its own); None when neither tells."""
    if any(h.endswith(("ForMaskedLM", "WithLMHeadModel")) for h in heads):  # XLM, Flaubert: masked-LM heads
        return KINDS["masked-lm"]
    if any(h.endswith(("ForCausalLM", "LMHeadModel")) for h in heads):
        return KINDS["causal-lm"]
    from transformers.models.auto import modeling_auto as auto

    if model_type in auto.MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        return KINDS["masked-lm"]
    return KINDS["causal-lm"] if model_type in auto.MODEL_FOR_CAUSAL_LM_MAPPING_NAMES else None


def of(model: nn.Module) -> Kind:
    """The kind of a loaded model (under a PEFT wrapper, its base model's), from its head class (`detect`;
    any other class reads as a causal LM)."""
    base = model.get_base_model() if hasattr(model, "peft_config") and hasattr(model, "get_base_model") else model
    return detect([type(base).__name__]) or KINDS["causal-lm"]
