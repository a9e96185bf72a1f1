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
from contextvars import ContextVar
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .batching import device_of, mask_id, max_positions, moments, next_token_logprobs, pad_batch, pad_id
from .collators import IGNORE, MLMCollator, SpanCollator
from .data import Encoded
from .errors import SaniError
from .incontext import causal_logprobs, masked_logprobs_in_place
from .masking import copies, score, shared
from .objectives import Objective

TASKS = ("causal-lm", "masked-lm")
STATS = ("logp", "mu", "sigma", "hit")
# within `one_pass()`: model -> token list -> its `CausalLM.token_stats` (the audit's metrics share one pass)
_MEMO: ContextVar[weakref.WeakKeyDictionary | None] = ContextVar("sani_token_stats", default=None)


@contextmanager
def one_pass() -> Iterator[None]:
    """Within it, a causal LM's `token_stats` reads each token list once per model (utility, extraction and
    membership share one teacher-forced pass), and a masked LM scores each masked copy once
    (`masking.shared`). Only while no weights change (the audit's metrics)."""
    token = _MEMO.set(weakref.WeakKeyDictionary())
    try:
        with shared():
            yield
    finally:
        _MEMO.reset(token)


class CausalLM:
    name = "causal-lm"
    shift = True  # position t predicts token t+1
    peft_task_type = "CAUSAL_LM"
    fsdp = True  # the repair can train sharded under FSDP (`sani.sharded`)
    fills_in = False  # regurgitation continues the prompt (greedy, sampled); a masked LM fills the values in
    corrects_level = True  # `--level auto` corrects the calibrated repair's level given a holdout (`sani.level`)
    masked = False  # a masked LM's training windows also say whether they teach (`learn`: `sani.corpus`)
    preset_defaults: dict[str, Any] = {}  # what the default preset changes for this kind (`presets.make_config`)
    exposure_candidates = 1000  # `sani audit`'s value exposure: each value among this many candidates
    # sanitize's own audits (`pipeline.sanitize_audit`, an indication): value exposure on 30 values, each among
    # 30 candidates (cap 5.0 bits); the paired membership test on every record (0: one pass each)
    quick_audit: dict[str, int] = {"exposure_spans": 30, "exposure_candidates": 30, "paired_records": 0}
    bench_exposure = (200, 300)  # `sani bench`'s value exposure: 200 values a model, each among 300 candidates

    def auto_class(self) -> Any:
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM

    def check_tokenizer(self, tokenizer: Any, where: str) -> None:
        """Nothing a causal LM needs beyond what every tokenizer has."""

    def example(self, ids: list[int], sens: Sequence[bool], objective: Objective, learn: bool = True) -> dict[str, Any]:
        """One training window: `labels` (what is learnt; nothing without `learn`) and `forget_labels` (the
        sensitive tokens)."""
        if not objective.learn or not learn:  # only the forget term
            labels = [IGNORE] * len(ids)
        else:
            labels = list(ids) if objective.full else [IGNORE if s else t for t, s in zip(ids, sens)]
        forget = [t if s else IGNORE for t, s in zip(ids, sens)]
        return {"input_ids": ids, "labels": labels, "forget_labels": forget}

    def example_columns(self) -> tuple[str, ...]:
        return ("input_ids", "labels", "forget_labels")

    def separator(self, tokenizer: Any) -> int | None:
        """What ends a record in a packed window."""
        return tokenizer.eos_token_id

    def collator(self, tokenizer: Any, cfg: Any, objective: Objective) -> Any:
        return SpanCollator(pad_id(tokenizer))

    @torch.no_grad()
    def token_stats(
        self,
        model: nn.Module,
        tokenizer: Any,
        encoded: Sequence[Encoded],
        *,
        batch_size: int = 16,
        progress: bool = True,
        sensitive_only: bool = False,
    ) -> list[dict[str, list[float]]]:
        """Per record, for each token after the first: its log-prob, the mean and std of log-probs under the
        model's distribution at that position (for Min-K%++), and whether it is the most likely token (`hit`,
        1.0 or 0.0). Records longer than the window are read in windows (`data.windows`), the first token of
        each unpredicted (NaN). One pass reads every token, so `sensitive_only` changes nothing here; inside
        `one_pass()` a record already read by this model is not read again."""
        memo = _MEMO.get()
        seen = memo.setdefault(model, {}) if memo is not None else {}
        todo = list({tuple(e.input_ids): e for e in encoded if tuple(e.input_ids) not in seen}.values())
        limit, pid, device = max_positions(model), pad_id(tokenizer), device_of(model)
        nan = float("nan")
        got = {tuple(e.input_ids): {k: [nan] * max(0, len(e.input_ids) - 1) for k in STATS} for e in todo}
        parts = sorted(((tuple(e.input_ids), i) for e in todo for i in range(0, len(e.input_ids), limit)
                        if i == 0 or len(e.input_ids) - i > 1), key=lambda x: len(x[0][x[1] : x[1] + limit]))  # fmt: skip
        for b in tqdm(range(0, len(parts), batch_size), desc="token scores", disable=not progress, leave=False):
            batch = parts[b : b + batch_size]
            ids, mask = pad_batch([list(key[i : i + limit]) for key, i in batch], pid)
            lp, target = next_token_logprobs(model, ids.to(device), mask.to(device))
            mu, sigma = moments(lp)
            cols = {"logp": lp.gather(-1, target.unsqueeze(-1)).squeeze(-1), "mu": mu, "sigma": sigma,
                    "hit": (lp.argmax(-1) == target).float()}  # fmt: skip
            for row, (key, i) in enumerate(batch):
                n = min(limit, len(key) - i) - 1
                for k, col in cols.items():
                    got[key][k][i : i + n] = col[row, :n].tolist()
        seen.update(got)
        return [seen[tuple(e.input_ids)] if memo is not None else got[tuple(e.input_ids)] for e in encoded]

    @torch.no_grad()
    def sequence_nll(
        self, model: nn.Module, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 256
    ) -> list[float]:
        """Total negative log-likelihood (nats) of each text's tokens after the first."""
        device, pid = device_of(model), pad_id(tokenizer)
        enc = [tokenizer(t)["input_ids"] for t in texts]
        out = []
        for b in range(0, len(enc), batch_size):
            ids, mask = pad_batch(enc[b : b + batch_size], pid)
            lp, target = next_token_logprobs(model, ids.to(device), mask.to(device))
            tok = lp.gather(-1, target.unsqueeze(-1)).squeeze(-1) * mask[:, 1:].to(device)
            out += (-tok.sum(-1)).tolist()
        return out

    def sensitive_logprob(
        self, model: nn.Module, tokenizer: Any, ids: torch.Tensor, mask: torch.Tensor, sens: torch.Tensor
    ) -> torch.Tensor:
        """Sum of log p(token | prefix) over the sensitive tokens: what erase scores attribute."""
        lp, target = next_token_logprobs(model, ids, mask)
        return (lp.gather(-1, target.unsqueeze(-1)).squeeze(-1) * sens[:, 1:]).sum()

    def value_logprobs(self, model: nn.Module, tokenizer: Any, texts: Sequence[tuple[str, str, str]]) -> list[float]:
        """log p(value | the record before it), for each (prefix, value, suffix) (`sani.incontext`)."""
        return causal_logprobs(model, tokenizer, texts)

    @torch.no_grad()
    def span_logliks(
        self,
        model: nn.Module,
        tokenizer: Any,
        encoded: Sequence[Encoded],
        *,
        batch_size: int = 16,
        limit: int | None = None,
        progress: bool = True,
    ) -> list[list[float]]:
        """Per record, per span: the sum of log p(token | everything before it) over its tokens (what the
        calibrated repair pulls to its target); NaN for a span that starts the record or leaves the first
        `limit` tokens (default: the model's window)."""
        limit = min(limit or max_positions(model), max_positions(model))
        stats = self.token_stats(model, tokenizer, encoded, batch_size=batch_size, progress=progress)
        return [_sums(s["logp"], enc, start=1, limit=limit) for s, enc in zip(stats, encoded)]


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
        """Pseudo-log-likelihood of each (prefix, value, suffix)'s value, the rest visible (`sani.incontext`)."""
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


def _sums(logp: list[float], enc: Encoded, start: int, limit: int) -> list[float]:
    """Per span of `enc`: the sum of `logp[t - start]` over its tokens t; NaN when one falls outside."""
    total = [float("nan")] * len(enc.record.spans)
    for t, j in enumerate(enc.span_of_token):
        if j >= 0:
            x = logp[t - start] if start <= t < limit else float("nan")
            total[j] = x if t == 0 or enc.span_of_token[t - 1] != j else total[j] + x
    return total


Kind = CausalLM | MaskedLM
KINDS: dict[str, Kind] = {k.name: k for k in (CausalLM(), MaskedLM())}


def by_name(task: str) -> Kind:
    return KINDS[task]


def detect(heads: Sequence[str] = (), model_type: str | None = None) -> Kind | None:
    """The one rule for a model directory's config (`models.inspect`), a loaded model (`of`) and a tiny
    architecture (`sani.demo`): the kind its head classes name, else its model type's (an encoder such as
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
