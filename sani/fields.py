"""A settings field (its default and its help, from which the command line's flag is generated) and the checks
every settings dataclass runs on its fields: the one type and range check for the API, the YAML file and the
flags (`sani.config`, `sani.options`, `sani.spans.finder`)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import field, fields
from typing import Any

from .errors import SaniError


def opt(default: Any = dataclasses.MISSING, help: str = "", **argparse_kw: Any) -> Any:
    """A settings field: its default (none: a required flag) and its help (and, for the command line, e.g.
    `choices`, `metavar`)."""
    return field(default=default, metadata={"help": help, **argparse_kw})


def need(ok: bool, cfg: Any, name: str, rule: str) -> None:
    if not ok:
        raise SaniError(f"{name}={getattr(cfg, name)!r}: {rule}")


def check_types(cfg: Any) -> None:
    """Each field holds a value of its annotated type (an int is a float; a bool is not a number) and one of
    its `choices`, when it has them."""
    hints = typing.get_type_hints(type(cfg))
    for f in fields(cfg):
        v, hint = getattr(cfg, f.name), hints[f.name]
        args = typing.get_args(hint)
        optional = type(None) in args
        base = next(a for a in args if a is not type(None)) if optional else hint
        if v is None and optional:
            continue
        want = {int: int, float: (int, float), bool: bool, str: str}.get(base)
        if want and (not isinstance(v, want) or (want is not bool and isinstance(v, bool))):
            raise SaniError(f"{f.name}={v!r}: must be {base.__name__}{' | None' if optional else ''}")
        choices = f.metadata.get("choices")
        if choices and v not in choices:  # the command line's choices hold for the API and YAML too
            raise SaniError(f"{f.name}={v!r}: choose one of {', '.join(map(str, choices))}")


def accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or torch.backends.mps.is_available()
