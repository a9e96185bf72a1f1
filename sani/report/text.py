"""Human-readable summaries of audits: a before/after table per identifier type, never a value."""

from __future__ import annotations

from typing import Any

from ..audit.attack_blocks import AttackRate, Attacks, Erasure, Side
from ..audit.blocks import Rate
from ..audit.results import AuditResult, Verdict


def _pct(r: Rate | None) -> str:
    if not r or r.rate is None:
        return "-"
    return f"{100 * r.rate:5.1f}% ({r.hits}/{r.total})"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def before_after_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Regurgitation per label and utility, before vs after."""
    b, a = AuditResult(before), AuditResult(after)
    rb, ra = b.greedy, a.greedy
    labels = sorted(set(rb.by_label) | set(ra.by_label))
    rows = [("identifier type", "before", "after")]
    rows += [(lab, _pct(rb.by_label.get(lab)), _pct(ra.by_label.get(lab))) for lab in labels]
    rows.append(
        ("all (tokens filled in one at a time)" if b.masked_lm else "all (greedy regurgitation)", _pct(rb), _pct(ra))
    )
    for key, name in (
        ("sampled", "all (sampled, any sample)"),
        ("left_to_right", "all (values filled left to right)"),
        ("joint", "all (values filled in one pass)"),
    ):
        sb, sa = b.mode(key), a.mode(key)
        if sb and sa:
            rows.append((name, _pct(sb), _pct(sa)))
    vb, va = b.value_exposure, a.value_exposure
    if vb and va and vb.spans and va.spans:
        what = f"value exposure, mean bits (chance {vb.chance:.2f}, cap {vb.cap:.2f})"
        rows.append((what, f"{vb.mean:.2f}", f"{va.mean:.2f}"))
    mb, ma = b.membership_rule, a.membership_rule
    if mb and ma:
        what = f"membership AUC, {ma.test} test on sensitive tokens (ref {ma.auc_ref:.2f})"
        rows.append((what, f"{mb.auc:.3f} {mb.verdict}", f"{ma.auc:.3f} {ma.verdict}"))
    if b.membership and a.membership:
        rows.append(("membership AUC, loss on sensitive tokens", _num(b.membership_auc()), _num(a.membership_auc())))
    rows += _utility_rows(b, a)
    return _table(rows)


def _utility_rows(b: AuditResult, a: AuditResult) -> list[tuple[str, str, str]]:
    """Perplexity on the holdout and the corpus (with the ratio), and the probe's accuracy, before vs after."""
    rows = []
    for split in ("holdout", "train"):
        ub, ua = b.utility(split), a.utility(split)
        if ub and ua:
            ratio = (ua.perplexity / ub.perplexity) if ub.perplexity and ua.perplexity else None
            what = "masked-token perplexity" if b.masked_lm else "perplexity"
            after = _num(ua.perplexity) + (f"  (x{ratio:.3f})" if ratio else "")
            rows.append((f"{split} {what} (non-sensitive)", _num(ub.perplexity), after))
    tb, ta = b.utility("task"), a.utility("task")
    if tb and ta:
        after = _num(ta.accuracy) + f"  ({ta.accuracy - tb.accuracy:+.3f})"
        rows.append(("task probe accuracy", _num(tb.accuracy), after))
    return rows


