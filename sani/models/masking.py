"""Masked copies of records and what a masked LM predicts at the masked positions: every masked-LM measure
(pseudo-log-likelihood, Salazar et al. 2020, arXiv 1910.14659; the fill-in audit; calibration's span scores).

A copy masks some positions of a token list. `copies` is the one builder; `score` runs them through the
model, batched by a token budget, and keeps at each masked position only what the measures read: the
log-probability of the true token, the most likely tokens, and the mean and spread of the log-probabilities
(Min-K%++). The prediction head runs only at the masked positions: a hook on the model's base keeps the
encoder's hidden states there, and the model's own head reads those rows. That serves every architecture
whose head reads one position at a time, with no head code here; the first batch of each model checks it
against the full forward pass and falls back to that when it differs.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from .batching import device_of, moments, pad_batch

BUDGET = 16_384  # tokens a batch of copies holds
TOP = 10  # most likely tokens kept a position (the fill-in audit reads up to 10)
log = logging.getLogger(__name__)
_SPARSE: weakref.WeakKeyDictionary[nn.Module, bool] = weakref.WeakKeyDictionary()  # model -> hook checked ok
# within `shared()`: model -> (ids, positions, truth) -> what `_run` returned for that copy
_MEMO: ContextVar[weakref.WeakKeyDictionary | None] = ContextVar("sani_masked_copies", default=None)


@dataclass(frozen=True)
class Copy:
    ids: list[int]  # the token list with `positions` masked
    positions: list[int]
    truth: list[int]  # the original tokens there


def copies(ids: Sequence[int], groups: Iterable[Sequence[int]], mid: int) -> Iterator[Copy]:
    """For each group of positions, a copy of `ids` with those positions masked (`[p]` groups: pseudo-
    likelihood, each token alone; a value's positions: the value masked whole)."""
    for group in groups:
        masked = list(ids)
        for p in group:
            masked[p] = mid
        yield Copy(masked, list(group), [ids[p] for p in group])


@dataclass
class Scores:
    """One row per masked position, copy after copy: `logp` of the true token, `top` the k most likely tokens,
    `mu` and `sigma` the mean and standard deviation of the log-probabilities under the model's own
    distribution there. `start[i]`: the row of copy i's first position."""

    logp: torch.Tensor
    top: torch.Tensor
    mu: torch.Tensor
    sigma: torch.Tensor
    start: list[int]

    def rows(self, i: int) -> slice:
        return slice(self.start[i], self.start[i + 1])


def _head_at(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, where: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """The logits at positions `where` (row indices, column indices), the head applied there only."""

    def keep(_module: nn.Module, _args: tuple, output: object) -> object:
        picked = output[0][where].unsqueeze(0)  # type: ignore[index]
        if isinstance(output, tuple):
            return (picked, *output[1:])
        output.last_hidden_state = picked  # type: ignore[attr-defined]
        return output

    handle = model.base_model.register_forward_hook(keep)
    try:
        return model(input_ids=ids, attention_mask=mask).logits[0]
    finally:
        handle.remove()


def _check(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, cols: torch.Tensor) -> bool:
    """Whether the head at the kept rows gives the full forward pass's logits, on one copy."""
    where = (torch.zeros_like(cols), cols)
    full = model(input_ids=ids, attention_mask=mask).logits[where]
    try:
        sparse = _head_at(model, ids, mask, where)
        ok = sparse.shape == full.shape and torch.allclose(sparse.float(), full.float(), atol=1e-4, rtol=1e-4)
    except Exception:  # noqa: BLE001 - a head that does not take the kept rows: the full forward pass
        ok = False
    if not ok:
        log.info("%s: its head needs every position; masked copies are scored in full", type(model).__name__)
    return ok


def _logits(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, where: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """[positions, vocab]: the head at `where` only, once this model passed its check; else the full forward."""
    if model not in _SPARSE and bool((where[0] == 0).any()):
        _SPARSE[model] = _check(model, ids[:1], mask[:1], where[1][where[0] == 0])
    if _SPARSE.get(model):
        return _head_at(model, ids, mask, where)
    return model(input_ids=ids, attention_mask=mask).logits[where]


@contextmanager
def shared() -> Iterator[None]:
    """Within it, a copy already scored by a model is not scored again (the fill-in audit, membership and the
    paired test mask the same value tokens). Only while no weights change (the audit's metrics)."""
    token = _MEMO.set(weakref.WeakKeyDictionary())
    try:
        yield
    finally:
        _MEMO.reset(token)


def _batches(items: Sequence[Copy], budget: int) -> list[list[int]]:
    """Copies by ascending length, cut so that a batch holds at most `budget` tokens (at least one copy)."""
    batches: list[list[int]] = [[]]
    for i in sorted(range(len(items)), key=lambda i: len(items[i].ids)):
        if batches[-1] and (len(batches[-1]) + 1) * len(items[i].ids) > budget:  # the copy added is the widest
            batches.append([])
        batches[-1].append(i)
    return batches if items else []


def _run(
    model: nn.Module, items: Sequence[Copy], pad: int, k: int, budget: int, progress: bool, desc: str
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per copy: [positions, 3] (log p(true token), mean, std of the log-probs) and [positions, k] top tokens."""
    device = device_of(model)
    out: list[tuple[torch.Tensor, torch.Tensor]] = [(torch.empty(0), torch.empty(0))] * len(items)
    bar = tqdm(total=len(items), desc=desc, disable=not progress, leave=False)
    for idx in _batches(items, budget):
        ids, mask = pad_batch([items[i].ids for i in idx], pad)
        rows = torch.tensor([r for r, i in enumerate(idx) for _ in items[i].positions], dtype=torch.long)
        cols = torch.tensor([p for i in idx for p in items[i].positions], dtype=torch.long)
        lp = torch.log_softmax(_logits(model, ids.to(device), mask.to(device), (rows, cols)).float(), -1).cpu()
        truth = torch.tensor([t for i in idx for t in items[i].truth], dtype=torch.long)
        mu, sigma = moments(lp)
        stats = torch.stack([lp.gather(-1, truth[:, None]).squeeze(-1), mu, sigma], -1)
        top = lp.topk(k, dim=-1).indices
        at = 0
        for i in idx:
            n = len(items[i].positions)
            out[i] = (stats[at : at + n], top[at : at + n])
            at += n
        bar.update(len(idx))
    bar.close()
    return out


@torch.no_grad()
def score(
    model: nn.Module,
    items: Sequence[Copy],
    pad: int,
    *,
    top_k: int = 1,
    budget: int = BUDGET,
    progress: bool = False,
    desc: str = "",
) -> Scores:
    """What the model predicts at every masked position of every copy (`Scores`), batched by `budget` tokens;
    inside `shared()`, copies this model already scored are read back."""
    memo = _MEMO.get()
    seen = memo.setdefault(model, {}) if memo is not None else {}
    k = max(1, min(max(top_k, TOP), model.config.vocab_size))
    keys = [(tuple(c.ids), tuple(c.positions), tuple(c.truth)) for c in items]
    todo = {key: c for key, c in zip(keys, items) if key not in seen or seen[key][1].shape[1] < top_k}
    got = dict(zip(todo, _run(model, list(todo.values()), pad, k, budget, progress, desc)))
    if memo is not None:
        seen.update(got)
    parts = [got[key] if key in got else seen[key] for key in keys]
    start = [0]
    for c in items:
        start.append(start[-1] + len(c.positions))
    stats = torch.cat([s for s, _ in parts]) if parts else torch.zeros((0, 3))
    top = torch.cat([t[:, :top_k] for _, t in parts]) if parts else torch.zeros((0, top_k), dtype=torch.long)
    return Scores(stats[:, 0], top, stats[:, 1], stats[:, 2], start)
