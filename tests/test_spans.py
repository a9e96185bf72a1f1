import json

import pytest

import sani
from sani import data, detect
from sani.data import Record, Span
from sani.errors import SaniError
from sani.spans import SpanFinder, apply_rarity, format_summary, label_filter, parse_rare, propagate, strip_inline_tags


def found(name, text):
    return [text[s.start : s.end] for s in detect.DETECTORS[name](text)]


@pytest.mark.parametrize("name, text, want", [
    ("EMAIL", "write to jane.doe+notes@mail.example.org today", ["jane.doe+notes@mail.example.org"]),
    ("EMAIL", "not an address: jane@localhost or @handle", []),
    ("SSN", "SSN 123-45-6789, not 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567", ["123-45-6789"]),
    ("CREDIT_CARD", "card 4111 1111 1111 1111 and 4111-1111-1111-1112", ["4111 1111 1111 1111"]),
    ("IBAN", "IBAN GB82 WEST 1234 5698 7654 32 Thanks; bad GB82 WEST 1234 5698 7654 33", ["GB82 WEST 1234 5698 7654 32"]),
    ("IBAN", "DE89370400440532013000.", ["DE89370400440532013000"]),
    ("PHONE", "call (555) 123-4567, 555.123.4567, +1 555 123 4567, +44 20 7946 0958 or 01 23 45 67 89",
     ["(555) 123-4567", "555.123.4567", "+1 555 123 4567", "+44 20 7946 0958", "01 23 45 67 89"]),
    ("PHONE", "SSN 123-45-6789 and order 2021-03-04", []),
    ("IP_ADDRESS", "from 192.168.0.12 and 2001:db8::8a2e:370:7334, not 999.1.1.1 or 1.2.3", ["192.168.0.12", "2001:db8::8a2e:370:7334"]),
    ("URL", "see https://example.org/a?b=1). Or www.example.com.", ["https://example.org/a?b=1", "www.example.com"]),
    ("DATE", "born 03/14/1975, seen 2021-03-04, on March 4, 2021 and 4 Mar 2021; not 13/45/2021 or 123/4/20",
     ["03/14/1975", "2021-03-04", "March 4, 2021", "4 Mar 2021"]),
])
def test_detectors(name, text, want):
    assert found(name, text) == want


def test_checksums():
    assert detect.luhn_ok("4111111111111111") and not detect.luhn_ok("4111111111111112")
    assert detect.iban_ok("GB82WEST12345698765432") and not detect.iban_ok("GB82WEST12345698765433")


def test_user_patterns_and_bad_regex():
    label, rx = detect.compile_pattern(r"MRN=MRN[- ](?P<value>\d{7})")
    spans = list(detect.pattern_detector(label, rx)("chart MRN-1234567 and MRN 7654321"))
    assert [(s.label, s.end - s.start) for s in spans] == [("MRN", 7), ("MRN", 7)]
    with pytest.raises(SaniError, match=r"--pattern MRN: not a valid regular expression"):
        detect.compile_pattern("MRN=MRN-(\\d{7}")
    with pytest.raises(SaniError, match="expected LABEL=REGEX"):
        detect.compile_pattern("just-a-regex")
    with pytest.raises(SaniError, match="unknown detector 'FAX'"):
        detect.parse_detect("email,fax")


def test_inline_tags_are_removed_and_become_spans():
    recs = [Record('Seen <PHI type="NAME">John Smith</PHI> (MRN <PHI label="MRN">1234567</PHI>) today.', where="c.jsonl line 1")]
    strip_inline_tags(recs, "PHI")
    (r,) = recs
    assert r.text == "Seen John Smith (MRN 1234567) today."
    assert [(r.value(s), s.label, s.source) for s in r.spans] == [("John Smith", "NAME", "tags"), ("1234567", "MRN", "tags")]
    for bad, msg in [("<PHI>a <PHI>b</PHI></PHI>", "nested"), ("a <PHI type='X'>b", "not closed")]:
        with pytest.raises(SaniError, match=f"c.jsonl line 2: .*{msg}"):
            strip_inline_tags([Record(bad, where="c.jsonl line 2")], "PHI")
    with pytest.raises(SaniError, match="both inline"):
        strip_inline_tags([Record("<PHI>x</PHI>", [Span(0, 1)], where="c.jsonl line 3")], "PHI")


