"""The extraction attack: sample free generations and look for identifiers in them.

Carlini et al. 2021 ("Extracting training data from large language models", USENIX Security): sample many
generations from a short, generic prompt (the start-of-text token; short openings of text) and look for
training data in them. Here each generation is searched for the corpus's own values (counted per label,
by keyed hash), and sani's detectors run over it: an identifier they find that is no known value but occurs
in the corpus is one the span finder missed, so it was never sanitized (`unmarked_in_corpus`). Causal LMs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..models.kinds import CausalLM
from ..privacy import value_hash
from ..spans import detect
from ..spans.data import Encoded
from .common import Context, MetricResult, register
from .regurgitation import continuations

MIN_VALUE_BYTES = 4  # shorter values ("Al", "12") turn up in any text; 2 CJK characters are 6 bytes
OPENINGS = 4  # besides the start-of-text token: the corpus's most common openings (2 tokens, no value in them)


def prompts(tokenizer: Any, encoded: Sequence[Encoded]) -> list[list[int]]:
    """The start-of-text token (else end-of-text, which GPT-2 uses for both), and the most common first two
    tokens of the records where neither is sensitive: generic, no record's own text."""
    out = []
    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if start is not None:
        out.append([start])
    first = Counter(tuple(e.input_ids[:2]) for e in encoded if len(e.input_ids) > 2 and not any(e.sensitive[:2]))
    out += [list(p) for p, _ in first.most_common(OPENINGS)]
    return out


def generate(ctx: Context, model: nn.Module, starts: list[list[int]]) -> list[str]:
    """`extract_samples` generations shared among the prompts, sampled (top-k, temperature) in seeded chunks."""
    c = ctx.cfg
    texts = []
    per = [c.extract_samples // len(starts) + (i < c.extract_samples % len(starts)) for i in range(len(starts))]
    for i, (prompt, n) in enumerate(zip(starts, per)):
        for j, b in enumerate(range(0, n, c.batch_size)):
            k = min(c.batch_size, n - b)
            outs = continuations(
                model,
                ctx.tokenizer,
                [prompt],
                [c.extract_tokens],
                samples=k,
                top_k=c.top_k,
                temperature=c.temperature,
                seed=c.seed + 1000 * i + j,
                batch_size=k,
                progress=False,
            )
            texts += [ctx.tokenizer.decode(prompt + o, skip_special_tokens=True) for o in outs[0]]
    return texts


@dataclass
class Lookup:
    """What free samples are searched for, made once a corpus: its values (of `MIN_VALUE_BYTES` or more),
    sani's detectors, and what they find in the corpus outside every span."""

    values: set[tuple[str, str]]
    detectors: list[Any]
    missed: set[str]

    @classmethod
    def of(cls, encoded: Sequence[Encoded], region: str) -> Lookup:
        values = {(s.label, e.record.value(s)) for e in encoded for s in e.record.spans}
        detectors = detect.build([n for n in detect.ORDER if n not in detect.NEEDS_EXTRA], region)
        return cls(
            {(lab, v) for lab, v in values if len(v.strip().encode()) >= MIN_VALUE_BYTES},
            detectors,
            _missed(encoded, detectors),
        )


def search(texts: Sequence[str], lookup: Lookup) -> dict[str, Any]:
    """Known values found in `texts` (distinct, per label, hashed), and detector hits that are no known value
    nor a piece of one, with those among them that the detectors also find in the corpus outside every span
    (`unmarked_in_corpus`: identifiers the span finder missed, so never sanitized)."""
    joined = "\n".join(texts)
    values = lookup.values
    found = sorted((lab, v) for lab, v in values if v in joined)
    known = {v for _, v in values}
    hits: Counter = Counter()
    unmarked: dict[tuple[str, str], int] = {}
    for text in texts:
        for d in lookup.detectors:
            for s in d(text):
                v = text[s.start : s.end]
                if any(k in v or v in k for k in known):
                    continue  # a known value, or a piece of one: not an identifier the spans missed
                hits[s.label] += 1
                if v in lookup.missed:
                    unmarked[(s.label, v)] = unmarked.get((s.label, v), 0) + 1
    return {
        "values_found": len(found),
        "values": len(values),
        "share": round(len(found) / len(values), 4) if values else None,
        "by_label": dict(Counter(lab for lab, _ in found)),
        "items": [{"hash": value_hash(v), "label": lab} for lab, v in found],
        "unknown_hits": dict(hits),
        "unmarked_in_corpus": len(unmarked),
        "unmarked_items": [{"hash": value_hash(v), "label": lab, "times": n} for (lab, v), n in unmarked.items()],
    }


def phone_region(locale: str) -> str:
    """The corpus's country from its Faker locale (fr_FR -> FR), for national phone numbers; US where the
    locale names none that phone numbers know (en, ar_AA)."""
    import phonenumbers

    region = locale.split("_")[-1].upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else "US"


def _missed(encoded: Sequence[Encoded], detectors: Sequence[Any]) -> set[str]:
    """What the detectors find in the corpus outside every span: identifiers the span finder missed."""
    out = set()
    for e in encoded:
        for d in detectors:
            for s in d(e.record.text):
                if not any(s.start < sp.end and sp.start < s.end for sp in e.record.spans):
                    out.add(e.record.text[s.start : s.end])
    return out


@register("extract", kinds=(CausalLM.name,))
def extract_metric(ctx: Context) -> MetricResult | None:
    if not any(e.record.spans for e in ctx.encoded):
        return None
    starts = prompts(ctx.tokenizer, ctx.encoded)
    if not starts:  # no start-of-text token and no record opening free of values
        return None
    region = phone_region(ctx.cfg.exposure_locale)
    lookup = Lookup.of(ctx.encoded, region)
    out = {
        "samples": ctx.cfg.extract_samples,
        "prompts": len(starts),
        "tokens": ctx.cfg.extract_tokens,
        **search(generate(ctx, ctx.model, starts), lookup),
    }
    if ctx.reference is not None:
        ref = search(generate(ctx, ctx.reference, starts), lookup)
        out["reference"] = {k: ref[k] for k in ("values_found", "share", "unmarked_in_corpus")}
    return MetricResult(out)
