"""How a sanitization's settings are built: the presets (the paper's literal recipe and ours), the model
kind's defaults, a YAML file and explicit values, in that order (`make_config`)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from .config import SanitizeConfig
from .errors import SaniError
from .models.kinds import KINDS

# The paper's literal recipe (random half of the last layer's FFN, masked repair for 2 epochs) and ours, which
# adds a calibrated forget term on the values: see docs/method.md for the measurements behind it.
PAPER = dict(layers=1, fraction=0.5, strategy="random", reset="reinit", objective="masked", epochs=2.0, lr=5e-4)
PRESETS: dict[str, dict[str, Any]] = {"default": {}, "paper": PAPER}

# LoRA weights learn slower than full weights at the same rate (the usual advice: about 10x the full
# fine-tuning rate); measured on a tiny GPT-2 adapter: 5e-4 left 29% regurgitation, 5e-3 reached 0%.
LORA_LR = 5e-3


def make_config(
    preset: str | None = None,
    file: str | Path | None = None,
    *,
    task: str | None = None,
    lora: bool = False,
    **overrides: Any,
) -> SanitizeConfig:
    """Build a validated config from a preset, an optional YAML file and explicit values (None = not given).

    The preset is the explicit one, else the file's, else `default`; the default preset takes the model
    kind's values (`Kind.preset_defaults`, the kind named by `task`) under the file's and the explicit ones.
    A repair that trains LoRA weights (`lora`: the model is an adapter, or `lora_rank` is set) defaults to
    `LORA_LR`."""
    from_file = _read_yaml(Path(file)) if file is not None else {}
    from_file = {k.replace("-", "_"): v for k, v in from_file.items()}
    preset = preset or from_file.get("preset") or "default"
    if preset not in PRESETS:
        raise SaniError(f"preset={preset!r}: choose one of {', '.join(PRESETS)}")
    known = {f.name for f in fields(SanitizeConfig)}
    for k in from_file:
        if k not in known:
            raise SaniError(f"{file}: unknown option '{k}' (known: {', '.join(sorted(known))})")
    for k in overrides:
        if k not in known:
            raise SaniError(f"unknown option '{k}'")
    kind = KINDS.get(task or "")
    by_task = kind.preset_defaults if kind is not None and preset == "default" else {}
    given = {**from_file, **{k: v for k, v in overrides.items() if v is not None}}
    values = {**PRESETS[preset], **by_task, **given, "preset": preset}
    if (lora or values.get("lora_rank")) and "lr" not in given:
        values["lr"] = LORA_LR
    return SanitizeConfig(**values).validate(adapter=lora)


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    if not path.is_file():
        raise SaniError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise SaniError(f"{path}{where}: not valid YAML") from None
    except UnicodeDecodeError:
        raise SaniError(f"{path}: not valid UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SaniError(f"{path}: expected a mapping of option: value")
    return data
