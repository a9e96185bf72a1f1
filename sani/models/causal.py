"""The causal LM (GPT-2, Llama...): each position predicts the next token. Its training example and collator,
and the teacher-forced log-probabilities of a record's tokens and of its values (`sani.models.kinds`)."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from ..repair.objectives import Objective
from ..spans.data import Encoded
from .batching import device_of, max_positions, moments, next_token_logprobs, pad_batch, pad_id
from .collators import IGNORE, SpanCollator
from .incontext import causal_logprobs

STATS = ("logp", "mu", "sigma", "hit")
# within `kinds.one_pass()`: model -> token list -> its `CausalLM.token_stats` (the audit's metrics share one pass)
MEMO: ContextVar[weakref.WeakKeyDictionary | None] = ContextVar("sani_token_stats", default=None)


class CausalLM:
    name = "causal-lm"
    shift = True  # position t predicts token t+1
    peft_task_type = "CAUSAL_LM"
    fsdp = True  # the repair can train sharded under FSDP (`sani.scale.sharded`)
    fills_in = False  # regurgitation continues the prompt (greedy, sampled); a masked LM fills the values in
    corrects_level = True  # `--level auto` corrects the calibrated repair's level given a holdout (`sani.repair.level`)
    masked = False  # a masked LM's training windows also say whether they teach (`learn`: `sani.scale.corpus`)
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
        memo = MEMO.get()
        seen = memo.setdefault(model, {}) if memo is not None else {}
        todo = list({tuple(e.input_ids): e for e in encoded if tuple(e.input_ids) not in seen}.values())
        limit, pid, device = max_positions(model), pad_id(tokenizer), device_of(model)
        nan = float("nan")
        got = {tuple(e.input_ids): {k: [nan] * max(0, len(e.input_ids) - 1) for k in STATS} for e in todo}
        parts = sorted(
            (
                (tuple(e.input_ids), i)
                for e in todo
                for i in range(0, len(e.input_ids), limit)
                if i == 0 or len(e.input_ids) - i > 1
            ),
            key=lambda x: len(x[0][x[1] : x[1] + limit]),
        )
        for b in tqdm(range(0, len(parts), batch_size), desc="token scores", disable=not progress, leave=False):
            batch = parts[b : b + batch_size]
            ids, mask = pad_batch([list(key[i : i + limit]) for key, i in batch], pid)
            lp, target = next_token_logprobs(model, ids.to(device), mask.to(device))
            mu, sigma = moments(lp)
            cols = {
                "logp": lp.gather(-1, target.unsqueeze(-1)).squeeze(-1),
                "mu": mu,
                "sigma": sigma,
                "hit": (lp.argmax(-1) == target).float(),
            }
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
        """log p(value | the record before it), for each (prefix, value, suffix) (`sani.models.incontext`)."""
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


def _sums(logp: list[float], enc: Encoded, start: int, limit: int) -> list[float]:
    """Per span of `enc`: the sum of `logp[t - start]` over its tokens t; NaN when one falls outside."""
    total = [float("nan")] * len(enc.record.spans)
    for t, j in enumerate(enc.span_of_token):
        if j >= 0:
            x = logp[t - start] if start <= t < limit else float("nan")
            total[j] = x if t == 0 or enc.span_of_token[t - 1] != j else total[j] + x
    return total