def _table(rows: list[tuple[str, str, str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def audit_summary(result: dict[str, Any]) -> str:
    """One audit, as text: regurgitation per label and mode, extraction, membership, exposure, utility."""
    a = AuditResult(result)
    lines = [f"greedy regurgitation: {_pct(a.greedy)}, partial {_num(a.greedy.partial_rate)}"]
    lines += [f"  {lab}: {_pct(r)}" for lab, r in a.greedy.by_label.items()]
    for mode, r in a.regurgitation.modes.items():
        if mode != "greedy":
            lines.append(f"{mode.replace('_', ' ')} regurgitation: {_pct(r)}, partial {_num(r.partial_rate)}")
    ext = a.extraction
    if ext:
        el, value = ext.el
        lines.append(
            f"extraction: MA {_num(ext.ma)}, EM {_num(ext.em)}, ES {_num(ext.es)}, "
            f"{el.upper()} {_num(value)} ({ext.el_spans} spans)"
        )
    lines += _membership_lines(a) + _exposure_lines(a) + _utility_lines(a)
    return "\n".join(lines + attack_lines(a.attacks) + erasure_lines(a.erasure))


def _aucs(scores: dict[str, Any]) -> str:
    return ", ".join(f"{k} {_num(v.auc)}" for k, v in scores.items())


def _membership_lines(a: AuditResult) -> list[str]:
    """The paired and holdout tests' AUCs, by score."""
    lines = []
    pm = a.paired_membership
    if pm:
        what = f"paired, value tokens, {pm.pairs} records vs their copies"
        lines.append(f"membership AUC ({what}): {_aucs(pm.scores('sensitive'))}")
    mem = a.membership
    if mem:
        for scope in ("record", "sensitive"):
            what = f"{scope}, {mem.members} vs {mem.nonmembers} records"
            lines.append(f"membership AUC ({what}): {_aucs(mem.scores(scope))}")
    return lines


def _exposure_lines(a: AuditResult) -> list[str]:
    """Value exposure, the membership rule of each test, canary exposure."""
    lines = []
    ve = a.value_exposure
    if ve and ve.spans:
        labels = ", ".join(f"{k} {v.mean:.2f}" for k, v in ve.by_label.items())
        ref = f"; reference model {ve.reference.mean:.2f}" if ve.reference else ""
        lines.append(
            f"value exposure ({ve.spans} values, at least {ve.n} candidates each, cap {ve.cap:.2f} bits, chance "
            f"{ve.chance:.2f}): mean {ve.mean:.2f}, {100 * ve.at_cap:.0f}% at the cap{ref}; {labels}"
        )
    for test, r in a.membership_rules().items():
        lo, hi = r.interval
        lines.append(
            f"membership rule ({test}, {r.members} vs {r.nonmembers}): AUC {r.auc:.3f} against "
            f"{r.auc_ref:.3f} ({r.reference}), difference {r.difference:+.3f} "
            f"[{lo:+.3f}, {hi:+.3f}], TPR at 1% FPR {r.tpr_at_1pct_fpr:.3f}: "
            f"{r.verdict} (margin {r.margin})"
        )
    exp = a.exposure
    if exp:
        reps = ", ".join(f"{k}x: {v}" for k, v in exp.by_repeats.items())
        lines.append(
            f"canary exposure (max {exp.log2_space} bits, {exp.method}): mean {exp.mean_exposure}; by repeats {reps}"
        )
    return lines


def _utility_lines(a: AuditResult) -> list[str]:
    """Each split's perplexity and accuracy, and the probe's accuracy."""
    lines = []
    for split, u in a.utilities.splits.items():
        if split == "task":
            lines.append(
                f"task probe accuracy: {_num(u.accuracy)} (majority baseline {_num(u.majority_baseline)}, "
                f"{u.test} test examples)"
            )
        else:
            what = "masked-token" if a.masked_lm else "next-token"
            lines.append(
                f"{split} {what} perplexity (non-sensitive tokens): {_num(u.perplexity)}, "
                f"{what} accuracy {_num(u.accuracy)}"
            )
    return lines


def erasure_lines(block: Erasure | dict[str, Any] | None) -> list[str]:
    """An erasure request, a line a value: its hash, labels, records, what each model gives back, verdict."""
    block = Erasure.of(block)
    if not block:
        return []
    counts = ", ".join(f"{v} {n}" for v, n in block.summary.items())
    lines = [f"erasure request: {len(block.rows)} values ({counts})"]
    for row in block.rows:
        sides = "; ".join(f"{name}: {_side(row.side(name))}" for name in block.models if row.side(name) is not None)
        lines.append(
            f"  {row.value_hash} {'/'.join(row.labels) or '-'}, {row.records} records"
            f"{': ' + sides if sides else ''} -> {row.verdict}"
        )
    return lines + ([block.note] if block.note else [])


def _side(v: Side) -> str:
    said = "said" if v.said else "not said"
    exp = f", {v.exposure:.2f} bits, first in {v.ranked_first} places" if "exposure" in v else ""
    return said + exp + (f", paired {v.paired_score:+.2f}" if "paired_score" in v else "")


def _after(block: AttackRate) -> str:
    ref = block.reference
    ve = f", value exposure {block.value_exposure:.2f} bits" if block.value_exposure is not None else ""
    return f"{_pct(block)}{ve}" + (f"; reference model {ref.rate:.1%}" if ref.rate is not None else "")


def attack_lines(attacks: Attacks | dict[str, Any]) -> list[str]:
    """The attacks, one line each: what came back (greedy regurgitation after the attack)."""
    attacks = Attacks(attacks) if not isinstance(attacks, Attacks) else attacks
    lines = []
    relearn = attacks.relearn
    for st in relearn.settings:  # the grid: each setting, judged on its interval
        what = "the other records' values" if st.variant == "attack" else "every value"
        lo, hi = st.interval
        lines.append(
            f"relearn ({st.name}: {st.records} records), {what}: {_after(st)}; back by any context "
            f"{st.back.rate:.1%}, {st.difference:+.1%} [{lo:+.1%}, {hi:+.1%}] against the reference"
        )
    for variant, what in (("attack", "the other records' values"), ("benign", "every value")):
        run = relearn.run(variant)
        if run and not relearn.grid:  # an audit written before the grid
            lines.append(
                f"relearn attack ({variant}: {run.records} records, {relearn.epochs:g} "
                f"epochs, lr {relearn.lr:g}), {what}: {_after(run)}"
            )
    for scheme, block in attacks.quantize.schemes.items():
        lines.append(f"quantized {scheme} ({block.backend}): {_after(block)}")
    ex = attacks.extract
    if ex:
        lines.append(
            f"extract attack: {ex.values_found} of {ex.value_count} values in {ex.samples} free samples; "
            f"{ex.unmarked_in_corpus} identifiers the spans missed in the corpus"
        )
    lens = attacks.lens
    if lens:
        lines.append("logit lens, values read per layer: " + ", ".join(_num(r) for r in lens.rates))
    return lines


def verdict_line(verdict: Verdict | dict[str, Any]) -> str:
    """ "overall verdict: fail (value_exposure, relearn)": the gate's verdict and the checks that did not pass."""
    v = verdict if isinstance(verdict, Verdict) else Verdict(verdict)
    return f"overall verdict: {v.overall}" + (f" ({', '.join(v.failing)})" if v.failing else "")
