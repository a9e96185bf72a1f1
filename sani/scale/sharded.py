"""A repair whose weights are sharded across processes: FSDP (versions 1 and 2) or DeepSpeed ZeRO-3, as
`accelerate launch` configures them (examples/accelerate/fsdp.yaml, deepspeed-zero3.yaml), for models whose
training state does not fit one device.

The erase and the first audit run on whole weights, as in every run (each process loads the model). The
`Trainer` then shards the model and trains it as any FSDP or ZeRO-3 fine-tune. After it, the trained weights
are gathered (FSDP's full state dict through `torch.distributed.checkpoint`; ZeRO-3's consolidated state
dict, one layer at a time) and written once by the main process; every process then loads them whole on its
device for the second audit and the save, if they fit there (else one line says so).

Accelerate enables FSDP on accelerator devices only. `SANI_TEST_FSDP_ON_CPU=1` (the tests' switch, never
set otherwise) turns the `Trainer`'s data-parallel CPU state into FSDP from the same `FSDP_*` variables,
so that two CPU processes over gloo run this path as GPUs would.
"""

from __future__ import annotations

import gc
import json
import math
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SaniError
from ..models.kinds import Kind
from . import dist

CPU_TEST_ENV = "SANI_TEST_FSDP_ON_CPU"


def mode() -> str | None:
    """The sharding `accelerate launch` set up for this process: "FSDP", "DeepSpeed ZeRO-3", or None (whole
    weights in every process: one process, DDP, ZeRO-1/2)."""
    env = os.environ
    if env.get("ACCELERATE_USE_FSDP", "").lower() == "true":
        return "FSDP"
    if env.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" and _zero_stage() == "3":
        return "DeepSpeed ZeRO-3"
    return None


def _zero_stage() -> str | None:
    """The ZeRO stage of the launch: from the DeepSpeed config file when the accelerate config names one
    (`deepspeed_config_file`), else from the stage it sets."""
    path = os.environ.get("ACCELERATE_DEEPSPEED_CONFIG_FILE")
    if not path:
        return os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE")
    try:
        stage = json.loads(Path(path).read_text()).get("zero_optimization", {}).get("stage")
    except (OSError, ValueError, AttributeError) as e:
        raise SaniError(f"{path}: not a readable DeepSpeed config ({e})") from None
    return None if stage is None else str(stage)


def check(*, target: str | None = None, lora: bool = False, kind: Kind | None = None, precision: str = "fp32") -> None:
    """Refuse, in one line before any model loads, what a sharded repair cannot do."""
    launched = os.environ.get("ACCELERATE_MIXED_PRECISION", "no")
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" and launched in ("bf16", "fp16"):
        if precision != launched:  # else the Trainer stops on DeepSpeed's config check, in a traceback
            raise SaniError(
                f"the accelerate config trains in {launched} under DeepSpeed: pass --precision {launched} to sani "
                "too (DeepSpeed needs the two to agree)"
            )
    how = mode()
    if how is None:
        return
    if target:
        raise SaniError(f"--target with {how}: the stop audits the model while it is sharded; drop --target or use DDP")
    if lora:
        raise SaniError(
            f"LoRA with {how}: a LoRA repair's training state is small, use DDP (examples/accelerate/ddp.yaml)"
        )
    if how == "FSDP" and kind is not None and not kind.fsdp:
        raise SaniError(
            f"FSDP with a {kind.name}: accelerate cannot shard its tied prediction head; use DeepSpeed ZeRO-3 "
            "(examples/accelerate/deepspeed-zero3.yaml) or DDP"
        )


def on_cpu_for_tests(trainer: Any) -> None:
    """`SANI_TEST_FSDP_ON_CPU=1` under FSDP variables: the Trainer's CPU state switched to FSDP (see the module
    docstring). Anything else: nothing."""
    if os.environ.get(CPU_TEST_ENV) != "1" or mode() != "FSDP" or torch.cuda.is_available():
        return
    from accelerate.utils import DistributedType, FullyShardedDataParallelPlugin

    state = trainer.accelerator.state
    state.fsdp_plugin = FullyShardedDataParallelPlugin()  # from the FSDP_* variables, as accelerate does
    state.distributed_type = DistributedType.FSDP
    trainer.is_fsdp_enabled = True


