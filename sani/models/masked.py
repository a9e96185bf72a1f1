"""The masked LM (BERT family): each masked position predicts its own token. Its training example and
collator, and the pseudo-log-likelihood of a record's tokens and values, each token masked alone (Salazar et
al. 2020; `sani.models.kinds`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..errors import SaniError
from ..repair.objectives import Objective
from ..spans.data import Encoded
from .batching import mask_id, max_positions, pad_id
from .collators import MLMCollator
from .incontext import masked_logprobs_in_place
from .masking import copies, score


class MaskedLM:
    name = "masked-lm"
    shift = False  # position t predicts its own (masked) token
    peft_task_type = None
    # accelerate's FSDP2 wrapping puts BERT's prediction head and the bias tied to it in two groups, which
    # torch refuses (accelerate 1.15, torch 2.13); FSDP1 does not run on CPU to test it. ZeRO-3 works
    fsdp = False
    fills_in = True  # regurgitation: the value's tokens masked and filled in (`sani.audit.fillin`)
    corrects_level = False  # not measured on masked LMs yet (issue 35): `--level auto` keeps the fixed level
    masked = True
    # What the default preset changes for masked LMs: the calibrated objective broke a tiny BERT's utility
    # (masked-token perplexity x7, docs/method.md), so unlikelihood stays; each epoch pushes down only the
    # sensitive tokens it masks, so more epochs at a constant rate, a larger share and a heavier forget term.
    preset_defaults: dict[str, Any] = dict(
        objective="masked+unlikelihood",
        epochs=5.0,
        lr=5e-4,
        forget_weight=2.0,
        forget_probability=0.5,
        scheduler="constant",
    )
    exposure_candidates = 50  # pseudo-likelihood costs a pass per token of every candidate
    # sanitize's own audits: 15 values among 15 candidates (cap 4.0 bits), paired membership on 10 records
    quick_audit: dict[str, int] = {"exposure_spans": 15, "exposure_candidates": 15, "paired_records": 10}
    bench_exposure = (100, 30)  # `sani bench`: 100 values a model, each among 30 candidates (a pass per token)

    def auto_class(self) -> Any:
        from transformers import AutoModelForMaskedLM

        return AutoModelForMaskedLM

    def check_tokenizer(self, tokenizer: Any, where: str) -> None:
        if tokenizer.mask_token_id is None:
            raise SaniError(f"{where}: the tokenizer has no mask token, which a masked LM needs")

    def example(self, ids: list[int], sens: Sequence[bool], objective: Objective, learn: bool = True) -> dict[str, Any]:
        """One training window: the ids and which are sensitive; the collator chooses the targets (none in a
        window with `learn` off)."""
        out = {"input_ids": ids, "sensitive": [0] * len(ids) if objective.full else [int(x) for x in sens]}
        return out if learn else {**out, "learn": 0}

    def example_columns(self) -> tuple[str, ...]:
        return ("input_ids", "sensitive")

    def separator(self, tokenizer: Any) -> int | None:
        """[SEP]: a masked LM's records already end so."""
        return tokenizer.sep_token_id

    def collator(self, tokenizer: Any, cfg: Any, objective: Objective) -> Any:
        return MLMCollator(
            tokenizer,
            cfg.mlm_probability,
            cfg.mask_sensitive_inputs,
            cfg.forget_probability if objective.forgets else 0.0,
            learn=objective.learn,
            alone=objective.alone,
        )

    def token_stats(
        self,
        model: nn.Module,
        tokenizer: Any,
        encoded: Sequence[Encoded],
        *,
        batch_size: int = 64,
        progress: bool = True,
        sensitive_only: bool = False,
    ) -> list[dict[str, list[float]]]:
        """As `CausalLM.token_stats`, each token after the first masked alone (pseudo-log-likelihood);
        `sensitive_only`: only the sensitive tokens (the others read NaN), one copy per value token.
        (`batch_size` is the causal kind's; copies are batched by tokens, `masking.BUDGET`.)"""
        mid, limit = mask_id(tokenizer), max_positions(model)
        nan = float("nan")
        out = [{k: [nan] * (len(e.input_ids[:limit]) - 1) for k in ("logp", "mu", "sigma", "hit")} for e in encoded]
        items, owner = [], []
        for r, enc in enumerate(encoded):
            ids = enc.input_ids[:limit]
            at = [p for p in range(1, len(ids)) if not sensitive_only or enc.sensitive[p]]
            items += copies(ids, ([p] for p in at), mid)
            owner += [(r, p) for p in at]
        s = score(model, items, pad_id(tokenizer), progress=progress, desc="pseudo-likelihood")
        hit = (s.top[:, 0] == torch.tensor([c.truth[0] for c in items], dtype=torch.long)).float()
        for i, (r, p) in enumerate(owner):
            for key, col in (("logp", s.logp), ("mu", s.mu), ("sigma", s.sigma), ("hit", hit)):
                out[r][key][p - 1] = float(col[i])
        return out

    def sequence_nll(
        self, model: nn.Module, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 256
    ) -> list[float]:
        """Negative pseudo-log-likelihood (nats) of each text: every non-special token masked alone in turn."""
        special = set(tokenizer.all_special_ids)
        mid = mask_id(tokenizer)
        items, owner = [], []
        for t, ids in enumerate(tokenizer(list(texts))["input_ids"] if texts else []):
            at = [p for p, tok in enumerate(ids) if tok not in special]
            items += copies(ids, ([p] for p in at), mid)
            owner += [t] * len(at)
        out = [0.0] * len(texts)
        for t, lp in zip(owner, score(model, items, pad_id(tokenizer)).logp.tolist()):
            out[t] -= lp
        return out

    def sensitive_logprob(
        self, model: nn.Module, tokenizer: Any, ids: torch.Tensor, mask: torch.Tensor, sens: torch.Tensor
    ) -> torch.Tensor:
        """Sum of log p(true token) at the sensitive positions, all masked at once."""
        hidden = ids.masked_fill(sens, mask_id(tokenizer))
        lp = torch.log_softmax(model(input_ids=hidden, attention_mask=mask).logits.float(), -1)
        return (lp.gather(-1, ids.unsqueeze(-1)).squeeze(-1) * sens).sum()

    def value_logprobs(self, model: nn.Module, tokenizer: Any, texts: Sequence[tuple[str, str, str]]) -> list[float]:
        """Pseudo-log-likelihood of each (prefix, value, suffix)'s value, the rest visible (`sani.models.incontext`)."""
        return masked_logprobs_in_place(model, tokenizer, texts)

    def span_logliks(
        self,
        model: nn.Module,
        tokenizer: Any,
        encoded: Sequence[Encoded],
        *,
        batch_size: int = 64,
        limit: int | None = None,
        progress: bool = True,
    ) -> list[list[float]]:
        """Per record, per span: the sum of log p(true token) over its tokens, the span masked whole (one copy
        per span: what the calibrated repair masks and pulls to its target); NaN past the first `limit` tokens
        (default: the model's window)."""
        mid = mask_id(tokenizer)
        limit = min(limit or max_positions(model), max_positions(model))
        items, owner = [], []
        for r, enc in enumerate(encoded):
            spans = [[p for p, s in enumerate(enc.span_of_token) if s == j] for j in range(len(enc.record.spans))]
            kept = [(j, pos) for j, pos in enumerate(spans) if pos and pos[-1] < limit]
            items += copies(enc.input_ids[:limit], (pos for _, pos in kept), mid)
            owner += [(r, j) for j, _ in kept]
        out = [[float("nan")] * len(e.record.spans) for e in encoded]
        s = score(model, items, pad_id(tokenizer), progress=progress, desc="calibration")
        for i, (r, j) in enumerate(owner):
            out[r][j] = float(s.logp[s.rows(i)].sum())
        return out
