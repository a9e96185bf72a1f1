"""Several processes (`torchrun` / `accelerate launch`): who does what, and how they end together.

Every process loads the model and runs the same pipeline: the erase is seeded, so all hold the same
weights; the repair is the `Trainer`'s loop as `accelerate` configures it (DDP, DeepSpeed ZeRO-1/2/3, or FSDP;
after ZeRO-3 and FSDP the whole weights are gathered: `sani.scale.sharded`); the audit's per-prompt and per-record work
is split across processes and gathered, so every process ends with the same figures; only the main process
writes files. With one process all of this is a no-op. On CPU the processes talk over gloo (how the test suite checks this path).

Ending. A process that fails tells the others through the launcher's key-value store (the rendezvous
store, reachable while a collective hangs): each process runs a small watcher thread that reads it, so a
peer blocked in a collective leaves at once with the failing process's error line instead of waiting for
the process-group timeout (`SANI_DIST_TIMEOUT`, seconds, default 1800: the bound when a process hangs
without failing). A process then ends with `os._exit`, never through interpreter finalization: torch keeps
the gloo process group of a DDP model alive after `destroy_process_group` (its worker threads are never
joined), and a worker thread that frees a collective's tensor while the interpreter finalizes needs the
GIL, is ended by Python with `pthread_exit`, and the forced unwind through a `noexcept` destructor aborts
the process ("terminate called without an active exception", SIGABRT). `leave` is that ending.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

import torch

from ..errors import SaniError

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

TIMEOUT_ENV = "SANI_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 1800  # seconds, torch's own default for gloo
ERROR_KEY, REPORTS_KEY, LEFT_KEY = "error", "reports", "left"
POLL_SECONDS = 0.2  # how often the watcher reads the store
LEAVE_WAIT_SECONDS = 15.0  # how long a failing process waits for the others to have printed and left
EXIT_GRACE_SECONDS = 0.5  # then how long it lets them end before it does


def launched() -> bool:
    """Started by a launcher with more than one process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def timeout() -> timedelta:
    """The process-group timeout: how long a collective waits for a process that neither answers nor fails."""
    text = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT)).strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise SaniError(f"{TIMEOUT_ENV}={text!r}: expected a positive number of seconds")
    return timedelta(seconds=seconds)


def init() -> None:
    """Join the process group a launcher set up (gloo on CPU, the accelerator's backend on a GPU), with the
    `SANI_DIST_TIMEOUT` timeout, and start watching for a peer's failure."""
    if launched() and not torch.distributed.is_initialized():
        from accelerate import PartialState

        PartialState(cpu=not torch.cuda.is_available(), timeout=timeout())
    if _ready() and _watcher is None:
        _start_watcher()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _on_sigterm)


def _ready() -> bool:
    return (
        torch.distributed.is_available()
        and torch.distributed.is_initialized()
        and torch.distributed.get_world_size() > 1
    )


def rank() -> int:
    return torch.distributed.get_rank() if _ready() else 0


def world() -> int:
    return torch.distributed.get_world_size() if _ready() else 1


def is_main() -> bool:
    return rank() == 0


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
    """Leave the process group together: every process has finished its work (barrier), then the watcher
    stops and the group is destroyed. The process should then end with `leave` (see the module docstring)."""
    if _ready():
        torch.distributed.barrier()
    _stop_watcher()
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def leave(code: int) -> int:
    """End the program: with one process, return `code`; under a launcher, leave the group (when `code` is
    0: all have finished) and end this process with `code` without interpreter finalization."""
    if not _ready():
        return code
    if code == 0:
        shutdown()
    _exit(code)


def describe(error: BaseException) -> tuple[str, int]:
    """What the other processes print of `error`, and the exit code: a SaniError's text (value-free by
    rule) and 2; an interrupt, 130; any other error's type only (its text could quote the data) and 1."""
    if isinstance(error, SaniError):
        return str(error), 2
    if isinstance(error, KeyboardInterrupt):
        return "interrupted", 130
    return type(error).__name__, 1


def reports_failures(fn: Callable[..., R]) -> Callable[..., R]:
    """Decorate an API function: under a launcher, an error in it is reported to the other processes (which
    end at once with its line) before it propagates, so none of them waits for the timeout."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        try:
            return fn(*args, **kwargs)
        except BaseException as e:
            if _ready():
                _report(*describe(e))
            raise

    return wrapper


def _report(message: str, code: int) -> Any:
    """Write this process's failure to the store (the first one reported is what the others print)."""
    store = _open_store()
    if store.add(REPORTS_KEY, 1) == 1:
        store.set(ERROR_KEY, json.dumps([rank(), message, code]))
    return store


