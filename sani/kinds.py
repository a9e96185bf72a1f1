"""The model kind, resolved once when a model is loaded: a causal LM (GPT-2, Llama...) predicts each next
token; a masked LM (BERT family) fills in masked tokens. Everything that differs between the two lives here
and the rest of sani asks the kind: the training example and its collator, whether the loss shifts by one,
the log-probability of a record's tokens (teacher-forced, or pseudo-log-likelihood: each token masked alone,
Salazar et al. 2020) and of the sensitive tokens (what erase scores attribute).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from .batching import device_of, mask_id, masked, masked_logprobs, max_positions, next_token_logprobs, pad_batch, pad_id
from .collators import IGNORE, MLMCollator, SpanCollator
from .data import Encoded
from .errors import SaniError
from .incontext import causal_logprobs, masked_logprobs_in_place

TASKS = ("causal-lm", "masked-lm")


class CausalLM:
    name = "causal-lm"
    shift = True  # position t predicts token t+1
    peft_task_type = "CAUSAL_LM"

    def auto_class(self) -> Any:
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM

    def check_tokenizer(self, tokenizer: Any, where: str) -> None:
        """Nothing a causal LM needs beyond what every tokenizer has."""

    def example(self, ids: list[int], sens: Sequence[bool], objective: str, learn: bool = True) -> dict[str, Any]:
        """One training window: `labels` (what is learnt; nothing without `learn`) and `forget_labels` (the
        sensitive tokens)."""
        if objective == "ascent" or not learn:  # only the forget term
            labels = [IGNORE] * len(ids)
        else:
            labels = list(ids) if objective == "full" else [IGNORE if s else t for t, s in zip(ids, sens)]
        forget = [t if s else IGNORE for t, s in zip(ids, sens)]
        return {"input_ids": ids, "labels": labels, "forget_labels": forget}

    def example_columns(self) -> tuple[str, ...]:
        return ("input_ids", "labels", "forget_labels")

    def separator(self, tokenizer: Any) -> int | None:
        """What ends a record in a packed window."""
        return tokenizer.eos_token_id

    def collator(self, tokenizer: Any, cfg: Any, forget: bool) -> Any:
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
        """Per record, for each predicted token: its log-prob, the mean and std of log-probs under the model's
        distribution at that position (for Min-K%++), and whether it is the most likely token (`hit`, 1.0 or
        0.0). Records longer than the window are truncated.
        One pass reads every token, so `sensitive_only` changes nothing here."""
        device, limit, pid = device_of(model), max_positions(model), pad_id(tokenizer)
        out: list[dict[str, list[float]]] = []
        for b in tqdm(range(0, len(encoded), batch_size), desc="membership", disable=not progress, leave=False):
            batch = [e.input_ids[:limit] for e in encoded[b : b + batch_size]]
            ids, mask = pad_batch(batch, pid)
            lp, target = next_token_logprobs(model, ids.to(device), mask.to(device))
            tok = lp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
            hit = (lp.argmax(-1) == target).float()
            p = lp.exp()
            mu = (p * lp).sum(-1)
            sigma = ((p * lp * lp).sum(-1) - mu * mu).clamp(min=1e-12).sqrt()
            for row, toks in enumerate(batch):
                n = len(toks) - 1
                out.append({"logp": tok[row, :n].tolist(), "mu": mu[row, :n].tolist(),
                            "sigma": sigma[row, :n].tolist(), "hit": hit[row, :n].tolist()})  # fmt: skip
        return out

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

    def auto_class(self) -> Any:
        from transformers import AutoModelForMaskedLM

        return AutoModelForMaskedLM

    def check_tokenizer(self, tokenizer: Any, where: str) -> None:
        if tokenizer.mask_token_id is None:
            raise SaniError(f"{where}: the tokenizer has no mask token, which a masked LM needs")

    def example(self, ids: list[int], sens: Sequence[bool], objective: str, learn: bool = True) -> dict[str, Any]:
        """One training window: the ids and which are sensitive; the collator chooses the targets (none in a
        window with `learn` off)."""
        out = {"input_ids": ids, "sensitive": [0] * len(ids) if objective == "full" else [int(x) for x in sens]}
        return out if learn else {**out, "learn": 0}

    def example_columns(self) -> tuple[str, ...]:
        return ("input_ids", "sensitive")

    def separator(self, tokenizer: Any) -> int | None:
        """[SEP]: a masked LM's records already end so."""
        return tokenizer.sep_token_id

    def collator(self, tokenizer: Any, cfg: Any, forget: bool) -> Any:
        return MLMCollator(
            tokenizer,
            cfg.mlm_probability,
            cfg.mask_sensitive_inputs,
            cfg.forget_probability if forget else 0.0,
            learn=cfg.objective != "ascent",
            alone=cfg.objective == "masked+calibrated+unlikelihood",
        )

    @torch.no_grad()
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
        `sensitive_only`: only the sensitive tokens (the others read NaN), one copy per value token."""
        mid, pad, limit = mask_id(tokenizer), pad_id(tokenizer), max_positions(model)
        nan = float("nan")
        out = [{k: [nan] * (len(e.input_ids[:limit]) - 1) for k in ("logp", "mu", "sigma", "hit")} for e in encoded]
        rows, owner = [], []
        for r, enc in enumerate(encoded):
            ids = enc.input_ids[:limit]
            for p in range(1, len(ids)):
                if not sensitive_only or enc.sensitive[p]:
                    rows.append((masked(ids, [p], mid), [p]))
                    owner.append((r, p, ids[p]))
        lps = masked_logprobs(model, rows, pad, batch_size=batch_size, progress=progress, desc="pseudo-likelihood")
        for (r, p, true), lp in zip(owner, lps):
            lp = lp[0]
            prob = lp.exp()
            mu = float((prob * lp).sum())
            out[r]["logp"][p - 1] = float(lp[true])
            out[r]["mu"][p - 1] = mu
            out[r]["hit"][p - 1] = float(int(lp.argmax()) == true)
            out[r]["sigma"][p - 1] = max(float((prob * lp * lp).sum()) - mu * mu, 1e-12) ** 0.5
        return out

    @torch.no_grad()
    def sequence_nll(
        self, model: nn.Module, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 256
    ) -> list[float]:
        """Negative pseudo-log-likelihood (nats) of each text: every non-special token masked alone in turn."""
        special = set(tokenizer.all_special_ids)
        mid, pad = mask_id(tokenizer), pad_id(tokenizer)
        rows, owner = [], []
        for t, text in enumerate(texts):
            ids = tokenizer(text)["input_ids"]
            for p, tok in enumerate(ids):
                if tok not in special:
                    rows.append((masked(ids, [p], mid), [p]))
                    owner.append((t, tok))
        out = [0.0] * len(texts)
        for (t, tok), lp in zip(
            owner, masked_logprobs(model, rows, pad, batch_size=batch_size, progress=False, desc="")
        ):
            out[t] -= float(lp[0, tok])
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
        mid, pad = mask_id(tokenizer), pad_id(tokenizer)
        limit = min(limit or max_positions(model), max_positions(model))
        rows, owner = [], []
        for r, enc in enumerate(encoded):
            ids = enc.input_ids[:limit]
            for j in range(len(enc.record.spans)):
                pos = [p for p, s in enumerate(enc.span_of_token) if s == j]
                if pos and pos[-1] < limit:
                    rows.append((masked(ids, pos, mid), pos))
                    owner.append((r, j, [ids[p] for p in pos]))
        out = [[float("nan")] * len(e.record.spans) for e in encoded]
        lps = masked_logprobs(model, rows, pad, batch_size=batch_size, progress=progress, desc="calibration")
        for (r, j, true), lp in zip(owner, lps):
            out[r][j] = float(lp[torch.arange(len(true)), torch.tensor(true)].sum())
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


def of(model: nn.Module) -> Kind:
    """The kind of a loaded model (under a PEFT wrapper, its base model's), from its head class."""
    base = model.get_base_model() if hasattr(model, "peft_config") and hasattr(model, "get_base_model") else model
    masked = type(base).__name__.endswith(("ForMaskedLM", "WithLMHeadModel"))  # XLM, Flaubert: masked-LM heads
    return KINDS["masked-lm" if masked else "causal-lm"]
