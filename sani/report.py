"""Human-readable summaries of audits: a before/after table per identifier type, never a value."""

from __future__ import annotations

from typing import Any

from .audit.results import AuditResult


def _pct(r: dict[str, Any] | None) -> str:
    if not r or r.get("rate") is None:
        return "-"
    return f"{100 * r['rate']:5.1f}% ({r['hits']}/{r['total']})"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def before_after_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    """Regurgitation per label and utility, before vs after."""
    b, a = AuditResult(before), AuditResult(after)
    rb, ra = b.greedy, a.greedy
    labels = sorted(set(rb["by_label"]) | set(ra["by_label"]))
    rows = [("identifier type", "before", "after")]
    rows += [(lab, _pct(rb["by_label"].get(lab)), _pct(ra["by_label"].get(lab))) for lab in labels]
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
    if vb and va and vb.get("spans") and va.get("spans"):
        rows.append((f"value exposure, mean bits (chance {vb['chance']:.2f}, cap {vb['cap']:.2f})",
                     f"{vb['mean']:.2f}", f"{va['mean']:.2f}"))  # fmt: skip
    mb, ma = b.membership_rule, a.membership_rule
    if mb and ma:
        rows.append((f"membership AUC, {ma['test']} test on sensitive tokens (ref {ma['auc_ref']:.2f})",
                     _rule(mb), _rule(ma)))  # fmt: skip
    if b.membership and a.membership:
        rows.append(("membership AUC, loss on sensitive tokens", _num(b.membership_auc()), _num(a.membership_auc())))
    for split in ("holdout", "train"):
        ub, ua = b.utility(split), a.utility(split)
        if ub and ua:
            ratio = (ua["perplexity"] / ub["perplexity"]) if ub["perplexity"] and ua["perplexity"] else None
            what = "masked-token perplexity" if ub.get("measure") == "masked tokens" else "perplexity"
            rows.append(
                (
                    f"{split} {what} (non-sensitive)",
                    _num(ub["perplexity"]),
                    _num(ua["perplexity"]) + (f"  (x{ratio:.3f})" if ratio else ""),
                )
            )
    tb, ta = b.utility("task"), a.utility("task")
    if tb and ta:
        rows.append(
            (
                "task probe accuracy",
                _num(tb["accuracy"]),
                _num(ta["accuracy"]) + f"  ({ta['accuracy'] - tb['accuracy']:+.3f})",
            )
        )
    return _table(rows)


def _rule(r: dict[str, Any]) -> str:
    return f"{r['auc']:.3f} {r['verdict']}"


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
    lines = [f"greedy regurgitation: {_pct(a.greedy)}, partial {_num(a.greedy.get('partial_rate'))}"]
    lines += [f"  {lab}: {_pct(r)}" for lab, r in a.greedy["by_label"].items()]
    for mode, r in a.regurgitation.items():
        if mode != "greedy" and isinstance(r, dict):
            lines.append(f"{mode.replace('_', ' ')} regurgitation: {_pct(r)}, partial {_num(r.get('partial_rate'))}")
    ext = a.extraction
    if ext:
        el = next(k for k in ext if k.startswith("el_") and k != "el_n" and k != "el_spans")
        lines.append(
            f"extraction: MA {_num(ext['ma'])}, EM {_num(ext['em'])}, ES {_num(ext['es'])}, "
            f"{el.upper()} {_num(ext[el])} ({ext['el_spans']} spans)"
        )
    pm = a.paired_membership
    if pm:
        aucs = ", ".join(f"{k} {_num(v['auc'])}" for k, v in pm["sensitive"].items())
        lines.append(f"membership AUC (paired, value tokens, {pm['pairs']} records vs their copies): {aucs}")
    mem = a.membership
    if mem:
        for scope in ("record", "sensitive"):
            aucs = ", ".join(f"{k} {_num(v['auc'])}" for k, v in mem[scope].items())
            lines.append(f"membership AUC ({scope}, {mem['members']} vs {mem['nonmembers']} records): {aucs}")
    ve = a.value_exposure
    if ve and ve.get("spans"):
        labels = ", ".join(f"{k} {v['mean']:.2f}" for k, v in ve["by_label"].items())
        ref = f"; reference model {ve['reference']['mean']:.2f}" if ve.get("reference") else ""
        lines.append(
            f"value exposure ({ve['spans']} values, at least {ve['n']} candidates each, cap {ve['cap']:.2f} bits, chance "
            f"{ve['chance']:.2f}): mean {ve['mean']:.2f}, {100 * ve['at_cap']:.0f}% at the cap{ref}; {labels}"
        )
    for test, r in a.membership_rules().items():
        lines.append(
            f"membership rule ({test}, {r['members']} vs {r['nonmembers']}): AUC {r['auc']:.3f} against "
            f"{r['auc_ref']:.3f} ({r['reference']}), difference {r['difference']:+.3f} "
            f"[{r['interval'][0]:+.3f}, {r['interval'][1]:+.3f}], TPR at 1% FPR {r['tpr_at_1pct_fpr']:.3f}: "
            f"{r['verdict']} (margin {r['margin']})"
        )
    exp = a.exposure
    if exp:
        reps = ", ".join(f"{k}x: {v}" for k, v in exp["by_repeats"].items())
        lines.append(
            f"canary exposure (max {exp['log2_space']} bits, {exp['method']}): mean {exp['mean_exposure']}; by repeats {reps}"
        )
    for split, u in result["utility"].items():
        if split == "task":
            lines.append(
                f"task probe accuracy: {_num(u['accuracy'])} (majority baseline {_num(u['majority_baseline'])}, {u['test']} test examples)"
            )
        else:
            what = "masked-token" if u.get("measure") == "masked tokens" else "next-token"
            lines.append(
                f"{split} {what} perplexity (non-sensitive tokens): {_num(u['perplexity'])}, {what} accuracy {_num(u['accuracy'])}"
            )
    return "\n".join(lines + attack_lines(a.attacks) + erasure_lines(result.get("erasure")))


