"""Corpora larger than memory: streamed reading, two-pass span finding, tokenize-once cache, streamed sanitize."""

from __future__ import annotations

import json
import os

import pytest

import sani
from sani import files
from sani.bench import synthetic
from sani.models.kinds import CausalLM
from sani.repair import training as repair
from sani.scale import corpus as stream
from sani.scale import passes
from sani.spans import data
from sani.spans.finder import SpanFinder


@pytest.fixture(scope="module")
def bench_corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    records, terms = synthetic.make_bench_corpus(8, seed=2)
    (d / "terms.txt").write_text("\n".join(terms) + "\n")
    # half the annotations dropped, so that detectors and propagation have work to do
    for r in records[::2]:
        r.spans = r.spans[: len(r.spans) // 2]
    return synthetic.write_jsonl(records, d / "train.jsonl"), d / "terms.txt"


def _spans(records):
    return [[(s.start, s.end, s.label) for s in r.spans] for r in records]


@pytest.mark.unit
def test_two_pass_stream_finds_the_same_spans_as_the_whole_corpus_in_memory(bench_corpus):
    path, terms = bench_corpus
    finder = SpanFinder(terms=str(terms), detect="all", rare={"PROFESSION": 2})
    whole = finder.apply(data.read_corpus(path))
    streamed = list(passes.stream(finder, lambda: data.iter_corpus(path), chunk=7))
    assert _spans(streamed) == _spans(whole)
    assert sum(s.source == "propagated" for r in whole for s in r.spans) > 0  # propagation really ran


@pytest.mark.unit
def test_reading_is_lazy(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"text": "first record"}) + "\n" + "{not json\n")
    it = data.iter_corpus(path)
    assert next(it).text == "first record"  # the bad line further on is not read yet
    with pytest.raises(sani.SaniError, match="c.jsonl line 2: not valid JSON"):
        next(it)


@pytest.mark.unit
@pytest.mark.parametrize("packing", [False, True])
def test_cached_windows_equal_the_in_memory_ones_and_are_tokenized_once(
    bench_corpus, tokenizer, tmp_path, monkeypatch, packing
):
    path, terms = bench_corpus
    finder = SpanFinder(terms=str(terms))
    enc = data.encode_corpus(tokenizer, finder.apply(data.read_corpus(path)))
    want = repair.build_examples(enc, CausalLM(), "masked", 64, packing=packing, separator=tokenizer.eos_token_id)
    got = stream.training_examples(
        path, tokenizer, CausalLM(), finder, max_length=64, packing=packing, cache_dir=tmp_path
    )
    assert [dict(row) for row in got] == want
    assert len(list((tmp_path / "examples").iterdir())) == 1
    monkeypatch.setattr(data, "encode", lambda *a, **k: pytest.fail("tokenized again"))
    again = stream.training_examples(
        path, tokenizer, CausalLM(), finder, max_length=64, packing=packing, cache_dir=tmp_path
    )
    assert len(again) == len(want)
    # another window length is another cache entry
    monkeypatch.undo()
    stream.training_examples(path, tokenizer, CausalLM(), finder, max_length=32, packing=packing, cache_dir=tmp_path)
    assert len(list((tmp_path / "examples").iterdir())) == 2


@pytest.mark.unit
def test_a_streamed_corpus_is_read_twice_and_its_spans_found_once(bench_corpus, tokenizer, tmp_path, monkeypatch):
    """The sample's pass finds each record's spans once and keeps them (offsets and labels); the tokenizing
    pass reads the file once more and finds nothing again: the same spans and windows as in memory. A
    file changed in between is refused."""
    terms, path = bench_corpus[1], tmp_path / "train.jsonl"
    path.write_bytes(bench_corpus[0].read_bytes())  # a copy: it is changed below
    finder = SpanFinder(terms=str(terms), detect="all", rare={"PROFESSION": 2})
    whole = finder.apply(data.read_corpus(path))
    reads, found, iter_corpus, apply_local = [], [], data.iter_corpus, SpanFinder.apply_local

    def counted(p):
        for i, r in enumerate(iter_corpus(p)):
            reads.append(1) if i == 0 else None
            yield r

    def finding(self, records, *a, **k):
        found.extend(r.where for r in records)
        return apply_local(self, records, *a, **k)

    monkeypatch.setattr(data, "iter_corpus", counted)
    monkeypatch.setattr(SpanFinder, "apply_local", finding)
    src = stream.Streamed(path, finder, 3)
    assert len(reads) == 1 and src.total == len(whole) and len(src.records) == 3 and src.marks.found
    assert sorted(found) == sorted(r.where for r in whole)  # each record's spans found once
    by_where = {r.where: r for r in whole}
    assert _spans(src.records) == _spans([by_where[r.where] for r in src.records])  # the sample's final spans
    kept = src.spans.read_text()
    assert kept.count("\n") == src.total and not any(r.value(sp) in kept for r in whole for sp in r.spans)
    examples = dict(max_length=64, cache_dir=tmp_path / "c", records=src.marked)
    got = stream.training_examples(path, tokenizer, CausalLM(), finder, **examples)
    assert len(reads) == 2 and len(found) == len(whole)  # read once more, no span found again
    enc = data.encode_corpus(tokenizer, whole)
    assert [dict(row) for row in got] == repair.build_examples(enc, CausalLM(), "masked", 64)
    assert stream.spans_counted(got) == sum(len(r.spans) for r in whole)
    again = stream.training_examples(path, tokenizer, CausalLM(), finder, **examples)  # from the cache: no read
    assert len(reads) == 2 and stream.spans_counted(again) == stream.spans_counted(got)
    first = path.read_text().split("\n", 1)
    path.write_text(first[0].replace("a", "b", 1) + "\n" + first[1])  # a record's text, not its length
    with pytest.raises(sani.SaniError, match="changed while sani read it \\(at .*line 1\\)"):
        list(src.marked())
    with open(path, "a") as f:
        f.write(json.dumps({"text": "one more note"}) + "\n")
    with pytest.raises(sani.SaniError, match="changed while sani read it"):
        list(src.marked())
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(sani.SaniError, match="empty.jsonl: the corpus is empty"):
        stream.Streamed(empty, finder, 3)  # not "none of the terms occurs"


