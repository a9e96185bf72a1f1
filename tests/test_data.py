import json

import pytest

from sani.errors import SaniError
from sani.spans import data
from sani.spans.data import Record, Span


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.unit
def test_jsonl_spans_are_read_sorted_and_deduplicated(tmp_path):
    line = {
        "text": "Call 555-1234 or mail bob@x.org",
        "spans": [
            {"start": 22, "end": 31, "label": "EMAIL"},
            {"start": 5, "end": 13, "label": "PHONE"},
            {"start": 5, "end": 13},
        ],
    }
    recs = data.read_corpus(
        write(tmp_path, "c.jsonl", json.dumps(line) + "\n\n" + json.dumps({"text": "plain"}) + "\n")
    )
    assert [r.text for r in recs] == [line["text"], "plain"]
    assert recs[0].spans == [Span(5, 13, "PHONE"), Span(22, 31, "EMAIL")]
    assert recs[0].value(recs[0].spans[0]) == "555-1234"
    assert recs[1].spans == []


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"text": "a"}\n{"text": oops}\n', "line 2: not valid JSON"),
        ('["a"]\n', "line 1: expected a JSON object"),
        ('{"text": 3}\n', "line 1: field 'text' must be a string"),
        (
            '{"text": "abc", "spans": [{"start": 1, "end": 9}]}\n',
            "line 1: spans[0] ends at 9, past the end of the text (length 3)",
        ),
        ('{"text": "abc", "spans": [{"start": 2, "end": 1}]}\n', "need 0 <= start < end"),
        ('{"text": "abc", "spans": [{"start": -1, "end": 1}]}\n', "need 0 <= start < end"),
        ('{"text": "abc", "spans": [{"start": "0", "end": 1}]}\n', "spans[0].start must be an integer"),
        (
            '{"text": "abcdef", "spans": [{"start": 0, "end": 3}, {"start": 2, "end": 5}]}\n',
            "overlap without one containing the other",
        ),
        ("\n\n", "the corpus is empty"),
    ],
)
@pytest.mark.unit
def test_bad_corpus_lines_name_the_line(tmp_path, text, message):
    with pytest.raises(SaniError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        data.read_corpus(write(tmp_path, "c.jsonl", text))


@pytest.mark.unit
def test_error_messages_never_contain_span_values(tmp_path):
    secret = "123-45-6789"
    text = json.dumps({"text": f"SSN {secret}", "spans": [{"start": 4, "end": 15}, {"start": 6, "end": 20}]})
    with pytest.raises(SaniError) as e:
        data.read_corpus(write(tmp_path, "c.jsonl", text + "\n"))
    msg = str(e.value).replace(str(tmp_path), "")  # the temporary path may hold any digits
    assert secret not in msg and "45" not in msg


@pytest.mark.unit
def test_nested_span_is_absorbed_by_the_outer_one(tmp_path):
    line = {
        "text": "Dr John Smith",
        "spans": [{"start": 3, "end": 13, "label": "NAME"}, {"start": 3, "end": 7, "label": "FIRST"}],
    }
    (rec,) = data.read_corpus(write(tmp_path, "c.jsonl", json.dumps(line)))
    assert rec.spans == [Span(3, 13, "NAME")]


@pytest.mark.unit
def test_non_utf8_names_the_line(tmp_path):
    p = tmp_path / "c.txt"
    p.write_bytes(b"good line\nbad \xff line\n")
    with pytest.raises(SaniError, match="line 2: not valid UTF-8"):
        data.read_corpus(p)


@pytest.mark.unit
def test_txt_csv_parquet(tmp_path):
    assert [r.text for r in data.read_corpus(write(tmp_path, "c.txt", "one\n\ntwo\n"))] == ["one", "two"]
    import datasets

    ds = datasets.Dataset.from_list([{"text": "alpha beta", "id": 1}, {"text": "gamma", "id": 2}])
    ds.to_csv(str(tmp_path / "c.csv"))
    ds.to_parquet(str(tmp_path / "c.parquet"))
    for name in ("c.csv", "c.parquet"):
        assert [r.text for r in data.read_corpus(tmp_path / name)] == ["alpha beta", "gamma"]
    datasets.Dataset.from_list([{"body": "x"}]).to_csv(str(tmp_path / "bad.csv"))
    with pytest.raises(SaniError, match="no 'text' column"):
        data.read_corpus(tmp_path / "bad.csv")


@pytest.mark.unit
def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(SaniError, match="unknown corpus format"):
        data.read_corpus(write(tmp_path, "c.xml", "<a/>"))
    with pytest.raises(SaniError, match="not found"):
        data.read_corpus(tmp_path / "nope.jsonl")


@pytest.mark.unit
def test_terms_whole_words_case_and_merge(caplog):
    recs = [
        Record("Project Falcon meets falcon team; Falconry is a hobby.", [Span(8, 14, "CODENAME")]),
        Record("Nothing here."),
    ]
    n = data.add_term_spans(recs, ["Falcon", "", "Zebra"], source="terms.txt")
    assert n == 1  # only the capitalised whole word, already inside an annotated span
    assert recs[0].spans == [Span(8, 14, "CODENAME")]
    assert "lines 3" in caplog.text and "Zebra" not in caplog.text
    n = data.add_term_spans(recs, ["Falcon"], ignore_case=True)
    assert n == 2
    assert [recs[0].value(s) for s in recs[0].spans] == ["Falcon", "falcon"]


@pytest.mark.unit
def test_terms_matching_nothing_is_an_error():
    with pytest.raises(SaniError, match="none of the 2 terms occurs"):
        data.add_term_spans([Record("hello")], ["Zebra", "Okapi"], source="t.txt")


@pytest.mark.unit
def test_merge_spans_unions_overlaps():
    merged = data.merge_spans([Span(0, 5, "A"), Span(10, 12, "B")], [Span(3, 8, "T"), Span(20, 22, "T")])
    assert merged == [Span(0, 8, "A"), Span(10, 12, "B"), Span(20, 22, "T")]


@pytest.mark.unit
def test_token_alignment_marks_overlapping_tokens(tokenizer):
    text = "Patient name: Maria Lopez. SSN: 123-45-6789. Seen today."
    start = text.index("123")
    rec = Record(text, [Span(start, start + 11, "SSN")])
    enc = data.encode(tokenizer, rec)
    offsets = tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    for (a, b), sens in zip(offsets, enc.sensitive):
        assert sens == (a < start + 11 and b > start)
    sensitive_text = "".join(tokenizer.decode([t]) for t, s in zip(enc.input_ids, enc.sensitive) if s)
    assert "123-45-6789" in sensitive_text
    assert "SSN" not in sensitive_text and "Seen" not in sensitive_text


@pytest.mark.unit
def test_slow_tokenizer_is_refused():
    class Slow:
        is_fast = False

    with pytest.raises(SaniError, match="offset mapping"):
        data.check_tokenizer(Slow())


@pytest.mark.unit
def test_windows_cover_every_token():
    enc = data.Encoded(list(range(10)), [-1, -1, 0, 0, -1, -1, -1, 1, -1, -1], Record("x"))
    wins = list(data.windows(enc, 4))
    assert [w[0] for w in wins] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert sum(sum(s) for _, s in wins) == 3
