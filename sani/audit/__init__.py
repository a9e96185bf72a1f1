"""The audit, one module a metric: regurgitation (causal decoding, `regurgitation`; masked fill-in,
`fillin`), extraction, utility, membership inference, canary exposure, a linear probe, the tokenizer scan
and the attacks on copies (relearn, quantize, generations, lens), each registered by name in
`common.METRICS`; `gate` judges an audit; `runner.run` runs them, `results.AuditResult` reads what they wrote."""

from . import (  # noqa: F401  (registers them)
    exposure,
    extraction,
    fillin,
    generations,
    lens,
    membership,
    probe,
    quantize,
    regurgitation,
    relearn,
    tokscan,
    utility,
    values,
)
from .results import AuditResult
from .runner import run

__all__ = ["run", "AuditResult"]
