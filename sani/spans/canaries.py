"""Canaries and exposure (Carlini et al. 2019, "The Secret Sharer").

For users who can still fine-tune: insert records "...my PIN is 382910..." with random secrets, a few
canaries each repeated 1, 2, 5 or 10 times. The audit's exposure (`sani.audit.exposure`) ranks each true
secret among the candidates of its space after training, and after sanitizing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SaniError
from .data import Record, Span

ALPHABETS = {"digits": "0123456789", "hex": "0123456789abcdef", "letters": "abcdefghijklmnopqrstuvwxyz"}
LABEL = "CANARY"
# the defaults of `insert_canaries`, `sani.api.add_canaries` and `sani canaries`
FORMAT, SPACE, REPEATS, PER_REPEAT = "The access code of my account is {secret}.", "digits:6", (1, 2, 5, 10), 2


@dataclass
class CanarySpace:
    alphabet: str
    length: int

    @classmethod
    def parse(cls, spec: str) -> CanarySpace:
        kind, _, n = spec.partition(":")
        if kind not in ALPHABETS or not n.isdigit() or not 1 <= int(n) <= 64:
            raise SaniError(
                f"canary space {spec!r}: expected one of {', '.join(ALPHABETS)} and a length, e.g. digits:6"
            )
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
    records: list[Record],
    *,
    fmt: str = FORMAT,
    space: str = SPACE,
    repeats: Sequence[int] = REPEATS,
    per_repeat: int = PER_REPEAT,
    seed: int = 0,
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
                out.insert(
                    rng.randrange(len(out) + 1), Record(text, [Span(start, start + len(secret), LABEL, "canary")])
                )
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
