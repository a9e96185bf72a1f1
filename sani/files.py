"""Writing outputs safely: a file or a directory appears under its name only once complete, so an
interrupted run never leaves a half-written model or report where a user would take it for a whole one."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .errors import SaniError

log = logging.getLogger(__name__)


@contextmanager
def atomic_open(path: str | Path) -> Iterator[TextIO]:
    """Open a text file for writing that appears under its name only once complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yield f
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_dir(out: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory beside `out`; it becomes `out` only when the block completes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            if not overwrite:
                raise SaniError(f"{out}: already exists (pass --overwrite to replace it)")
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(obj: Any, path: str | Path) -> Path:
    """Write JSON atomically (temporary file, then rename)."""
    with atomic_open(path) as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    return Path(path)


def digest(obj: Any) -> str:
    """SHA-256 of a JSON-able object: what tells two runs' inputs apart without keeping them."""
    return hashlib.sha256(json.dumps(obj).encode()).hexdigest()


EDGE = 1 << 20  # bytes hashed at each end of a file for its default cache identity
CACHE_KEYS = ("edges", "full")  # the first is the default


def check_cache_key(content: str) -> None:
    if content not in CACHE_KEYS:
        raise SaniError(f"cache_key={content!r}: choose one of {', '.join(CACHE_KEYS)}")


def file_digest(path: str | Path, content: str = CACHE_KEYS[0]) -> dict[str, Any]:
    """A file's identity for a cache key: its resolved path, size, modification time and a SHA-256 of its
    content: of its first and last MiB (`edges`: an edit of the same size and time in the middle of a file
    over 2 MiB goes unseen), or of every byte (`full`: certain, one more read of the file)."""
    check_cache_key(content)
    p = Path(path)
    st = p.stat()
    h = hashlib.sha256()
    with p.open("rb") as f:
        if content == "full" or st.st_size <= 2 * EDGE:
            for block in iter(lambda: f.read(EDGE), b""):
                h.update(block)
        else:
            h.update(f.read(EDGE))
            f.seek(-EDGE, os.SEEK_END)
            h.update(f.read(EDGE))
    return {"path": str(p.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns, content: h.hexdigest()}


def work_dir(out: Path, resume: bool, run_key: dict[str, Any]) -> Path:
    """The directory beside `out` that keeps an unfinished run; refuses to mix two different runs. Under
    several processes the main one makes it (the others find it made: a shared file system is assumed)."""
    from .scale import dist

    work = out.parent / f".{out.name}.work"
    with dist.main_first() as main:
        if main:
            _make_work_dir(work, resume, run_key)
    return work


def _make_work_dir(work: Path, resume: bool, run_key: dict[str, Any]) -> None:
    if work.exists():
        if not resume:
            raise SaniError(
                f"{work}: an interrupted sanitization is there; pass --resume to continue it, or delete it to start over"
            )
        try:
            saved = json.loads((work / "run.json").read_text())
        except (OSError, ValueError):
            saved = None
        if saved != run_key:
            raise SaniError(
                f"{work}: the interrupted run used another model, corpus or settings; delete it to start over"
            )
        log.info("resuming the run in %s", work)
    else:
        if resume:
            log.warning("nothing to resume in %s: starting from the beginning", work)
        work.mkdir(parents=True)
        write_json(run_key, work / "run.json")


def check_out(out: Path, model_path: str | Path, overwrite: bool) -> None:
    """Refuse an output that would overwrite the input model, or an existing one without `overwrite`."""
    out_r, model_r = out.resolve(), Path(model_path).resolve()
    if out_r == model_r or model_r in out_r.parents or out_r in model_r.parents:
        raise SaniError(f"{out}: the output would overwrite the input model {model_path}; choose another --out")
    if out.exists() and not overwrite:
        raise SaniError(f"{out}: already exists (pass --overwrite to replace it)")