def erasure_lines(block: dict[str, Any] | None) -> list[str]:
    """An erasure request, a line a value: its hash, labels, records, what each model gives back, verdict."""
    if not block:
        return []
    counts = ", ".join(f"{v} {n}" for v, n in block["summary"].items())
    lines = [f"erasure request: {len(block['values'])} values ({counts})"]
    for row in block["values"]:
        sides = "; ".join(f"{name}: {_side(row[name])}" for name in block["models"] if name in row)
        lines.append(f"  {row['value_hash']} {'/'.join(row['labels']) or '-'}, {row['records']} records"
                     f"{': ' + sides if sides else ''} -> {row['verdict']}")  # fmt: skip
    return lines + ([block["note"]] if block.get("note") else [])


def _side(v: dict[str, Any]) -> str:
    said = "said" if v.get("greedy") or v.get("sampled") else "not said"
    exp = f", {v['exposure']:.2f} bits, first in {v['ranked_first']} places" if "exposure" in v else ""
    return said + exp + (f", paired {v['paired_score']:+.2f}" if "paired_score" in v else "")


def _after(block: dict[str, Any]) -> str:
    ref = block.get("reference") or {}
    ve = f", value exposure {block['value_exposure']:.2f} bits" if block.get("value_exposure") is not None else ""
    return f"{_pct(block)}{ve}" + (f"; reference model {ref['rate']:.1%}" if ref.get("rate") is not None else "")


def attack_lines(attacks: dict[str, Any]) -> list[str]:
    """The attacks, one line each: what came back (greedy regurgitation after the attack)."""
    lines = []
    relearn = attacks.get("relearn") or {}
    for st in relearn.get("settings", []):  # the grid: each setting, judged on its interval
        what = "the other records' values" if st["variant"] == "attack" else "every value"
        lines.append(f"relearn ({st['name']}: {st['records']} records), {what}: {_after(st)}; back by any context "
                     f"{st['back']['rate']:.1%}, {st['difference']:+.1%} [{st['interval'][0]:+.1%}, "
                     f"{st['interval'][1]:+.1%}] against the reference")  # fmt: skip
    for variant, what in (("attack", "the other records' values"), ("benign", "every value")):
        if relearn.get(variant) and "settings" not in relearn:  # an audit written before the grid
            lines.append(f"relearn attack ({variant}: {relearn[variant]['records']} records, {relearn['epochs']:g} "
                         f"epochs, lr {relearn['lr']:g}), {what}: {_after(relearn[variant])}")  # fmt: skip
    for scheme, block in (attacks.get("quantize") or {}).items():
        if isinstance(block, dict):
            lines.append(f"quantized {scheme} ({block['backend']}): {_after(block)}")
    ex = attacks.get("extract")
    if ex:
        lines.append(f"extract attack: {ex['values_found']} of {ex['values']} values in {ex['samples']} free samples; "
                     f"{ex['unmarked_in_corpus']} identifiers the spans missed in the corpus")  # fmt: skip
    lens = attacks.get("lens")
    if lens:
        lines.append("logit lens, values read per layer: " + ", ".join(_num(r["rate"]) for r in lens["layers"]))
    return lines


def verdict_line(verdict: dict[str, Any]) -> str:
    """ "overall verdict: fail (value_exposure, relearn)": the gate's verdict and the checks that did not pass."""
    failing = [k for k, c in verdict["checks"].items() if c["verdict"] != "pass"]
    return f"overall verdict: {verdict['overall']}" + (f" ({', '.join(failing)})" if failing else "")
