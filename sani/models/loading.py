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

from ..errors import SaniError
from .adapters import adapter_base, is_adapter_dir, load_adapter, unwrap
from .kinds import TASKS, Kind, by_name, detect

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
    **{
        t: _GATED
        for t in (
            "llama",
            "mistral",
            "mixtral_dense",
            "qwen2",
            "qwen3",
            "gemma",
            "gemma2",
            "olmo",
            "olmo2",
            "granite",
            "stablelm",
            "cohere",
        )
    },
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
        f"model type '{model_type}' has no FFN entry in sani's table (sani/models/loading.py FFN_TABLE) "
        "and matches none of the known layouts"
    )


def ffn_layers(model: nn.Module) -> list[FFN]:
    model = unwrap(model)  # under a LoRA wrapper, the projections are the LoRA layers, whose .weight is W0
    layout = ffn_layout(model)
    blocks = _get(model, layout.layers)
    return [FFN(i, block, layout, f"{layout.layers}.{i}.") for i, block in enumerate(blocks)]


# --------------------------------------------------------------------------- loading


@dataclass
class Source:
    """What a model directory holds, read from its config without loading weights: where the weights are,
    the config, the kind, and whether it is a LoRA adapter (then `path` is its base model's)."""

    given: str  # the directory or hub id the user named
    path: Path  # the full model's directory (an adapter's base)
    config: Any
    kind: Kind
    adapter: bool


@dataclass
class Loaded:
    """A loaded model: the weights, their tokenizer, the kind (causal or masked LM) and the form it came in
    and goes out in: "full", or "lora-adapter" (a base model plus a PEFT adapter)."""

    model: nn.Module
    tokenizer: Any
    kind: Kind
    form: str  # full | lora-adapter

    @property
    def adapter(self) -> bool:
        return self.form == "lora-adapter"

    @property
    def pair(self) -> tuple[nn.Module, Any]:
        return self.model, self.tokenizer


def _looks_local(model_path: str | Path) -> bool:
    return Path(model_path).exists() or str(model_path).startswith((".", "/", "~")) or str(model_path).count("/") != 1


