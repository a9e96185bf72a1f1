"""The one exception type sani raises for bad input (the CLI prints it on one line and exits 2), the one a
detector raises when its optional part is missing, and the check of a list of names against those known."""

from __future__ import annotations

from collections.abc import Sequence


class SaniError(Exception):
    """Bad input or an impossible request. The message names the file, line or field, never a sensitive value."""


class MissingExtra(Exception):
    """A detector's optional dependency or build is missing: `--detect all` skips it and says so; asked for
    by name, it is bad input (`sani.spans.detect.build`)."""


def pick(names: str | Sequence[str] | None, known: Sequence[str], flag: str, what: str) -> list[str]:
    """Names from a comma-separated list (or a list) among `known`, any case, "all" for every one; in
    `known`'s order."""
    items = [n.strip() for n in (names.split(",") if isinstance(names, str) else names or []) if n.strip()]
    by_key = {k.lower(): k for k in known}
    if any(n.lower() == "all" for n in items):
        return list(known)
    unknown = [n for n in items if n.lower() not in by_key]
    if unknown:
        raise SaniError(f"{flag}: unknown {what} {unknown[0]!r} (known: {', '.join(known)}, all)")
    chosen = {by_key[n.lower()] for n in items}
    return [k for k in known if k in chosen]


def whole_numbers(text: str | Sequence[int], flag: str, zero: bool = False) -> list[int]:
    """'1,2,5' -> [1, 2, 5] (a list is taken as it is); `zero`: 0 is allowed."""
    if not isinstance(text, str):
        return [int(x) for x in text]
    out = []
    for x in (x.strip() for x in text.split(",")):
        if x and (not x.isdigit() or int(x) < (0 if zero else 1)):
            raise SaniError(f"{flag}: {x!r} is not a {'' if zero else 'positive '}whole number")
        if x:
            out.append(int(x))
    return out
