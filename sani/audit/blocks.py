"""Typed reading of the audit JSON, one class a metric's block: the figures by name, the per-label and
per-occurrence breakdowns as blocks of their own. Each class is registered under the metric's name
(`result`), so that `AuditResult.block(name)` reads a metric added later without a change here. A block is
still a read-only mapping of its JSON (`block["mean"]`), for code written against the dicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

B = TypeVar("B", bound="Block")
RESULTS: dict[str, type[Block]] = {}  # metric name -> the class that reads its block


def result(name: str) -> Any:
    """Register a block class under a metric's name (the key of its block in the audit JSON)."""

    def add(cls: type[B]) -> type[B]:
        RESULTS[name] = cls
        return cls

    return add


class Block(Mapping[str, Any]):
    """One block of the audit JSON; falsy when empty, like the dict it reads."""

    __slots__ = ("data",)

    def __init__(self, data: Mapping[str, Any]):
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.data!r})"

    @classmethod
    def of(cls: type[B], data: Any) -> B | None:
        """The block over `data`, or None where the audit has none (absent, null or not a mapping)."""
        return cls(data) if isinstance(data, Mapping) else None

    def _blocks(self, key: str, cls: type[B]) -> dict[str, B]:
        """A breakdown (by label, by occurrences, by scheme...): each entry that is a block, by name."""
        return each(self.data.get(key) or {}, cls)


def figure(key: str, default: Any = None) -> Any:
    """A block's figure by its JSON key, as a read-only attribute (`default` where the audit has none)."""
    return property(lambda self: self.data.get(key, default))


def required(key: str) -> Any:
    """A figure every block of its kind holds (a missing one is an error, not None)."""
    return property(lambda self: self.data[key])


def each(data: Mapping[str, Any], cls: type[B]) -> dict[str, B]:
    """Each entry of `data` that is a mapping, read as `cls`, by name (other entries, a count or the seconds
    an attack took, are left out)."""
    return {k: cls(v) for k, v in data.items() if isinstance(v, Mapping)}


def reads(name: str, data: Any) -> Block | None:
    """`data` read by the class registered under the metric `name` (a plain block for a name none registered)."""
    return RESULTS.get(name, Block).of(data)


class Rate(Block):
    """A share of values (or value tokens) said back: hits of total, partial hits, per label and occurrences."""

    hits = figure("hits")
    total = figure("total")
    rate = figure("rate")
    partial_rate = figure("partial_rate")
    unit = figure("unit")  # "tokens": a masked LM's tokens filled in one at a time

    @property
    def by_label(self) -> dict[str, Rate]:
        return self._blocks("by_label", Rate)

    @property
    def by_occurrences(self) -> dict[str, Rate]:
        return self._blocks("by_occurrences", Rate)


@result("regurgitation")
class Regurgitation(Block):
    """Every decoding mode and prompt context, by name (greedy, sampled, greedy_last32, joint...)."""

    @property
    def modes(self) -> dict[str, Rate]:
        return each(self.data, Rate)

    def mode(self, name: str) -> Rate | None:
        return Rate.of(self.data.get(name))

    @property
    def greedy(self) -> Rate:
        """From the full prefix (a masked LM: tokens filled in one at a time)."""
        return Rate(self.data["greedy"])

    @property
    def sampled(self) -> Rate | None:
        """The second decoding: sampled continuations (causal), values filled in left to right (masked)."""
        return self.mode("sampled") or self.mode("left_to_right")


class Rule(Block):
    """The membership rule's verdict (`sani.audit.rule.judge`): AUC against the reference's, its interval."""

    test = required("test")  # "paired" or "holdout"
    auc = required("auc")
    auc_ref = required("auc_ref")
    reference = required("reference")
    difference = required("difference")
    interval = required("interval")
    tpr_at_1pct_fpr = required("tpr_at_1pct_fpr")
    members = required("members")
    nonmembers = required("nonmembers")
    margin = figure("margin")
    verdict = required("verdict")


class Score(Block):
    """One membership score's figures in one scope: AUC, PrivLeak and the ROC curve's points."""

    auc = figure("auc")
    privleak = figure("privleak")
    roc = property(lambda self: self.data.get("roc", []))


