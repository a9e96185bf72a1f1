"""Canaries and exposure (Carlini et al. 2019, "The Secret Sharer").

For users who can still fine-tune: insert records "...my PIN is 382910..." with random secrets, a few
canaries each repeated 1, 2, 5 or 10 times. After training (and after sanitizing), rank each true secret's
log-perplexity among the candidates of its space R: exposure = log2|R| - log2 rank. The rank is exact
when R is small enough to score every candidate, else estimated from a normal fitted to the
log-perplexities of sampled candidates (Carlini et al. fit a skew-normal; a normal is close for these
unimodal distributions and needs no extra dependency).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

from .data import Record, Span
from .errors import SaniError
from .metrics import pad_batch
from .models import pad_id

ALPHABETS = {"digits": "0123456789", "hex": "0123456789abcdef", "letters": "abcdefghijklmnopqrstuvwxyz"}
LABEL = "CANARY"


@dataclass
class CanarySpace:
    alphabet: str
    length: int

    @classmethod
    def parse(cls, spec: str) -> "CanarySpace":
        kind, _, n = spec.partition(":")
        if kind not in ALPHABETS or not n.isdigit() or not 1 <= int(n) <= 64:
            raise SaniError(f"canary space {spec!r}: expected one of {', '.join(ALPHABETS)} and a length, e.g. digits:6")
        return cls(ALPHABETS[kind], int(n))

    @property
    def spec(self) -> str:
        kind = next(k for k, v in ALPHABETS.items() if v == self.alphabet)
        return f"{kind}:{self.length}"

    @property
    def size(self) -> int:
        return len(self.alphabet) ** self.length

    def random(self, rng: random.Random) -> str:
        return "".join(rng.choice(self.alphabet) for _ in range(self.length))

    def nth(self, i: int) -> str:
        out = []
        for _ in range(self.length):
            i, d = divmod(i, len(self.alphabet))
            out.append(self.alphabet[d])
        return "".join(reversed(out))


def insert_canaries(
    records: list[Record], *, fmt: str = "The access code of my account is {secret}.", space: str = "digits:6",
    repeats: Sequence[int] = (1, 2, 5, 10), per_repeat: int = 2, seed: int = 0,
) -> tuple[list[Record], dict[str, Any]]:
    """Return the corpus with canary records inserted at random places, and the canary definition (which
    holds the secrets: keep it with the data, it is what the audit ranks)."""
    if fmt.count("{secret}") != 1:
        raise SaniError("canary format must contain {secret} exactly once")
    sp = CanarySpace.parse(space)
    rng = random.Random(seed)
    canaries, out = [], list(records)
    start = fmt.index("{secret}")
    for rep in repeats:
        for j in range(per_repeat):
            secret = sp.random(rng)
            text = fmt.replace("{secret}", secret)
            canaries.append({"id": f"canary-{rep}x-{j}", "repeats": rep, "secret": secret})
            for _ in range(rep):
                out.insert(rng.randrange(len(out) + 1), Record(text, [Span(start, start + len(secret), LABEL, "canary")]))
    return out, {"format": fmt, "space": sp.spec, "canaries": canaries}


def read_definition(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        CanarySpace.parse(d["space"])
        assert "{secret}" in d["format"] and all("secret" in c and "id" in c for c in d["canaries"])
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise SaniError(f"{path}: not a canary definition written by 'sani canaries'") from None
    return d


@torch.no_grad()
def sequence_nll(model: nn.Module, tokenizer: Any, texts: Sequence[str], *, batch_size: int = 256) -> list[float]:
    """Total negative log-likelihood (nats) of each text's tokens after the first (for a masked LM: the
    negative pseudo-log-likelihood of its tokens)."""
    from .models import task_of

    if task_of(model) == "masked-lm":
        from . import mlm

        return mlm.sequence_nll(model, tokenizer, texts, batch_size=batch_size)
    from . import dist

    return dist.map_shards(lambda part: _sequence_nll(model, tokenizer, part, batch_size), list(texts))


def _sequence_nll(model: nn.Module, tokenizer: Any, texts: Sequence[str], batch_size: int) -> list[float]:
    device = next(model.parameters()).device
    pid = pad_id(tokenizer)
    enc = [tokenizer(t)["input_ids"] for t in texts]
    out = []
    for b in range(0, len(enc), batch_size):
        ids, mask = pad_batch(enc[b : b + batch_size], pid)
        lp = torch.log_softmax(model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits[:, :-1].float(), -1)
        tok = lp.gather(-1, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1) * mask[:, 1:].to(device)
        out += (-tok.sum(-1)).tolist()
    return out


def exposure(
    model: nn.Module, tokenizer: Any, definition: dict[str, Any], *, exact_limit: int = 20_000, samples: int = 2_000,
    seed: int = 0, progress: bool = True,
) -> dict[str, Any]:
    """Exposure of each canary: exact rank among all candidates when |R| <= exact_limit, else estimated."""
    sp = CanarySpace.parse(definition["space"])
    fmt = definition["format"]
    exact = sp.size <= exact_limit
    if exact:
        candidates = [sp.nth(i) for i in range(sp.size)]
    else:
        rng = random.Random(seed)
        candidates = [sp.random(rng) for _ in range(samples)]
    cand_nll = sequence_nll(model, tokenizer, [fmt.replace("{secret}", c) for c in tqdm(candidates, desc="exposure", disable=not progress, leave=False)])
    mu = sum(cand_nll) / len(cand_nll)
    sd = math.sqrt(sum((x - mu) ** 2 for x in cand_nll) / max(1, len(cand_nll) - 1)) or 1e-9
    items = []
    true_nll = sequence_nll(model, tokenizer, [fmt.replace("{secret}", c["secret"]) for c in definition["canaries"]])
    for c, nll in zip(definition["canaries"], true_nll):
        if exact:
            rank = 1 + sum(x < nll for x in cand_nll)  # the true secret is among the candidates
        else:
            rank = max(1.0, sp.size * 0.5 * (1 + math.erf((nll - mu) / (sd * math.sqrt(2)))))
        items.append({"id": c["id"], "repeats": c["repeats"], "rank": round(rank, 2),
                      "exposure": round(math.log2(sp.size) - math.log2(rank), 3)})
    by_rep: dict[int, list[float]] = {}
    for it in items:
        by_rep.setdefault(it["repeats"], []).append(it["exposure"])
    return {
        "space": sp.spec, "log2_space": round(math.log2(sp.size), 3), "method": "exact" if exact else "normal fit",
        "candidates": len(candidates), "mean_exposure": round(sum(i["exposure"] for i in items) / len(items), 3) if items else None,
        "by_repeats": {str(k): round(sum(v) / len(v), 3) for k, v in sorted(by_rep.items())}, "items": items,
    }
