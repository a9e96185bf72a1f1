"""Loading models and finding their FFN neurons.

Which modules form a layer's FFN lives in `FFN_TABLE` and nowhere else. A neuron is one hidden unit of the
FFN: its row in each input projection (weight and bias) and its column in the output projection.
"""

from __future__ import annotations

import logging
import operator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import SaniError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FFNLayout:
    layers: str  # dotted path from the top model to the list of blocks
    inputs: tuple[str, ...]  # projections into the FFN's hidden units (one row/column per neuron)
    output: str  # projection out of it (one input column per neuron)


_GATED = FFNLayout("model.layers", ("mlp.gate_proj", "mlp.up_proj"), "mlp.down_proj")
_GPT2 = FFNLayout("transformer.h", ("mlp.c_fc",), "mlp.c_proj")
_BLOOM = FFNLayout("transformer.h", ("mlp.dense_h_to_4h",), "mlp.dense_4h_to_h")

FFN_TABLE: dict[str, FFNLayout] = {
    "gpt2": _GPT2,
    "gpt_neo": _GPT2,
    "gptj": FFNLayout("transformer.h", ("mlp.fc_in",), "mlp.fc_out"),
    "gpt_neox": FFNLayout("gpt_neox.layers", ("mlp.dense_h_to_4h",), "mlp.dense_4h_to_h"),
    "opt": FFNLayout("model.decoder.layers", ("fc1",), "fc2"),
    "bloom": _BLOOM,
    "falcon": _BLOOM,
    "phi": FFNLayout("model.layers", ("mlp.fc1",), "mlp.fc2"),
    **{t: _GATED for t in ("llama", "mistral", "mixtral_dense", "qwen2", "qwen3", "gemma", "gemma2", "olmo", "olmo2", "granite", "stablelm", "cohere")},
    # masked LMs
    "bert": FFNLayout("bert.encoder.layer", ("intermediate.dense",), "output.dense"),
    "roberta": FFNLayout("roberta.encoder.layer", ("intermediate.dense",), "output.dense"),
    "distilbert": FFNLayout("distilbert.transformer.layer", ("ffn.lin1",), "ffn.lin2"),
    "deberta-v2": FFNLayout("deberta.encoder.layer", ("intermediate.dense",), "output.dense"),
}


def _is_conv1d(m: nn.Module) -> bool:
    # GPT-2's Conv1D stores weight as [in, out], the transpose of nn.Linear; a LoRA layer wraps its base_layer
    return type(getattr(m, "base_layer", m)).__name__ == "Conv1D"


@dataclass
class FFN:
    """One layer's FFN: the block that holds it and where its neurons' weights live."""

    index: int
    block: nn.Module
    layout: FFNLayout
    prefix: str  # parameter-name prefix of the block ("transformer.h.3.")

    @property
    def inputs(self) -> list[nn.Module]:
        return [_get(self.block, p) for p in self.layout.inputs]

    @property
    def output(self) -> nn.Module:
        return _get(self.block, self.layout.output)

    @property
    def size(self) -> int:
        m = self.output
        return m.weight.shape[0] if _is_conv1d(m) else m.weight.shape[1]


def _get(root: nn.Module, path: str) -> Any:
    return operator.attrgetter(path)(root)


def ffn_layout(model: nn.Module) -> FFNLayout:
    """The table entry for this model; an unknown type gets the one known layout its modules match."""
    model_type = getattr(model.config, "model_type", "?")
    if model_type in FFN_TABLE:
        return FFN_TABLE[model_type]
    for layout in dict.fromkeys(FFN_TABLE.values()):
        try:
            block = _get(model, layout.layers)[0]
            for p in (*layout.inputs, layout.output):
                _get(block, p)
        except (AttributeError, IndexError, TypeError):
            continue
        log.info("model type %r is not in FFN_TABLE; its modules match the %s layout", model_type, layout.layers)
        return layout
    raise SaniError(
        f"model type '{model_type}' has no FFN entry in sani's table (sani/models.py FFN_TABLE) "
        "and matches none of the known layouts"
    )


def ffn_layers(model: nn.Module) -> list[FFN]:
    from .adapters import unwrap

    model = unwrap(model)  # under a LoRA wrapper, the projections are the LoRA layers, whose .weight is W0
    layout = ffn_layout(model)
    blocks = _get(model, layout.layers)
    return [FFN(i, block, layout, f"{layout.layers}.{i}.") for i, block in enumerate(blocks)]


# --------------------------------------------------------------------------- loading


TASKS = ("causal-lm", "masked-lm")


def is_masked_lm(config: Any) -> bool:
    return any(a.endswith("ForMaskedLM") for a in (getattr(config, "architectures", None) or []))


def task_of(model: nn.Module) -> str:
    """"masked-lm" for a masked LM (BERT family), else "causal-lm": decides the repair loss and the audit."""
    from .adapters import unwrap

    return "masked-lm" if type(unwrap(model)).__name__.endswith("ForMaskedLM") else "causal-lm"


def _config_task(config: Any) -> str | None:
    archs = getattr(config, "architectures", None) or []
    if any(a.endswith("ForMaskedLM") for a in archs):
        return "masked-lm"
    if any(a.endswith("WithLMHeadModel") for a in archs):  # XLM, Flaubert: masked-LM heads
        return "masked-lm"
    if any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        return "causal-lm"
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES

    kind = getattr(config, "model_type", None)
    if kind in MODEL_FOR_MASKED_LM_MAPPING_NAMES:  # encoders (BERT) also have a causal head: the MLM is their own
        return "masked-lm"
    if kind in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return "causal-lm"
    return None