def inspect(
    model_path: str | Path, task: str | None = None, trust_remote_code: bool = False, base: str | Path | None = None
) -> Source:
    """Read a model directory's config and kind (checked against an explicit `task`: causal-lm or
    masked-lm); for a LoRA adapter, its base model's (`base`, else the one the adapter config names)."""
    from transformers import AutoConfig

    adapter = is_adapter_dir(model_path)
    full = adapter_base(model_path, base) if adapter else model_path
    path = Path(full)
    if _looks_local(full) and not path.is_dir():
        raise SaniError(f"{full}: model directory not found")
    if _looks_local(full) and not (path / "config.json").is_file():
        raise SaniError(f"{full}: not a model directory (no config.json)")
    if task is not None and task not in TASKS:
        raise SaniError(f"task={task!r}: choose {' or '.join(TASKS)}")
    try:
        config = AutoConfig.from_pretrained(full, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise SaniError(f"{full}: cannot read the model config: {_first_line(e)}") from None
    if getattr(config, "is_encoder_decoder", False):
        raise SaniError(f"{full}: encoder-decoder models are not supported (model type '{config.model_type}')")
    archs = getattr(config, "architectures", None) or []
    detected = detect(archs, getattr(config, "model_type", None))
    if task is not None and archs and detected is not None and task != detected.name:
        raise SaniError(f"{full}: the config says {archs[0]} ({detected.name}); --task {task} contradicts it")
    kind = by_name(task) if task is not None else detected
    if kind is None:
        raise SaniError(f"{full}: cannot tell whether '{config.model_type}' is a causal or a masked LM; pass --task")
    return Source(str(model_path), path, config, kind, adapter)


def load(
    model: str | Path | Source,
    *,
    task: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    base: str | Path | None = None,
) -> Loaded:
    """Load a causal or masked LM and its tokenizer from a directory (or a hub id, when online).

    The kind is read from the config (`architectures`, else the model type); `task` overrides it and is
    refused when the model type has no head for it. Weights are read from safetensors only unless
    `allow_pickle`: a pickle checkpoint can run code on load. A LoRA adapter directory loads on its base
    model (`base`, else the one its adapter config names) as a PEFT model whose adapter is trainable; its
    tokenizer is the adapter directory's if it has one. `model` may be what `inspect` read already.
    """
    src = model if isinstance(model, Source) else inspect(model, task, trust_remote_code, base)
    weights, tokenizer = _load_full(src, allow_pickle, trust_remote_code)
    if not src.adapter:
        return Loaded(weights, tokenizer, src.kind, "full")
    if any(Path(src.given).glob("tokenizer*.json")):
        tokenizer = load_tokenizer(src.given, trust_remote_code)
    log.info("LoRA adapter %s on base model %s", src.given, src.path)
    return Loaded(load_adapter(src.given, weights), tokenizer, src.kind, "lora-adapter")


def load_tokenizer(path: str | Path, trust_remote_code: bool = False) -> Any:
    """A tokenizer directory (or hub id), or one line naming what failed."""
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as e:
        raise SaniError(f"{path}: cannot load the tokenizer: {_first_line(e)}") from None


def _load_full(src: Source, allow_pickle: bool, trust_remote_code: bool) -> tuple[nn.Module, Any]:
    path, config, task = src.path, src.config, src.kind.name
    name = str(path) if src.adapter else src.given
    auto = src.kind.auto_class()
    if not trust_remote_code and type(config) not in auto._model_mapping:
        raise SaniError(f"{name}: model type '{config.model_type}' has no {task} head in transformers; check --task")
    local = _looks_local(name)
    if local and not allow_pickle and not any(path.glob("*.safetensors")):
        raise SaniError(
            f"{name}: no .safetensors weights; a pickle checkpoint can run code when loaded, "
            "pass --allow-pickle if you trust it"
        )
    tokenizer = load_tokenizer(name, trust_remote_code)
    try:
        model = auto.from_pretrained(
            name, config=config, use_safetensors=None if allow_pickle else True, trust_remote_code=trust_remote_code
        )
    except (OSError, ValueError) as e:
        raise SaniError(f"{name}: cannot load the model: {_first_line(e)}") from None
    src.kind.check_tokenizer(tokenizer, name)
    if allow_pickle and not any(path.glob("*.safetensors")):
        log.warning("%s: loaded a pickle checkpoint (--allow-pickle)", name)
    return model, tokenizer


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def fingerprint(model: nn.Module) -> str:
    """SHA-256 over the parameter names and bytes: which weights exactly were audited or written."""
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class Checkpoint:
    """Reads single tensors from a model directory's safetensors files without loading the model."""

    def __init__(self, path: str | Path):
        from safetensors import safe_open

        self.path = Path(path)
        files = sorted(self.path.glob("*.safetensors")) if self.path.is_dir() else []
        if not files:
            raise SaniError(f"{path}: base model directory has no .safetensors weights")
        self._where: dict[str, Path] = {}
        for f in files:
            with safe_open(str(f), framework="pt") as st:
                for k in st.keys():
                    self._where[k] = f

    def get(self, name: str, like: torch.Tensor) -> torch.Tensor:
        from safetensors import safe_open

        # checkpoints saved from the base class lack the head prefix ("transformer.h.0" vs "h.0")
        for key in (name, name.split(".", 1)[1]):
            if key in self._where:
                with safe_open(str(self._where[key]), framework="pt") as st:
                    t = st.get_tensor(key)
                if t.shape != like.shape:
                    raise SaniError(
                        f"{self.path}: tensor {key} has shape {tuple(t.shape)}, the model has {tuple(like.shape)}"
                    )
                return t
        raise SaniError(f"{self.path}: base model has no tensor {name}")
