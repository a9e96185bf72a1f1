"""Tiny models built from a `transformers` config, for the demo, tests and benchmarks (no hub access needed).

The tokenizer is a byte-level BPE trained on text the caller gives (the demo uses notes about *other*
patients, like a tokenizer that comes from pre-training), wrapped as a fast tokenizer with offsets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import torch

EOS = "<|endoftext|>"

ARCHS = ("gpt2", "gpt_neox", "opt", "llama", "mistral", "qwen2")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> Any:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=2, special_tokens=[EOS])
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=EOS, eos_token=EOS, unk_token=EOS)


def tiny_config(arch: str, vocab_size: int, *, layers: int = 4, hidden: int = 128, heads: int = 4, positions: int = 256, eos_id: int = 0):
    """A small config of the given architecture; the FFN is 4x the hidden size."""
    from transformers import AutoConfig

    common = dict(vocab_size=vocab_size, bos_token_id=eos_id, eos_token_id=eos_id, pad_token_id=None)
    if arch == "gpt2":
        kw = dict(n_layer=layers, n_embd=hidden, n_head=heads, n_positions=positions)
    elif arch == "gpt_neox":
        kw = dict(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
                  intermediate_size=4 * hidden, max_position_embeddings=positions)
    elif arch == "opt":
        kw = dict(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads, ffn_dim=4 * hidden,
                  max_position_embeddings=positions, word_embed_proj_dim=hidden)
    elif arch in ("llama", "mistral", "qwen2"):
        kw = dict(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads, num_key_value_heads=heads,
                  intermediate_size=4 * hidden, max_position_embeddings=positions)
    else:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose from {ARCHS}")
    return AutoConfig.for_model(arch, **common, **kw)


def tiny_model(arch: str, tokenizer: Any, seed: int = 0, **kw: Any):
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    config = tiny_config(arch, len(tokenizer), eos_id=tokenizer.eos_token_id, **kw)
    return AutoModelForCausalLM.from_config(config)


def save(model: Any, tokenizer: Any, path: str | Path) -> Path:
    path = Path(path)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
