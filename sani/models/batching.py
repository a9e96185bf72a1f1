"""Tensors from token lists: padding, the model's window, the special ids. The helpers below the model kinds
and the audit's metrics, which all batch records the same way (masked copies: `sani.models.masking`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import SaniError

# position ids start after the padding index in these (RoBERTa's embeddings): pad_token_id + 1 fewer usable
_OFFSET_POSITIONS = (
    "roberta",
    "xlm-roberta",
    "xlm-roberta-xl",
    "camembert",
    "roberta-prelayernorm",
    "data2vec-text",
    "xmod",
)


def max_positions(model: nn.Module) -> int:
    """How many tokens the model can read at once."""
    c = model.config
    for key in ("n_positions", "max_position_embeddings", "max_sequence_length", "seq_length"):
        v = getattr(c, key, None)
        if isinstance(v, int) and v > 0:
            if getattr(c, "model_type", None) in _OFFSET_POSITIONS:
                v -= (getattr(c, "pad_token_id", None) or 1) + 1
            return v
    return 2048


def pad_id(tokenizer: Any) -> int:
    """The id to pad with; tokenizers without a pad token (GPT-2) pad with EOS, which is then masked out."""
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0


def mask_id(tokenizer: Any) -> int:
    if tokenizer.mask_token_id is None:
        raise SaniError(f"tokenizer {type(tokenizer).__name__} has no mask token, which a masked LM needs")
    return int(tokenizer.mask_token_id)


def pad_batch(seqs: Sequence[list[int]], pad: int, *, left: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists -> (ids, attention mask), padded on the right (scoring) or on the left (generation)."""
    width = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, toks in enumerate(seqs):
        cols = slice(width - len(toks), width) if left else slice(0, len(toks))
        ids[row, cols] = torch.tensor(toks, dtype=torch.long)
        mask[row, cols] = 1
    return ids, mask


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def moments(lp: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of the log-probabilities `lp` [..., vocab] under their own distribution
    (Min-K%++'s normalization), over the last dimension."""
    p = lp.exp()
    mu = (p * lp).sum(-1)
    return mu, ((p * lp * lp).sum(-1) - mu * mu).clamp(min=1e-12).sqrt()


def next_token_logprobs(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A causal LM's log-probabilities of every next token [batch, len-1, vocab], and the tokens it had to
    predict [batch, len-1]: the shift by one, written once."""
    logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
    return torch.log_softmax(logits, -1), ids[:, 1:]
