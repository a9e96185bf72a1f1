"""The audit, one module a metric: regurgitation (causal decoding, `regurgitation`; masked fill-in,
`fillin`), extraction, utility, membership inference, canary exposure and a linear probe, each registered
by name in `common.METRICS`; `runner.run` runs them, `results.AuditResult` reads what they wrote."""

from . import exposure, extraction, fillin, membership, probe, regurgitation, utility, values  # noqa: F401  (registers them)
from .results import AuditResult
from .runner import run

__all__ = ["run", "AuditResult"]