def _looks_local(model_path: str | Path) -> bool:
    return Path(model_path).exists() or str(model_path).startswith((".", "/", "~")) or str(model_path).count("/") != 1


def _config_and_task(model_path: str | Path, task: str | None, trust_remote_code: bool = False, base: str | Path | None = None):
    from transformers import AutoConfig

    from .adapters import adapter_base, is_adapter_dir

    if is_adapter_dir(model_path):  # a LoRA adapter: the kind is its base model's
        model_path = adapter_base(model_path, base)
    path = Path(model_path)
    if _looks_local(model_path) and not path.is_dir():
        raise SaniError(f"{model_path}: model directory not found")
    if _looks_local(model_path) and not (path / "config.json").is_file():
        raise SaniError(f"{model_path}: not a model directory (no config.json)")
    if task is not None and task not in TASKS:
        raise SaniError(f"task={task!r}: choose {' or '.join(TASKS)}")
    try:
        config = AutoConfig.from_pretrained(model_path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise SaniError(f"{model_path}: cannot read the model config: {_first_line(e)}") from None
    if getattr(config, "is_encoder_decoder", False):
        raise SaniError(f"{model_path}: encoder-decoder models are not supported (model type '{config.model_type}')")
    detected = _config_task(config)
    archs = getattr(config, "architectures", None) or []
    if task is not None and archs and detected is not None and task != detected:
        raise SaniError(f"{model_path}: the config says {archs[0]} ({detected}); --task {task} contradicts it")
    task = task or detected
    if task is None:
        raise SaniError(f"{model_path}: cannot tell whether '{config.model_type}' is a causal or a masked LM; pass --task")
    return path, config, task


def detect_task(model_path: str | Path, task: str | None = None, trust_remote_code: bool = False,
                base: str | Path | None = None) -> str:
    """causal-lm or masked-lm, from the model's config (checked against an explicit `task`); for a LoRA
    adapter, its base model's (`base`, else the one the adapter config names)."""
    return _config_and_task(model_path, task, trust_remote_code, base)[2]


def load(model_path: str | Path, *, task: str | None = None, allow_pickle: bool = False, trust_remote_code: bool = False,
         base: str | Path | None = None):
    """Load a causal or masked LM and its tokenizer from a directory (or a hub id, when online).

    The task is read from the config (`architectures`, else the model type); `task` overrides it and is
    refused when the model type has no head for it. Weights are read from safetensors only unless
    `allow_pickle`: a pickle checkpoint can run code on load. A LoRA adapter directory loads on its base
    model (`base`, else the one its adapter config names) as a PEFT model whose adapter is trainable; its
    tokenizer is the adapter directory's if it has one.
    """
    from .adapters import adapter_base, is_adapter_dir, load_adapter

    if is_adapter_dir(model_path):
        base_path = adapter_base(model_path, base)
        model, tokenizer = load(base_path, task=task, allow_pickle=allow_pickle, trust_remote_code=trust_remote_code)
        if any(Path(model_path).glob("tokenizer*.json")):
            tokenizer = load_tokenizer(model_path, trust_remote_code)
        log.info("LoRA adapter %s on base model %s", model_path, base_path)
        return load_adapter(model_path, model), tokenizer
    return _load_full(model_path, task, allow_pickle, trust_remote_code)


def load_tokenizer(path: str | Path, trust_remote_code: bool = False) -> Any:
    """A tokenizer directory (or hub id), or one line naming what failed."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise SaniError(f"{path}: cannot load the tokenizer: {_first_line(e)}") from None


def _load_full(model_path: str | Path, task: str | None, allow_pickle: bool, trust_remote_code: bool):
    from transformers import AutoModelForCausalLM, AutoModelForMaskedLM

    path, config, task = _config_and_task(model_path, task, trust_remote_code)
    looks_local = _looks_local(model_path)
    auto = AutoModelForMaskedLM if task == "masked-lm" else AutoModelForCausalLM
    if not trust_remote_code and type(config) not in auto._model_mapping:
        raise SaniError(f"{model_path}: model type '{config.model_type}' has no {task} head in transformers; check --task")
    if looks_local and not allow_pickle and not any(path.glob("*.safetensors")):
        raise SaniError(
            f"{model_path}: no .safetensors weights; a pickle checkpoint can run code when loaded, "
            "pass --allow-pickle if you trust it"
        )
    tokenizer = load_tokenizer(model_path, trust_remote_code)
    try:
        model = auto.from_pretrained(
            model_path,
            config=config,
            use_safetensors=None if allow_pickle else True,
            trust_remote_code=trust_remote_code,
        )
    except (OSError, ValueError) as e:
        raise SaniError(f"{model_path}: cannot load the model: {_first_line(e)}") from None
    if task == "masked-lm" and tokenizer.mask_token_id is None:
        raise SaniError(f"{model_path}: the tokenizer has no mask token, which a masked LM needs")
    if allow_pickle and not any(path.glob("*.safetensors")):
        log.warning("%s: loaded a pickle checkpoint (--allow-pickle)", model_path)
    return model, tokenizer


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def pad_id(tokenizer: Any) -> int:
    """The id to pad with; tokenizers without a pad token (GPT-2) pad with EOS, which is then masked out."""
    for tid in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if tid is not None:
            return int(tid)
    return 0


def fingerprint(model: nn.Module) -> str:
    """SHA-256 over the parameter names and bytes: which weights exactly were audited or written."""
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()