def _sharding(trainer: Any) -> str | None:
    """How the Trainer holds the weights it trained: "FSDP", "DeepSpeed ZeRO-3", or None (whole in every
    process)."""
    if getattr(trainer, "is_fsdp_enabled", False):
        return "FSDP"
    engine = trainer.model_wrapped if getattr(trainer, "is_deepspeed_enabled", False) else None
    return "DeepSpeed ZeRO-3" if engine is not None and engine.zero_optimization_partition_weights() else None


def _full_state(trainer: Any, how: str) -> dict[str, torch.Tensor] | None:
    """The whole trained weights on the main process's CPU, None elsewhere; every process must call it."""
    if how == "FSDP":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        # FSDP's full state dict (versions 1 and 2), as accelerate's `get_state_dict` takes it: on the main
        # process's CPU, empty elsewhere
        state = get_model_state_dict(trainer.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
        return state if dist.is_main() else None
    # ZeRO-3: what accelerate's `get_state_dict` calls, without its `stage3_gather_16bit_weights_on_model_save`
    # condition (a memory saving for checkpoints; sani needs the whole weights anyway): gathered one layer
    # at a time onto the main process's CPU, in the dtype trained
    return trainer.model_wrapped._zero3_consolidated_16bit_state_dict()


def gather(trainer: Any, into: str | Path | None) -> str | None:
    """After a sharded repair: every process takes part in gathering the trained weights, the main process
    writes them to `into` (safetensors and the model's config), then all go on together; returns how they
    were sharded. Whole weights (DDP, ZeRO-1/2): nothing, None."""
    how = _sharding(trainer)
    if how is None:
        return None
    if into is None:
        raise SaniError(f"a repair under {how} needs a directory for the gathered weights (gather_to)")
    state = _full_state(trainer, how)
    if dist.is_main():
        from safetensors.torch import save_file

        # not `save_pretrained`: on a sharded model it reads the sharded parameters again, a collective that
        # only this process would enter. Tied weights are one tensor: kept once, `from_pretrained` ties them
        whole, seen = {}, set()
        for name, t in state.items():
            if t.data_ptr() not in seen:
                seen.add(t.data_ptr())
                whole[name] = t.contiguous()
        Path(into).mkdir(parents=True, exist_ok=True)
        save_file(whole, str(Path(into) / "model.safetensors"), metadata={"format": "pt"})
        model = trainer.accelerator.unwrap_model(trainer.model)
        model.config.save_pretrained(into)
        if getattr(model, "generation_config", None) is not None:  # else rebuilt from the config: other defaults
            model.generation_config.save_pretrained(into)
        del whole
    del state
    if how == "DeepSpeed ZeRO-3":
        from transformers.integrations import unset_hf_deepspeed_config

        # transformers reads this global to load models partitioned (zero.Init) and to make `generate` a
        # collective (synced_gpus); what follows runs on whole weights, each process its own share
        unset_hf_deepspeed_config()
    dist.barrier()
    return how


def available_bytes(device: torch.device) -> int:
    """Free memory where this process would hold the whole model: its GPU's, or the machine's RAM shared
    by the processes on it."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    import psutil

    return psutil.virtual_memory().available // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def _bytes_as(path: Path, dtype: torch.dtype) -> int:
    """The memory the weights in `path` take once loaded as `dtype` (ZeRO-3 writes its 16-bit copy)."""
    from safetensors import safe_open

    numel = 0
    for f in path.glob("*.safetensors"):
        with safe_open(str(f), "pt") as weights:
            numel += sum(math.prod(weights.get_slice(k).get_shape()) for k in weights.keys())
    return numel * torch.empty((), dtype=dtype).element_size()


def load_whole(path: Path, cls: type[nn.Module], dtype: torch.dtype) -> nn.Module:
    """The gathered weights in `path` as a whole model of class `cls` on this process's device, or one line
    when they do not fit there."""
    gc.collect()  # the sharded model and the Trainer's state are gone: give their memory back first
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    need, device = _bytes_as(path, dtype), dist.device()
    free = available_bytes(device)
    if need > free:
        raise SaniError(
            f"the repaired weights ({need / 2**30:.1f} GiB, kept in {path}) do not fit in one process's "
            f"{device.type} memory ({free / 2**30:.1f} GiB free), which the audit and the save need"
        )
    return cls.from_pretrained(path, dtype=dtype).to(device).eval()
