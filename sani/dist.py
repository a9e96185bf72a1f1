"""Several processes (`torchrun` / `accelerate launch`): who does what.

Every process loads the model and runs the same pipeline: the erase is seeded, so all hold the same
weights; the repair is the `Trainer`'s data-parallel loop (DDP, FSDP or DeepSpeed, as `accelerate`
configures it); the audit's per-prompt and per-record work is split across processes and gathered, so
every process ends with the same figures; only the main process writes files. With one process all of
this is a no-op. On CPU the processes talk over gloo (how the test suite checks this path).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence, TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")


def launched() -> bool:
    """Started by a launcher with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init() -> None:
    """Join the process group a launcher set up (gloo on CPU, the accelerator's backend on a GPU)."""
    check_supported()
    if launched() and not torch.distributed.is_initialized():
        from accelerate import PartialState

        PartialState(cpu=not torch.cuda.is_available())


def _ready() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized() and torch.distributed.get_world_size() > 1


def rank() -> int:
    return torch.distributed.get_rank() if _ready() else 0


def world() -> int:
    return torch.distributed.get_world_size() if _ready() else 1


def is_main() -> bool:
    return rank() == 0


def check_supported() -> None:
    """Refuse the launch configurations that shard the weights themselves (FSDP, DeepSpeed ZeRO-3): after
    such a repair, the audit and the save would need the weights gathered from every process, which sani
    does not do yet. DDP and ZeRO-1/2 (optimizer state and gradients sharded) keep whole weights."""
    from .errors import SaniError

    if os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true":
        raise SaniError("FSDP is not supported yet (the audit and the save need whole weights): use DDP or DeepSpeed ZeRO-2")
    if os.environ.get("ACCELERATE_USE_DEEPSPEED", "").lower() == "true" and os.environ.get("ACCELERATE_DEEPSPEED_ZERO_STAGE") == "3":
        raise SaniError("DeepSpeed ZeRO-3 is not supported yet (the audit and the save need whole weights): use ZeRO-2 or DDP")


def device() -> torch.device:
    """Where this process computes: its own GPU (LOCAL_RANK), else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def barrier() -> None:
    if _ready():
        torch.distributed.barrier()


@contextmanager
def main_first() -> Iterator[bool]:
    """The main process runs the block (writes files) while the others wait; yields whether this is it.
    An error in the main process's block is raised in every process, so none waits forever."""
    from .errors import SaniError

    if not _ready():
        yield True
        return
    if is_main():
        message: list[Any] = [None]
        try:
            yield True
        except BaseException as e:
            message = [f"{type(e).__name__}: {e}" if not isinstance(e, SaniError) else str(e)]
            raise
        finally:
            torch.distributed.broadcast_object_list(message, src=0)
    else:
        message = [None]
        torch.distributed.broadcast_object_list(message, src=0)
        if message[0] is not None:
            raise SaniError(f"main process: {message[0]}")
        yield False


def shutdown() -> None:
    """Leave the process group cleanly (a process that exits while another still talks to it may abort)."""
    if _ready():
        torch.distributed.barrier()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def map_shards(fn: Callable[[list[T]], Sequence[R]], items: Sequence[T]) -> list[R]:
    """`fn` maps a list of items to as many results; each process applies it to every world-th item, and
    every process gets all results back in the items' order."""
    if not _ready():
        return list(fn(list(items)))
    from .errors import SaniError

    idx = list(range(rank(), len(items), world()))
    failure: BaseException | None = None
    try:
        local = list(fn([items[i] for i in idx]))
    except Exception as e:  # still join the gather below, so the other processes do not wait forever
        failure, local = e, []
    parts: list[Any] = [None] * world()
    # an error travels by its type only: its text could quote the data
    torch.distributed.all_gather_object(parts, (list(zip(idx, local)), type(failure).__name__ if failure else None))
    if failure is not None:
        raise failure
    failed = [(r, err) for r, (_, err) in enumerate(parts) if err]
    if failed:
        raise SaniError(f"process {failed[0][0]} failed in its share of the work ({failed[0][1]})")
    out: list[Any] = [None] * len(items)
    for part, _ in parts:
        for i, value in part:
            out[i] = value
    return out


def sum_all(values: Sequence[float]) -> list[float]:
    """Element-wise sum of `values` over all processes."""
    if not _ready():
        return list(values)
    on_gpu = torch.distributed.get_backend() == "nccl"  # nccl reduces GPU tensors only
    t = torch.tensor(values, dtype=torch.float64, device=torch.device("cuda", torch.cuda.current_device()) if on_gpu else "cpu")
    torch.distributed.all_reduce(t)
    return t.tolist()
