"""Typed reading of the attacks' blocks of the audit JSON (each registered under its attack's name) and of an
erasure request's answer: what each attack on a copy gave back, beside the reference model under the same
attack."""

from __future__ import annotations

from .blocks import Block, Rate, each, figure, reads, required, result


class AttackRate(Rate):
    """Greedy regurgitation after an attack (a relearning setting, a quantization scheme), with the reference
    model's under the same attack, its value exposure, and the share back by any context against the
    reference's with an interval (blocks written before intervals have none)."""

    name = figure("name")
    variant = figure("variant")
    records = figure("records")
    backend = figure("backend")
    value_exposure = figure("value_exposure")
    difference = figure("difference")
    interval = figure("interval")

    @property
    def back(self) -> Rate:
        return Rate(self.data.get("back") or {})

    @property
    def reference(self) -> AttackRate:
        """The reference model under the same attack; empty when none was given."""
        return AttackRate(self.data.get("reference") or {})


@result("relearn")
class Relearn(Block):
    """The relearning attack: each setting of its grid; an audit written before the grid has one attack and
    one benign run."""

    epochs = figure("epochs")
    lr = figure("lr")
    grid = property(lambda self: "settings" in self.data)

    @property
    def settings(self) -> list[AttackRate]:
        return [AttackRate(s) for s in self.data.get("settings", [])]

    def setting(self, name: str) -> AttackRate | None:
        return next((s for s in self.settings if s.name == name), None)

    def run(self, variant: str) -> AttackRate | None:
        """Before the grid: "attack" (fine-tuned on some records, the others' values) or "benign"."""
        return AttackRate.of(self.data.get(variant))


@result("quantize")
class Quantize(Block):
    """Greedy regurgitation after each quantization scheme, by scheme."""

    @property
    def schemes(self) -> dict[str, AttackRate]:
        return each(self.data, AttackRate)

    def scheme(self, name: str) -> AttackRate | None:
        return self.schemes.get(name)


@result("extract")
class Extract(Block):
    """Values found in free samples, and identifiers found there that the corpus holds outside every span."""

    values_found = figure("values_found")
    value_count = figure("values")
    samples = figure("samples")
    share = figure("share")
    unmarked_in_corpus = figure("unmarked_in_corpus")

    @property
    def reference(self) -> Extract:
        return Extract(self.data.get("reference") or {})


@result("lens")
class Lens(Block):
    """Values read at each layer through the logit lens, and the reference model's."""

    @property
    def rates(self) -> list[float | None]:
        return [r["rate"] for r in self.data.get("layers", [])]

    @property
    def reference(self) -> Lens:
        return Lens(self.data.get("reference") or {})


class Attacks(Block):
    """Every attack that ran, by name; {} when none did."""

    def attack(self, name: str) -> Block | None:
        """The attack's block, read by the class registered under its name."""
        return reads(name, self.data.get(name))

    @property
    def relearn(self) -> Relearn:
        return Relearn(self.data.get("relearn") or {})

    @property
    def quantize(self) -> Quantize:
        return Quantize(self.data.get("quantize") or {})

    @property
    def extract(self) -> Extract | None:
        return Extract.of(self.data.get("extract"))

    @property
    def lens(self) -> Lens | None:
        return Lens.of(self.data.get("lens"))

    def exposures(self) -> list[AttackRate]:
        """Every relearning setting and quantization scheme: the blocks that carry value exposure."""
        return [*self.relearn.settings, *self.quantize.schemes.values()]


class Side(Block):
    """One model's answer for one requested value: said or not, its exposure, its paired score."""

    said = property(lambda self: bool(self.data.get("greedy") or self.data.get("sampled")))
    exposure = figure("exposure")
    ranked_first = figure("ranked_first")
    paired_score = figure("paired_score")


class Requested(Block):
    """One requested value: its keyed hash, labels, records, each model's answer and the verdict."""

    value_hash = required("value_hash")
    labels = required("labels")
    records = required("records")
    verdict = required("verdict")

    def side(self, model: str) -> Side | None:
        return Side.of(self.data.get(model))


@result("erasure")
class Erasure(Block):
    """An erasure request's answer, value by value (`sani.audit.erasure`)."""

    models = required("models")
    summary = required("summary")
    note = figure("note")

    @property
    def rows(self) -> list[Requested]:
        return [Requested(row) for row in self.data["values"]]