class LabelMembership(Score):
    """The membership test on one label's own tokens, with its rule when the label was judged."""

    nonmember_values = figure("nonmember_values")

    @property
    def rule(self) -> Rule | None:
        return Rule.of(self.data.get("rule"))


@result("membership")
@result("paired_membership")
class Membership(Block):
    """A membership test (holdout, or paired: each record against its copy with the values replaced): the
    scores' AUCs by scope ("record", "sensitive"), its rule, and per label."""

    members = figure("members")
    nonmembers = figure("nonmembers")
    pairs = figure("pairs")

    def scores(self, scope: str = "sensitive") -> dict[str, Score]:
        """Each score's figures (loss, zlib, min_k...) in `scope`; {} when the test has no such scope."""
        return self._blocks(scope, Score)

    def score(self, scope: str = "sensitive", score: str = "loss") -> Score:
        return self.scores(scope).get(score) or Score({})

    @property
    def rule(self) -> Rule | None:
        return Rule.of(self.data.get("rule"))

    @property
    def by_label(self) -> dict[str, LabelMembership]:
        return self._blocks("by_label", LabelMembership)


class Exposures(Block):
    """Mean value exposure (bits) among candidates, with the chance level and the cap (a value ranked first)."""

    mean = figure("mean")
    chance = figure("chance")
    cap = figure("cap")
    n = figure("n")
    at_cap = figure("at_cap")
    value_count = figure("values")  # distinct values
    generator = figure("generator")


@result("value_exposure")
class ValueExposure(Exposures):
    """Exposure of the corpus's own values among candidates (`sani.audit.values`), and the reference model's."""

    spans = figure("spans")
    bits = property(lambda self: self.data.get("bits", {}))  # label -> each value's bits

    @property
    def by_label(self) -> dict[str, Exposures]:
        return self._blocks("by_label", Exposures)

    @property
    def reference(self) -> ValueExposure | None:
        return ValueExposure.of(self.data.get("reference"))

    @property
    def excess(self) -> float | None:
        """Mean exposure above the reference model's, else above the chance level; None when nothing was measured."""
        if not self.spans:
            return None
        ref = self.reference
        return self.mean - (self.chance if ref is None or ref.mean is None else ref.mean)


class Split(Block):
    """Perplexity and accuracy on one split ("train", "holdout"), or the linear probe ("task")."""

    perplexity = figure("perplexity")
    accuracy = figure("accuracy")
    majority_baseline = figure("majority_baseline")
    test = figure("test")


@result("utility")
class Utility(Block):
    """Utility by split: "train" and "holdout" perplexity and accuracy, "task" the linear probe."""

    @property
    def splits(self) -> dict[str, Split]:
        return each(self.data, Split)

    def split(self, name: str) -> Split | None:
        return Split.of(self.data.get(name))


@result("extraction")
class Extraction(Block):
    """Memorization accuracy (MA), exact memorization (EM), extraction strength (ES) and the EL_n figure."""

    ma = figure("ma")
    em = figure("em")
    es = figure("es")
    el_spans = figure("el_spans")

    @property
    def el(self) -> tuple[str, float | None]:
        """("el_2", its value): the EL_n figure, named by its n."""
        name = next(k for k in self.data if k.startswith("el_") and k not in ("el_n", "el_spans"))
        return name, self.data[name]


@result("exposure")
class Exposure(Block):
    """Canary exposure (`sani.audit.exposure`): mean bits, by number of repeats, each canary's."""

    mean_exposure = figure("mean_exposure")
    log2_space = figure("log2_space")
    method = figure("method")
    by_repeats = property(lambda self: self.data.get("by_repeats", {}))

    @property
    def exposures(self) -> list[float]:
        return [i["exposure"] for i in self.data.get("items", [])]


class LabelScan(Block):
    """A label's values that are whole tokenizer entries, and those with pieces among the entries."""

    whole = figure("values", 0)
    pieces = figure("pieces", 0)


@result("tokenizer")
class TokenizerScan(LabelScan):
    """The corpus's values among the tokenizer's entries (`sani.audit.tokscan`)."""

    distinctive = property(lambda self: self.data.get("distinctive", self.whole))
    against_reference = property(lambda self: self.data.get("shared_with_reference") is not None)

    @property
    def by_label(self) -> dict[str, LabelScan]:
        return self._blocks("by_label", LabelScan)
