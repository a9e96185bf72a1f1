"""The HTML report a privacy officer reads: verdicts against thresholds, regurgitation per identifier type,
value and canary exposure, the membership tests with their intervals, extraction, utility and the models'
fingerprints, for audits side by side. Never a value."""

from __future__ import annotations

import datetime
import json
import logging
from pathlib import Path
from typing import Any

from ..audit import gate
from ..audit.blocks import Rule, Score, Split, ValueExposure
from ..audit.results import AuditResult, Check, Verdict
from ..errors import SaniError
from .attacks import attacks_section, erasure_section
from .charts import COLORS, esc, svg_bars, svg_roc, svg_strip
from .scope import scope_section, tokenizer_section
from .text import _num, _pct

log = logging.getLogger(__name__)


def load_audits(paths: list[str], names: list[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Audits by name; a sanitization.json gives two, "original" and "sanitized", with the models' paths and
    fingerprints it recorded."""
    out = []
    for i, p in enumerate(paths):
        try:
            obj = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise SaniError(f"{p}: cannot read it as JSON") from None
        name = names[i] if names and i < len(names) else (None if len(paths) == 1 else Path(p).parent.name)
        if "audit_before" in obj and obj.get("audit_before"):
            sides = (
                ("original", obj["audit_before"], obj.get("input_model"), obj.get("input_fingerprint")),
                ("sanitized", obj["audit_after"], str(Path(p).resolve().parent), obj.get("output_fingerprint")),
            )
            for side, audit, model, fp in sides:
                shown = f"{name}: {side}" if name else side
                out.append(
                    (
                        shown,
                        {
                            **audit,
                            "model": audit.get("model") or model,
                            "model_fingerprint": audit.get("model_fingerprint") or fp,
                        },
                    )
                )
        elif "regurgitation" in obj:
            out.append((name or Path(p).stem, obj))
        else:
            raise SaniError(f"{p}: not an audit or a sanitization report")
    return out


FORMATS = {"value_exposure": "{:+.2f} bits", "mean_exposure": "{:.2f} bits", "membership_margin": "{:+.3f}",
           "perplexity_ratio": "{:.3f}x", "tokenizer": "{:.0f} values", "value_exposure_by_label": "{:+.2f} bits",
           "membership_by_label": "{:+.3f}", "attack_exposure": "{:+.2f} bits"}  # fmt: skip
RULES = {
    "value_exposure": "&le; {:+.2f} bits above the reference (or chance)",
    "value_exposure_label": "each label (30+ values) within &plusmn;{:.2f} bits of the reference",
    "membership_margin": "AUC - reference AUC within &plusmn;{:.2f}, whole interval",
    "attack_regurgitation": "&le; {:.1%} above the reference under the same attack",
    "attack_exposure": "&le; {:+.2f} bits above the reference under the same attack, the worst attack",
    "extracted_values": "&le; {:.1%} of the values, above the reference",
}


def _cell(check: Check | None, key: str) -> str:
    if check is None:
        return "<td>-</td>"
    css = {"pass": "ok", "fail": "bad"}.get(check.verdict, "")
    return f'<td><span class="{css}">{check.verdict}</span> {FORMATS.get(key, "{:.1%}").format(check.value)}</td>'


def _verdicts(views: list[tuple[str, AuditResult]], th: dict[str, float]) -> list[str]:
    """The overall verdict of each audit first, then every check (`sani.audit.gate`)."""
    base = views[0][1]
    stored = [a.verdict.thresholds if a.verdict else {} for _, a in views]  # what each was judged with
    judged = [
        Verdict(
            gate.judge(a, {**{k: v for k, v in st.items() if k in gate.THRESHOLDS}, **th}, None if a is base else base)
        )
        for (_, a), st in zip(views, stored)
    ]
    names = "".join(f"<th>{esc(n)}</th>" for n, _ in views)
    css = {"pass": "ok", "fail": "bad"}
    overall = "".join(
        f'<td><span class="{css.get(j.overall, "")}">{j.overall}</span> <small>({len(j.checks)} checks)</small></td>'
        for j in judged
    )
    out = [
        f"<table><tr><th>overall verdict</th>{names}</tr><tr><td>the worst of the checks below</td>{overall}"
        f"</tr></table>",
        f"<h2>Verdicts</h2><table><tr><th>check (threshold)</th>{names}</tr>",
    ]
    keys = [k for k in gate.CHECKS if any(k in j.checks for j in judged)]
    for key in keys:
        name = gate.THRESHOLD_OF.get(key, key)
        limit = judged[0].thresholds.get(name)
        rule = (
            "a whole value with digits or words fails"
            if key == "tokenizer"
            else RULES.get(name, "&le; " + FORMATS.get(key, "{:.1%}")).format(limit)
        )
        cells = "".join(_cell(j.checks.get(key), key) for j in judged)
        out.append(f"<tr><td>{esc(key.replace('_', ' '))} ({rule})</td>{cells}</tr>")
    return out + ["</table>"]


def _value_exposure(views: list[tuple[str, AuditResult]]) -> list[str]:
    have = [(n, a.value_exposure) for n, a in views if a.value_exposure and a.value_exposure.spans]
    if not have:
        return []
    cap = max(v.cap for _, v in have)
    out = [
        f"<h2>Value exposure (bits; a value ranked first reads the cap, {cap:.1f})</h2>",
        "<p>Each value of the corpus ranked among candidate values of its kind in its own place. A model "
        "that never saw the values reads the chance level on average.</p>",
    ]
    strips = {f"{lab} · {n}": bits for n, v in have for lab, bits in v.bits.items()}
    if strips:
        out.append(svg_strip(strips, cap, mark=cap))
    labels = sorted({lab for _, v in have for lab in v.by_label})
    out.append("<table><tr><th>identifier type</th>" + "".join(f"<th>{esc(n)}</th>" for n, _ in have) + "</tr>")
    for lab in ["all", *labels]:
        cells = [_exposure_cell(v, lab) for _, v in have]
        out.append(f"<tr><td>{esc(lab)}</td>{''.join(cells)}</tr>")
    return out + ["</table>"]


def _exposure_cell(v: ValueExposure, lab: str) -> str:
    """One audit's value exposure on one label ("all": every value), the reference model's beside it."""
    b = v if lab == "all" else v.by_label.get(lab)
    ref = v.reference
    if ref is not None and lab != "all":
        ref = ref.by_label.get(lab)
    shown = f", reference {ref.mean:.2f}" if ref else ""
    if not b:
        return "<td>-</td>"
    return (
        f"<td>{b.mean:.2f} <small>(chance {b.chance:.2f}, cap {b.cap:.2f}, n {b.n}, "
        f"{100 * b.at_cap:.0f}% at cap{shown})</small></td>"
    )


def _rule_cell(r: Rule | None) -> str:
    if not r:
        return "<td>-</td>"
    lo, hi = r.interval
    return (
        f"<td>{r.verdict}: AUC {r.auc:.3f} vs {r.auc_ref:.3f} <small>({esc(r.reference)})</small><br>"
        f"difference [{lo:+.3f}, {hi:+.3f}], TPR at 1% FPR {r.tpr_at_1pct_fpr:.3f} "
        f"<small>({r.members} vs {r.nonmembers})</small></td>"
    )


def _membership(views: list[tuple[str, AuditResult]], legend: str) -> list[str]:
    out = []
    tests = sorted({t for _, a in views for t in a.membership_rules()})
    if tests:
        out.append(
            "<h2>Membership rule</h2><p>Loss on the sensitive tokens. Paired: each record against itself "
            "with its values replaced by candidates; holdout: against records never trained on.</p>"
            "<table><tr><th>test</th>" + "".join(f"<th>{esc(n)}</th>" for n, _ in views) + "</tr>"
        )
        for t in tests:
            cells = [_rule_cell(a.membership_rules().get(t)) for _, a in views]
            out.append(f"<tr><td>{t}</td>{''.join(cells)}</tr>")
        out.append("</table>")
    curves = {n: a.roc() for n, a in views if a.membership}
    if curves:
        out.append(
            "<h2>Membership inference against the holdout (loss on sensitive tokens): ROC</h2>"
            + legend
            + svg_roc(curves)
        )
    attacks = sorted({(scope, k) for _, a in views for scope, scores in _attack_blocks(a) for k in scores})
    if attacks:
        out.append("<table><tr><th>attack (scope)</th>" + "".join(f"<th>{esc(n)}</th>" for n, _ in views) + "</tr>")
        for scope, k in attacks:
            cells = "".join(f"<td>{_num(_auc(a, scope, k))}</td>" for _, a in views)
            out.append(f"<tr><td>{esc(k)} ({scope})</td>{cells}</tr>")
        out.append("</table>")
    return out


def _auc(a: AuditResult, scope: str, score: str) -> float | None:
    got = dict(_attack_blocks(a)).get(scope, {}).get(score)
    return got.auc if got else None


def _attack_blocks(a: AuditResult) -> list[tuple[str, dict[str, Score]]]:
    """Each membership test's scores by scope: the holdout test's on records and on the sensitive tokens, the
    paired test's on the value tokens."""
    blocks = [(f"holdout, {s}", a.membership.scores(s) if a.membership else {}) for s in ("record", "sensitive")]
    blocks.append(("paired, value tokens", a.paired_membership.scores("sensitive") if a.paired_membership else {}))
    return [(s, b) for s, b in blocks if b]


def _regurgitation(views: list[tuple[str, AuditResult]], legend: str) -> list[str]:
    labels = sorted({lab for _, a in views for lab in a.greedy.by_label})
    series = {n: [_label_rate(a, lab) for lab in labels] for n, a in views}
    out = ["<h2>Greedy regurgitation per identifier type</h2>" + legend + svg_bars(labels, series)]
    out.append("<table><tr><th>decoding and prompt</th>" + "".join(f"<th>{esc(n)}</th>" for n, _ in views) + "</tr>")
    for m in sorted({m for _, a in views for m in a.regurgitation}):
        cells = "".join(f"<td>{_pct(a.mode(m))}</td>" for _, a in views)
        out.append(f"<tr><td>{esc(m.replace('_', ' '))}</td>{cells}</tr>")
    out.append("</table>")
    exp = {n: a.exposure.exposures for n, a in views if a.exposure}
    if exp:
        xmax = max(a.exposure.log2_space for _, a in views if a.exposure)
        out.append(f"<h2>Canary exposure (bits, maximum {xmax:.1f})</h2>" + svg_strip(exp, xmax))
    return out


def _label_rate(a: AuditResult, label: str) -> float | None:
    got = a.greedy.by_label.get(label)
    return got.rate if got else None


def _split(a: AuditResult, split: str) -> Split:
    return a.utility(split) or Split({})


def _utility(views: list[tuple[str, AuditResult]]) -> list[str]:
    out = [
        "<h2>Extraction and utility (change against the first audit)</h2><table><tr><th>metric</th>"
        + "".join(f"<th>{esc(n)}</th>" for n, _ in views)
        + "</tr>"
    ]
    rows = [
        ("memorization accuracy MA", lambda a: a.extraction.ma if a.extraction else None),
        ("exact memorization EM", lambda a: a.extraction.em if a.extraction else None),
        ("extraction strength ES", lambda a: a.extraction.es if a.extraction else None),
    ]
    for split in ("holdout", "train"):
        rows.append((f"{split} perplexity (non-sensitive)", lambda a, s=split: a.perplexity(s)))
        rows.append((f"{split} next-token accuracy", lambda a, s=split: _split(a, s).accuracy))
    rows.append(("task probe accuracy", lambda a: a.probe_accuracy))
    base = views[0][1]
    for title, get in rows:
        first = get(base)
        cells = []
        for _, a in views:
            v = get(a)
            delta = "" if v is None or first is None or a is base else f" <small>({v - first:+.3f})</small>"
            cells.append(f"<td>{_num(v)}{delta}</td>")
        out.append(f"<tr><td>{title}</td>{''.join(cells)}</tr>")
    return out + ["</table>"]


CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}"
    "td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}"
    ".ok{color:#1a7f37;font-weight:600}.bad{color:#c62828;font-weight:600}.legend span{display:inline-block;margin-right:1em}"
    ".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}h2{margin-top:1.6em}"
)


