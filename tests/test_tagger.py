"""sani's own name and address tagger (`sani tagger`, `--detect tagger`): built offline from synthetic
sentences, it finds whole names and whole addresses in locales it never learnt from, keeps organisations,
drugs and codes unmarked, marks a found name's parts where they stand alone; a missing build is one line."""

import json

import pytest

from sani.cli import main
from sani.spans import detect, tagger, tagger_data
from sani.spans.data import Record
from sani.spans.finder import SpanFinder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small tagger (1500 sentences, 60 iterations: seconds), its path."""
    path = tmp_path_factory.mktemp("tagger") / "tagger.crfsuite"
    return tagger.build(path, sentences=1500, iterations=60)["path"]


def _found(det, text):
    return [(text[s.start : s.end], s.label) for s in det(text)]


@pytest.mark.model
def test_names_and_whole_addresses_are_found_in_locales_it_never_learnt_from(built):
    det = tagger.tagger_detector(built)
    held_out = list(tagger_data.sentences(300, seed=77, held_out=True))
    found = right = total = predicted = 0
    for r in held_out:
        got = list(det(r.text))
        predicted += len(got)
        right += sum(any(g.label == p.label and p.start < g.end and g.start < p.end for g in r.spans) for p in got)
        found += sum(any(g.label == p.label and p.start < g.end and g.start < p.end for p in got) for g in r.spans)
        total += len(r.spans)
    assert found / total > 0.85 and right / predicted > 0.9  # this small build: 0.91 / 0.98 on two seeds


@pytest.mark.model
def test_distractors_stay_unmarked_and_a_names_parts_are_marked_where_they_stand_alone(built):
    det = tagger.tagger_detector(built)
    text = ("Please forward the Metformin order ORD-2021-00412 to Chiamaka Eze at Northwind Logistics. "
            "Mrs Eze will sign it on Monday.")  # fmt: skip
    got = _found(det, text)
    assert ("Chiamaka Eze", "NAME") in got and ("Eze", "NAME") in got
    marked = " ".join(v for v, _ in got)
    assert not any(w in marked for w in ("Metformin", "ORD", "Northwind", "Monday", "Please"))
    address = "Ship it to 14 Rue des Lilas, 69003 Lyon by Friday."
    assert ("14 Rue des Lilas, 69003 Lyon", "ADDRESS") in _found(det, address)


@pytest.mark.e2e
def test_a_missing_or_foreign_build_is_one_line_and_all_skips_it(built, tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("Please forward it to Chiamaka Eze, phone 555-123-4567.\n", encoding="utf-8")
    monkeypatch.setenv("SANI_TAGGER", str(tmp_path / "none.crfsuite"))
    assert main(["spans", "--corpus", str(corpus), "--detect", "tagger", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the tagger is not built" in err[0] and "sani tagger" in err[0]
    detect._reported.clear()
    assert main(["spans", "--corpus", str(corpus), "--detect", "all", "-q"]) == 0
    assert "skipped: tagger (the tagger is not built" in capsys.readouterr().err
    other = tmp_path / "other.crfsuite"
    assert main(["tagger", "--out", str(other), "--sentences", "200", "--iterations", "10"]) == 0
    assert "tagger written to" in capsys.readouterr().out
    other.with_suffix(".json").write_text(json.dumps({"version": tagger.VERSION + 1}))
    monkeypatch.setenv("SANI_TAGGER", str(other))
    assert main(["spans", "--corpus", str(corpus), "--detect", "tagger", "-q"]) == 2
    assert "another version" in capsys.readouterr().err
    monkeypatch.setenv("SANI_TAGGER", built)
    records = [Record(corpus.read_text(encoding="utf-8"))]
    SpanFinder(detect="tagger,phone", propagate=False).apply(records)
    assert {(records[0].value(s), s.label) for s in records[0].spans} >= {("Chiamaka Eze", "NAME")}


@pytest.mark.unit
def test_the_texts_follow_their_seed_and_their_spans_stay_on_their_values_whatever_the_case():
    first = [(r.text, r.spans) for r in tagger_data.sentences(200, seed=3, held_out=True)]
    assert first == [(r.text, r.spans) for r in tagger_data.sentences(200, seed=3, held_out=True)]
    rng = __import__("random").Random(1)
    for _ in range(600):  # lower and upper case change some letters' lengths ("ß" -> "SS")
        r = tagger_data.render("Dear {N}, ship to {A}.", rng, tagger_data.EVAL_LOCALES, tagger_data.EVAL_PLACES)
        name, address = r.spans
        assert r.text[:5].lower() == "dear " and name.start == 5 and r.text[address.end :] == "."
        assert r.text[name.end : address.start].lower() == ", ship to "


@pytest.mark.unit
def test_a_span_loses_the_lowercase_words_it_ran_into_unless_written_without_capitals():
    vocab = tagger.Vocab(frozenset(), {"from": "1000", "now": "1000"}, {})
    text = "My neighbour Ana Lima visits; hi this is ada okafor and I need help. 12 Rue Haute from now"
    name = text.index("neighbour Ana Lima")
    assert tagger._trim(text, name, name + len("neighbour Ana Lima"), "NAME", vocab)[:2] == (
        name + len("neighbour "), name + len("neighbour Ana Lima"))  # fmt: skip
    low = text.index("ada okafor")
    assert tagger._trim(text, low, low + len("ada okafor"), "NAME", vocab)[:2] == (low, low + len("ada okafor"))
    street = text.index("12 Rue")
    assert tagger._trim(text, street, len(text), "ADDRESS", vocab)[1] == street + len("12 Rue Haute")
    assert tagger._trim("call 0161 496 0692", 5, 18, "ADDRESS", vocab) is None  # digits alone: a phone