def test_term_variants():
    recs = [Record("John Smith, john-smith, JohnSmith; SSN 123 45 6789 / 123456789")]
    data.add_term_spans(recs, ["John Smith", "123-45-6789"], ignore_case=True, variants=True)
    assert [recs[0].value(s) for s in recs[0].spans] == ["John Smith", "john-smith", "JohnSmith", "123 45 6789", "123456789"]


def test_propagation_marks_unannotated_occurrences():
    recs = [Record("Patient Maria Lopez, MRN 12.", [Span(8, 19, "NAME"), Span(25, 27, "MRN")]),
            Record("Maria Lopez called back. Room 12. Marias."), Record("Nothing.")]
    propagate(recs)
    assert [(recs[1].value(s), s.label, s.source) for s in recs[1].spans] == [("Maria Lopez", "NAME", "propagated")]
    assert recs[2].spans == []  # "12" is too short to propagate, "Marias" is another word


def test_rarity_keeps_only_rare_quasi_identifiers():
    recs = [Record(t, [Span(0, len(t.split()[0]), "PROFESSION")]) for t in ["nurse a", "nurse b", "nurse c", "astronaut d"]]
    apply_rarity(recs, parse_rare("PROFESSION:2"))
    assert [len(r.spans) for r in recs] == [0, 0, 0, 1]
    with pytest.raises(SaniError, match="LABEL"):
        parse_rare("PROFESSION")


def test_label_sets():
    assert label_filter("direct")("NAME") and not label_filter("direct")("DATE")
    assert label_filter("all")("DATE") and label_filter("direct")("SOMETHING_NEW")
    assert label_filter("SSN,PHONE")("SSN") and not label_filter("SSN,PHONE")("NAME")


def test_sources_are_merged_not_duplicated():
    recs = [Record("Mail jane@x.org or call 555-123-4567.", [Span(5, 15, "EMAIL"), Span(24, 30, "PHONE")])]
    SpanFinder(detect="email,phone", propagate=False).apply(recs)
    assert [(recs[0].value(s), s.source) for s in recs[0].spans] == [("jane@x.org", "annotation"), ("555-123-4567", "annotation")]


def test_spans_command_writes_a_corpus_sanitize_accepts(tmp_path, capsys, memorized):
    from sani.cli import main

    raw = tmp_path / "raw.jsonl"
    lines = ['{"text": "Contact jane.roe@example.com or 555-987-6543 about <PHI type=\\"NAME\\">Jane Roe</PHI>."}',
             '{"text": "Jane Roe paid with card 4111 1111 1111 1111."}']
    raw.write_text("\n".join(lines) + "\n")
    out = tmp_path / "spans.jsonl"
    code = main(["spans", "--corpus", str(raw), "--tags", "PHI", "--detect", "all", "--out", str(out),
                 "--tokenizer", str(memorized["original"])])
    printed = capsys.readouterr().out
    assert code == 0
    assert "EMAIL 1" in printed and "PHONE 1" in printed and "NAME 2" in printed and "CREDIT_CARD 1" in printed
    assert "% of tokens" in printed
    for secret in ("jane.roe@example.com", "555-987-6543", "Jane Roe", "4111 1111"):
        assert secret not in printed
    recs = data.read_corpus(out)
    assert recs[0].text.startswith("Contact jane.roe@example.com") and "<PHI" not in recs[0].text
    assert {s.source for r in recs for s in r.spans} == {"detect:EMAIL", "detect:PHONE", "tags", "propagated", "detect:CREDIT_CARD"}
    result = sani.audit(memorized["original"], out, progress=False)
    assert result["regurgitation"]["greedy"]["total"] >= 3


def test_summary_masks_values():
    recs = [Record("Ann Lee and Ann Lee", [Span(0, 7, "NAME"), Span(12, 19, "NAME")])]
    summary = sani.find_spans(recs)
    assert summary["by_label"] == {"NAME": 2}
    assert summary["top_values"][0]["count"] == 2 and "Ann Lee" not in json.dumps(summary)
    assert "Ann Lee" not in format_summary(summary)


def test_presidio_missing_is_a_clear_error():
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        with pytest.raises(SaniError, match=r"presidio-analyzer is not installed \(pip install 'sani-llm\[presidio\]'\)"):
            SpanFinder(presidio=True).apply([Record("Call 555-123-4567")])
    else:
        with pytest.raises(SaniError, match="spaCy model 'no_such_model_xyz' is not installed"):
            from sani.spans import presidio_detector

            presidio_detector("no_such_model_xyz")
