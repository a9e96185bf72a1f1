"""Tiny models built from a `transformers` config, for the demo, tests and benchmarks (no hub access needed).

The tokenizer is a byte-level BPE trained on text the caller gives (the demo uses notes about *other*
patients, like a tokenizer that comes from pre-training), wrapped as a fast tokenizer with offsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

EOS = "<|endoftext|>"

CAUSAL_ARCHS = ("gpt2", "gpt_neox", "opt", "llama", "mistral", "qwen2")
MASKED_ARCHS = ("bert", "roberta", "distilbert", "deberta-v2")
ARCHS = CAUSAL_ARCHS + MASKED_ARCHS


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> Any:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS])
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=EOS, eos_token=EOS, unk_token=EOS)


def train_wordpiece(texts: Iterable[str], vocab_size: int = 1024) -> Any:
    """An uncased WordPiece tokenizer with BERT's special tokens, for the masked LMs: every character seen
    (alone and as a word piece), the most frequent words, then the most frequent pieces of words, ties broken
    alphabetically. Built here rather
    than by `tokenizers`' WordPiece trainer, whose vocabulary changes from run to run (it numbers the "##"
    pieces in hash order and breaks ties by those numbers: huggingface/tokenizers#1794)."""
    from collections import Counter

    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    words = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t)))
    chars = sorted({c for w in words for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *("##" + c for c in chars)]
    frequent = sorted((w for w, n in words.items() if n >= 2 and len(w) > 1), key=lambda w: (-words[w], w))
    vocab += frequent[: max(0, vocab_size - len(vocab))]
    pieces: Counter = Counter()  # then pieces of 2-4 characters, word-initial or "##" inside a word
    for w, n in words.items():
        for a in range(len(w)):
            for b in range(a + 2, min(len(w), a + 4) + 1):
                pieces[("##" if a else "") + w[a:b]] += n
    known = set(vocab)
    ranked = sorted((p for p, n in pieces.items() if n >= 2 and p not in known), key=lambda p: (-pieces[p], p))
    vocab += ranked[: max(0, vocab_size - len(vocab))]
    wp = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    wp.normalizer, wp.pre_tokenizer, wp.decoder = normalizer, pre, decoders.WordPiece()
    wp.post_processor = processors.BertProcessing(("[SEP]", vocab.index("[SEP]")), ("[CLS]", vocab.index("[CLS]")))
    return PreTrainedTokenizerFast(
        tokenizer_object=wp,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def train_for(arch: str, texts: Iterable[str], vocab_size: int = 1024) -> Any:
    """The tokenizer an architecture's tiny model uses: WordPiece for masked LMs, byte-level BPE otherwise."""
    return train_wordpiece(texts, vocab_size) if arch in MASKED_ARCHS else train_tokenizer(texts, vocab_size)


def tiny_config(
    arch: str,
    vocab_size: int,
    *,
    layers: int = 4,
    hidden: int = 128,
    heads: int = 4,
    positions: int = 256,
    eos_id: int = 0,
    pad_id: int = 0,
    **extra: Any,
):
    """A small config of the given architecture; the FFN is 4x the hidden size. `extra` sets other fields."""
    from transformers import AutoConfig

    if arch not in ARCHS:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose from {ARCHS}")
    std = dict(
        num_hidden_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        intermediate_size=4 * hidden,
        max_position_embeddings=positions,
    )
    sizes = {
        "gpt2": dict(n_layer=layers, n_embd=hidden, n_head=heads, n_positions=positions),
        "opt": {**std, "ffn_dim": 4 * hidden, "word_embed_proj_dim": hidden},
        "distilbert": dict(
            n_layers=layers, dim=hidden, n_heads=heads, hidden_dim=4 * hidden, max_position_embeddings=positions
        ),
        "roberta": {**std, "max_position_embeddings": positions + 2},  # positions start after the padding index
        "deberta-v2": {**std, "relative_attention": True, "position_buckets": 32, "pos_att_type": ["p2c", "c2p"]},
        **{a: {**std, "num_key_value_heads": heads} for a in ("llama", "mistral", "qwen2")},
    }
    kw = sizes.get(arch, std)
    if arch == "opt":
        kw.pop("intermediate_size")
    if arch in MASKED_ARCHS:
        return AutoConfig.for_model(arch, vocab_size=vocab_size, pad_token_id=pad_id, **kw, **extra)
    return AutoConfig.for_model(
        arch, vocab_size=vocab_size, bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=None, **kw, **extra
    )


def tiny_model(arch: str, tokenizer: Any, seed: int = 0, **kw: Any):
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

    torch.manual_seed(seed)
    if arch in MASKED_ARCHS:
        config = tiny_config(arch, len(tokenizer), pad_id=tokenizer.pad_token_id, **kw)
        return AutoModelForMaskedLM.from_config(config)
    config = tiny_config(arch, len(tokenizer), eos_id=tokenizer.eos_token_id, **kw)
    return AutoModelForCausalLM.from_config(config)


def save(model: Any, tokenizer: Any, path: str | Path) -> Path:
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