def fail(message: str, code: int) -> int:
    """This process failed (its error already printed): under a launcher, tell the other processes
    (`message`, what they print: value-free), wait until they have printed it and left (at most
    LEAVE_WAIT_SECONDS), and end with `code`. With one process, or before the group exists, return `code`."""
    if not _ready():
        return code
    _leaving.append(code)
    _stop_watcher()
    try:
        store = _report(message, code)
        _flush()
        store.add(LEFT_KEY, 1)
        deadline = time.monotonic() + LEAVE_WAIT_SECONDS
        while store.add(LEFT_KEY, 0) < world() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS / 4)
        # the others end right after they count themselves out: let them end first (the launcher may then
        # stop this one with SIGTERM, which ends it with its own code, see _on_sigterm)
        time.sleep(EXIT_GRACE_SECONDS)
    except Exception as e:  # the store is gone: the launcher is already ending the run
        log.debug("could not report the failure to the other processes: %s", type(e).__name__)
    _exit(code)


def _flush() -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _exit(code: int) -> NoReturn:
    """End the process now, output flushed: no interpreter finalization (see the module docstring)."""
    _flush()
    os._exit(code)


# --------------------------------------------------------------------------- the watcher

_watcher: tuple[threading.Thread, threading.Event] | None = None
_leaving: list[int] = []  # this process's exit code, once it is ending on an error


def _on_sigterm(signum: int, frame: Any) -> None:
    """The launcher stops the remaining processes once one has ended: one that is already ending on an
    error ends with its own code; otherwise SIGTERM does what it always does."""
    if _leaving:
        os._exit(_leaving[0])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _open_store() -> Any:
    """A client of the launcher's store of its own (one per thread), under a prefix for this run and restart."""
    from torch.distributed import PrefixStore, TCPStore

    host, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
    if host and port:
        base = TCPStore(host, int(port), is_master=False, timeout=timedelta(seconds=30), wait_for_workers=False)
    else:  # another init method: the default group's own store
        base = torch.distributed.distributed_c10d._get_default_store()
    run = f"{os.environ.get('TORCHELASTIC_RUN_ID', 'run')}/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}"
    return PrefixStore(f"sani/{run}/", base)


def _start_watcher() -> None:
    global _watcher
    stop = threading.Event()
    thread = threading.Thread(target=_watch, args=(_open_store(), rank(), stop), name="sani-peer-watcher", daemon=True)
    thread.start()
    _watcher = (thread, stop)
    atexit.register(_stop_watcher)  # a script that ends without `leave`: no thread in a store call at finalization


def _stop_watcher() -> None:
    global _watcher
    if _watcher is not None and _watcher[0] is not threading.current_thread():
        thread, stop = _watcher
        stop.set()
        thread.join(timeout=10)
    _watcher = None


def _watch(store: Any, me: int, stop: threading.Event) -> None:
    """Until stopped: when another process has reported a failure, print it and end this process, which may
    be blocked in a collective that would otherwise wait for the timeout."""
    while not stop.wait(POLL_SECONDS):
        try:
            if not store.check([ERROR_KEY]):
                continue
            who, message, code = json.loads(store.get(ERROR_KEY))
        except Exception:  # the store is gone: the launcher is ending the run
            return
        if who == me or stop.is_set():  # our own report: the main thread is leaving
            return
        _leaving.append(code)
        print(f"sani: error: process {who} failed: {message}", file=sys.stderr, flush=True)
        _flush()
        try:
            store.add(LEFT_KEY, 1)  # the last step before the end: the failing process waits for it
        except Exception:
            pass
        os._exit(code)


def map_shards(fn: Callable[[list[T]], Sequence[R]], items: Sequence[T]) -> list[R]:
    """`fn` maps a list of items to as many results; each process applies it to every world-th item, and
    every process gets all results back in the items' order."""
    if not _ready():
        return list(fn(list(items)))
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


def agree(value: Any) -> bool:
    """Whether every process holds the same `value` (always, with one process)."""
    if not _ready():
        return True
    values: list[Any] = [None] * world()
    torch.distributed.all_gather_object(values, value)
    return all(v == values[0] for v in values)


def sum_all(values: Sequence[float]) -> list[float]:
    """Element-wise sum of `values` over all processes."""
    if not _ready():
        return list(values)
    on_gpu = torch.distributed.get_backend() == "nccl"  # nccl reduces GPU tensors only
    t = torch.tensor(
        values, dtype=torch.float64, device=torch.device("cuda", torch.cuda.current_device()) if on_gpu else "cpu"
    )
    torch.distributed.all_reduce(t)
    return t.tolist()
