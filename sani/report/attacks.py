"""The HTML report's sections on the attacks on copies of the model and on an erasure request: what each
attack, and each setting of the relearning grid, gave back beside the reference; each requested value's
figures and verdict. Hashes and counts only, never a value."""

from __future__ import annotations

import functools
from collections.abc import Callable

from ..audit.attack_blocks import AttackRate, Attacks, Lens, Side
from ..audit.results import AuditResult
from ..config import QUANT_SCHEMES
from .charts import esc
from .text import _num, _side


def _rate_cell(block: AttackRate | None) -> str:
    if not block or block.rate is None:
        return "<td>-</td>"
    ref = block.reference
    ve = f", {block.value_exposure:.2f} bits" if block.value_exposure is not None else ""
    shown = f"<br><small>reference {ref.rate:.1%}</small>" if ref.rate is not None else ""
    if block.interval is not None:  # any context's share back above the reference's, with its interval
        lo, hi = block.interval
        shown += f"<br><small>back {block.back.rate:.1%}: {block.difference:+.1%} [{lo:+.1%}, {hi:+.1%}]</small>"
    return f"<td>{block.rate:.1%} <small>({block.hits}/{block.total}{ve})</small>{shown}</td>"


def erasure_section(views: list[tuple[str, AuditResult]]) -> list[str]:
    """Each audit's erasure request: a row a value (its hash and labels, never the value)."""
    out = []
    for name, a in views:
        block = a.erasure
        if not block:
            continue
        sides = block.models
        head = "".join(f"<th>{esc(m)}</th>" for m in sides)
        out.append(
            f"<h2>Erasure request ({esc(name)})</h2><p>Each value: said by greedy decoding or a sample in any "
            "place; mean exposure among candidates and places ranked first; the paired score (above 0: "
            "likelier than a candidate in its place). The rule is in docs/audit.md.</p>"
            f"<table><tr><th>value (keyed hash)</th><th>labels</th><th>records</th>{head}<th>verdict</th></tr>"
        )
        for row in block.rows:
            cells = "".join(f"<td>{_cell(row.side(m))}</td>" for m in sides)
            out.append(
                f"<tr><td><code>{esc(row.value_hash)}</code></td><td>{esc('/'.join(row.labels))}</td>"
                f"<td>{row.records}</td>{cells}<td>{esc(row.verdict)}</td></tr>"
            )
        out.append("</table>" + (f"<p><small>{esc(block.note)}</small></p>" if block.note else ""))
    return out


def _cell(side: Side | None) -> str:
    return "-" if side is None else esc(_side(side))


def _setting_names(got: list[tuple[str, Attacks]]) -> list[str]:
    """The relearning grid's settings, in the order the audits ran them."""
    names: dict[str, None] = {}
    for _, at in got:
        names.update((st.name, None) for st in at.relearn.settings)
    return list(names)


def _rows(got: list[tuple[str, Attacks]]) -> list[tuple[str, Callable[[Attacks], AttackRate | None]]]:
    """The table's rows: each relearning setting, the runs of an audit written before the grid, each scheme."""
    rows = [(f"relearn, {name}", functools.partial(_setting, name=name)) for name in _setting_names(got)]
    rows += [
        ("relearn: fine-tuned on some records, the others' values", lambda at: at.relearn.run("attack")),
        ("relearn, benign: fine-tuned on records never seen", lambda at: at.relearn.run("benign")),
    ]
    rows += [(f"quantized, {q}", functools.partial(_scheme, q=q)) for q in QUANT_SCHEMES]
    return rows


def _setting(at: Attacks, name: str) -> AttackRate | None:
    return at.relearn.setting(name)


def _scheme(at: Attacks, q: str) -> AttackRate | None:
    return at.quantize.scheme(q)


def attacks_section(views: list[tuple[str, AuditResult]]) -> list[str]:
    """What the attacks on copies gave back: regurgitation after each, the extraction attack, the lens."""
    got = [(n, a.attacks) for n, a in views]
    if not any(at for _, at in got):
        return []
    head = "".join(f"<th>{esc(n)}</th>" for n, _ in got)
    out = [
        "<h2>Attacks on copies of the model</h2><p>Greedy regurgitation after each attack (value exposure "
        "beside), with the reference model under the same attack below it when one was given.</p>"
        f"<table><tr><th>attack</th>{head}</tr>"
    ]
    for title, get in _rows(got):
        if any(get(at) for _, at in got):
            out.append(f"<tr><td>{title}</td>{''.join(_rate_cell(get(at)) for _, at in got)}</tr>")
    ex = [at.extract for _, at in got]
    if any(ex):
        cells = "".join(
            "<td>-</td>"
            if not e
            else f"<td>{e.values_found} of {e.value_count} values in {e.samples} "
            f"samples; {e.unmarked_in_corpus} unmarked identifiers of the corpus</td>"
            for e in ex
        )
        out.append(f"<tr><td>extraction: free samples</td>{cells}</tr>")
    out.append("</table>")
    return out + _lens_table([(n, at.lens) for n, at in got if at.lens])


def _lens_table(lens: list[tuple[str, Lens]]) -> list[str]:
    """Values read at each layer (teacher-forced), an audit a column."""
    if not lens:
        return []
    depth = max(len(b.rates) for _, b in lens)
    out = [
        "<h3>Logit lens: values read at each layer (teacher-forced)</h3><table><tr><th>layer</th>"
        + "".join(f"<th>{esc(n)}</th>" for n, _ in lens)
        + "</tr>"
    ]
    for i in range(depth):
        cells = "".join(f"<td>{_num(b.rates[i]) if i < len(b.rates) else '-'}</td>" for _, b in lens)
        out.append(f"<tr><td>{i}{' (the model)' if i == depth - 1 else ''}</td>{cells}</tr>")
    out.append("</table>")
    return out