def render_html(audits: list[tuple[str, dict[str, Any]]], thresholds: dict[str, float] | None = None) -> str:
    """A self-contained page (inline SVG, no scripts, no external files) comparing audits side by side. Each
    audit is judged with the thresholds its verdict recorded, `thresholds` overriding them."""
    th = thresholds or {}
    views = [(n, AuditResult(a)) for n, a in audits]
    swatches = "".join(
        f'<span><i class="sw" style="background:{COLORS[i % len(COLORS)]}"></i>{esc(n)}</span>'
        for i, (n, _) in enumerate(views)
    )
    legend = f'<p class="legend">{swatches}</p>'
    out = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>sani privacy audit</title><style>{CSS}</style></head><body>",
        "<h1>Privacy audit of sanitized language models</h1>",
        f"<p>Generated by sani on {datetime.date.today().isoformat()}. No sensitive value appears on this page: "
        "values are counted, never shown.</p>",
    ]
    out += _verdicts(views, th)
    out += _regurgitation(views, legend)
    out += _value_exposure(views)
    out += _membership(views, legend)
    out += _utility(views)
    out += attacks_section(views)
    out += erasure_section(views)
    out += tokenizer_section(views)
    out.append("<h2>Models</h2><table><tr><th>name</th><th>model</th><th>weights fingerprint (SHA-256)</th></tr>")
    for n, a in views:
        fp = a.fingerprint or "-"
        out.append(f"<tr><td>{esc(n)}</td><td>{esc(a.model or '-')}</td><td>{esc(fp[:16])}</td></tr>")
    out.append("</table>")
    out += scope_section(views)
    out.append("</body></html>")
    return "\n".join(out)


def write_html(paths: list[str], out: str, *, names: list[str] | None = None, thresholds: str | None = None) -> None:
    from ..files import atomic_open

    th = gate.read_thresholds(thresholds) if thresholds else None
    page = render_html(load_audits(paths, names), th)
    with atomic_open(out) as f:
        f.write(page)