@pytest.mark.unit
def test_streamed_inline_tags_give_the_spans_of_the_corpus_in_memory(tmp_path):
    """The tags' markup is removed on both reads, so the kept offsets index the same text."""
    path = tmp_path / "tagged.jsonl"
    notes = ['Seen: <PHI type="NAME">Ana Lopez</PHI>, call <PHI type="PHONE">555-0100</PHI>.', "Ana Lopez is fine."]
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in notes))
    finder = SpanFinder(tags="PHI")
    whole = finder.apply(data.read_corpus(path))
    src = stream.Streamed(path, finder, 1)
    again = list(src.marked())
    assert [r.text for r in again] == [r.text for r in whole] and _spans(again) == _spans(whole)
    assert src.total_spans == 3  # two tagged, one propagated


@pytest.mark.model
def test_streamed_sanitize_forgets_and_audits_a_sample(memorized, tmp_path):
    report = sani.sanitize(
        memorized["original"],
        memorized["train"],
        tmp_path / "out",
        holdout=memorized["holdout"],
        stream=True,
        audit_records=40,
        cache_dir=tmp_path / "cache",
        epochs=2,  # the calibrated repair, scored and anchored a chunk at a time
        progress=False,
    )
    corpus = report["corpus"]
    assert (
        corpus["streamed"]
        and corpus["audited_records"] == 40
        and corpus["records"] == len(data.read_corpus(memorized["train"]))
    )
    assert report["audit_before"]["regurgitation"]["greedy"]["rate"] >= 0.5
    assert report["audit_after"]["regurgitation"]["greedy"]["rate"] <= 0.05
    full = sani.audit(
        tmp_path / "out", memorized["train"], samples=0, extraction=False, exposure_spans=0, progress=False
    )
    assert full["regurgitation"]["greedy"]["rate"] <= 0.05  # on every record, not only the sample


@pytest.mark.model
def test_streamed_calibrated_windows_carry_the_targets_the_in_memory_ones_do(bench_corpus, tokenizer, tmp_path):
    """The calibrated repair's windows, streamed (scored a chunk of records at a time) or in memory: the
    same windows, values and targets (float32 on disk); another model is another cache entry."""
    from sani.bench import tiny
    from sani.config import RepairConfig

    path, terms = bench_corpus
    finder = SpanFinder(terms=str(terms))
    enc = data.encode_corpus(tokenizer, finder.apply(data.read_corpus(path)))
    model = tiny.tiny_model("gpt2", tokenizer, layers=1, hidden=32, heads=2).eval()
    cfg = RepairConfig(objective="masked+calibrated", max_length=64)
    want = repair.examples_for(model, tokenizer, enc, cfg, CausalLM())
    got = [dict(r) for r in stream.training_examples(path, tokenizer, CausalLM(), finder, objective=cfg.objective,
                                                     max_length=64, cache_dir=tmp_path, calibrate=(model, cfg, ()))]  # fmt: skip
    assert len(got) == len(want) > len(enc)  # the anchors come after each chunk's own windows
    for g, w in zip(got, want):
        assert {k: g[k] for k in ("input_ids", "labels", "forget_labels", "value_ids")} == {
            k: w[k] for k in ("input_ids", "labels", "forget_labels", "value_ids")
        }
        assert g["value_targets"] == pytest.approx(w["value_targets"], rel=1e-6)
    with pytest.raises(sani.SaniError, match="need the model"):
        stream.training_examples(path, tokenizer, CausalLM(), finder, objective=cfg.objective, cache_dir=tmp_path)
    other = tiny.tiny_model("gpt2", tokenizer, layers=1, hidden=32, heads=2, seed=1).eval()
    stream.training_examples(path, tokenizer, CausalLM(), finder, objective=cfg.objective, max_length=64,
                             cache_dir=tmp_path, calibrate=(other, cfg, ()))  # fmt: skip
    assert len(list((tmp_path / "examples").iterdir())) == 2


def _edit_keeping_size_and_time(path, at: int) -> None:
    st = path.stat()
    raw = bytearray(path.read_bytes())
    raw[at] = ord("b") if raw[at] != ord("b") else ord("c")
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.unit
def test_the_cache_knows_an_edit_of_the_same_size_and_time(tmp_path):
    """The default key hashes the file's first and last MiB: an edit there is seen; one in the middle of a
    file over 2 MiB is seen only with the full hash (`--cache-key full`)."""
    path = tmp_path / "c.jsonl"
    path.write_text((json.dumps({"text": "a" * 99}) + "\n") * 30_000)  # 3.1 MB
    size = path.stat().st_size
    before = {k: files.file_digest(path, k) for k in files.CACHE_KEYS}
    _edit_keeping_size_and_time(path, size // 2)
    middle = {k: files.file_digest(path, k) for k in files.CACHE_KEYS}
    assert middle["edges"] == before["edges"] and middle["full"] != before["full"]
    _edit_keeping_size_and_time(path, size - 20)
    assert files.file_digest(path, "edges") != middle["edges"]
    with pytest.raises(sani.SaniError, match="cache_key='fast'"):
        stream.Streamed(path, SpanFinder(), 10, key="fast")
