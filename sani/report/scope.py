"""The HTML report's sections on what an audit did not look at: how the spans were found, what was sampled,
which attacks did not run (the scope and limitations), and what ships in the tokenizer."""

from __future__ import annotations

from ..audit.blocks import LabelScan
from ..audit.results import AuditResult, Scope
from ..audit.tokscan import warning
from .charts import esc


def tokenizer_section(views: list[tuple[str, AuditResult]]) -> list[str]:
    scans = [(n, a.tokenizer_scan) for n, a in views if a.tokenizer_scan]
    if not scans:
        return []
    out = [
        "<h2>What ships: the tokenizer</h2><p>Values of the corpus that are whole vocabulary entries, and values "
        "with pieces of 4 characters or more among the entries (counted, never shown).</p><table><tr><th>label</th>"
        + "".join(f"<th>{esc(n)}</th>" for n, _ in scans)
        + "</tr>"
    ]
    for lab in sorted({lab for _, t in scans for lab in t.by_label}):
        cells = "".join(_scan_cell(t.by_label.get(lab) or LabelScan({})) for _, t in scans)
        out.append(f"<tr><td>{esc(lab)}</td>{cells}</tr>")
    out.append("</table>")
    return out + [f'<p class="bad">{esc(n)}: {esc(w)}</p>' for n, t in scans if (w := warning(t))]


def _scan_cell(row: LabelScan) -> str:
    return f"<td>{row.whole} whole, {row.pieces} in pieces</td>"


def scope_section(views: list[tuple[str, AuditResult]]) -> list[str]:
    """Scope and limitations: how the spans were found, what was sampled, which attacks did not run."""
    out = [
        "<h2>Scope and limitations</h2><p>Only the values the spans mark were sanitized and audited: an "
        "identifier the span finder missed is in neither. Figures measured on a sample describe that sample.</p>"
    ]
    for n, a in views:
        sc = a.scope
        if not sc:
            out.append(f"<p><b>{esc(n)}</b>: scope not recorded (an audit of an earlier version).</p>")
            continue
        items = _scope_items(sc)
        out.append(f"<p><b>{esc(n)}</b></p><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
    return out


def _scope_items(sc: Scope) -> list[str]:
    """One audit's scope, a list item each: where the spans came from, what was not looked for, the samples, the
    attacks."""
    sp = sc.spans
    ways = [
        (sp["annotations"], True),
        ("terms", sp["terms"]),
        (f"inline tags {sp['tags']}", sp["tags"]),
        ("detectors " + ", ".join(sp["detectors"]), sp["detectors"]),
        (f"{sp['patterns']} patterns", sp["patterns"]),
        ("Presidio", sp["presidio"]),
    ]
    found = ", ".join(x for x, on in ways if on)
    paired = {None: "no", 0: "all"}.get(sc.paired_records, sc.paired_records)
    not_run = ", ".join(f"{k} ({v})" for k, v in sc.attacks_not_run.items()) or "none"
    return [
        f"spans from: {esc(found)}; labels {esc(sp['labels'])}"
        f"{'; other occurrences of known values marked' if sp['propagate'] else ''}",
        f"not looked for: detectors {esc(', '.join(sp['detectors_not_run']) or 'none')}",
        f"records audited: {sc.records} of {sc.corpus_records}; value exposure on {sc.exposure_spans} "
        f"values among {sc.exposure_candidates} candidates each; paired test on {paired} records",
        "attacks run: " + (", ".join(sc.attacks_run) or "none") + "; not run: " + not_run,
    ]
