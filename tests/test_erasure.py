"""An erasure request (`sani audit --values/--record --original`): each value answered before, after and
against the reference, with its verdict; bad request files end in one line naming the file."""

import json

import pytest

from sani.audit.erasure import Request, read_values, verdict
from sani.cli import main
from sani.errors import SaniError
from sani.spans import data


@pytest.mark.unit
def test_a_request_file_is_read_line_by_line_or_as_json_and_bad_ones_are_named(tmp_path):
    lines = tmp_path / "v.txt"
    lines.write_text("Ann Lee\n\n 219-09-9999 \n", encoding="utf-8")
    assert read_values(lines) == [Request("Ann Lee"), Request("219-09-9999")]
    js = tmp_path / "v.json"
    js.write_text(json.dumps(["Ann Lee", {"value": "Bo", "label": "NAME"}]), encoding="utf-8")
    assert read_values(js) == [Request("Ann Lee"), Request("Bo", "NAME")]
    js.write_text(json.dumps([{"label": "NAME"}]), encoding="utf-8")
    with pytest.raises(SaniError, match=r"v\.json: entry 1"):
        read_values(js)
    (tmp_path / "e.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(SaniError, match=r"e\.txt: no values"):
        read_values(tmp_path / "e.txt")


@pytest.mark.unit
def test_a_value_fails_when_said_or_always_ranked_first_unless_the_reference_does_the_same():
    row = {
        "status": "marked",
        "places": 2,
        "after": {"greedy": False, "ranked_first": 0, "exposure": 1.5, "chance": 1.3},
    }
    assert verdict(row, has_reference=False) == "pass"
    assert verdict({**row, "after": {**row["after"], "sampled": True}}, False) == "fail"
    said = {**row, "after": {**row["after"], "greedy": True}, "reference": {"greedy": True, "ranked_first": 0}}
    assert verdict(said, has_reference=True) != "fail"  # the reference says it too: it is guessable, not memorized
    assert verdict({**row, "after": {**row["after"], "ranked_first": 2}}, False) == "fail"
    assert verdict({**row, "after": {**row["after"], "exposure": 2.5}}, False) == "inconclusive"
    assert verdict({"status": "not marked", "places": 0}, False) == "not sanitized: not marked in the corpus"


@pytest.mark.e2e
def test_an_erasure_request_is_answered_before_and_after_value_by_value(memorized, sanitized, tmp_path, capsys):
    records = data.read_corpus(memorized["train"])
    rec = next(r for r in records if len({s.label for s in r.spans}) >= 3)
    asked = [rec.value(s) for s in rec.spans][:3]
    words = {w for r in records for w in r.text.split() if w.isalpha() and len(w) > 4}
    unmarked = next(w for w in sorted(words) if not any(w in r.value(s) for r in records for s in r.spans))
    request = tmp_path / "request.txt"
    request.write_text("\n".join([*asked, unmarked, "Zyxwvut Qponm"]) + "\n", encoding="utf-8")
    out = tmp_path / "audit.json"
    args = ["audit", "--model", str(sanitized), "--corpus", str(memorized["train"]), "--out", str(out),
            "--values", str(request), "--original", str(memorized["original"]), "--samples", "0", "--contexts", "full",
            "--no-extraction", "--exposure-spans", "10", "--exposure-candidates", "30", "--no-paired-membership", "-q"]  # fmt: skip
    main(args)
    printed = capsys.readouterr().out
    got = json.loads(out.read_text())["erasure"]
    rows = got["values"]
    assert got["models"] == ["after", "before"] and len(rows) == 5
    marked = [r for r in rows if r["status"] == "marked"]
    assert len(marked) >= len(set(asked)) - 1 and all(r["records"] >= 1 for r in marked)
    assert sum(r["before"]["greedy"] for r in marked) >= 1  # the original says what it memorized
    assert not any(r["after"]["greedy"] for r in marked)  # the sanitized model says none of it
    assert all(r["before"]["exposure"] >= r["after"]["exposure"] - 1.0 for r in marked)
    assert [r["verdict"] for r in rows[-2:]] == ["not sanitized: not marked in the corpus", "not in the corpus"]
    assert "erasure request: 5 values" in printed
    page = tmp_path / "report.html"
    assert main(["report", str(out), "--out", str(page)]) == 0
    html = page.read_text()
    assert "Erasure request" in html and all(r["value_hash"] in html for r in rows)
    assert not [v for v in asked if v in out.read_text() + printed + html]  # hashes and labels only
    assert unmarked not in out.read_text()


@pytest.mark.e2e
def test_sanitize_answers_an_erasure_request_before_erasing_and_once_repaired(memorized, sanitize_run):
    from conftest import requested_record

    record = data.read_corpus(memorized["train"])[requested_record(memorized) - 1]
    got = sanitize_run[1]["audit_after"]["erasure"]
    rows = got["values"]
    assert got["models"] == ["before", "after"] and len(rows) == len({record.value(s) for s in record.spans})
    assert all(r["status"] == "marked" and r["records"] >= 1 for r in rows)
    assert sum(r["before"]["greedy"] for r in rows) >= 1  # the input model says what it memorized
    assert not any(r["after"]["greedy"] for r in rows)  # the sanitized model says none of it
    assert sum(r["before"]["exposure"] for r in rows) > sum(r["after"]["exposure"] for r in rows)
    assert all("paired_score" in r["after"] and "sampled" in r["after"] for r in rows)
    assert "fail" not in got["summary"]
    written = (sanitize_run[0] / "sanitization.json").read_text()
    assert '"erasure"' in written and not [s for s in record.spans if record.value(s) in written]


@pytest.mark.unit
def test_a_record_out_of_range_or_without_values_is_refused_before_any_model_loads(tmp_path, capsys):
    corpus = tmp_path / "c.jsonl"
    rows = [{"text": "Ann Lee called.", "spans": [{"start": 0, "end": 7, "label": "NAME"}]}, {"text": "No value."}]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    missing = str(tmp_path / "no-model")  # never loaded: the request is refused first
    for record, message in ((9, "--record 9: the corpus has records 1 to 2"), (2, "--record 2: no value")):
        assert main(["audit", "--model", missing, "--corpus", str(corpus), "--record", str(record), "-q"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
