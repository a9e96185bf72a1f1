"""sani: remove memorized sensitive values from a fine-tuned language model, and prove it (SANI, arXiv 2510.21322)."""

from .api import audit, find_spans  # noqa: E402
from .config import AuditConfig, SanitizeConfig  # noqa: E402
from .errors import SaniError  # noqa: E402
from .pipeline import sanitize  # noqa: E402
from .presets import PRESETS, make_config  # noqa: E402
from .spans.finder import SpanFinder  # noqa: E402
from .version import __version__  # noqa: E402

__all__ = [
    "sanitize",
    "audit",
    "find_spans",
    "SpanFinder",
    "SanitizeConfig",
    "AuditConfig",
    "make_config",
    "PRESETS",
    "SaniError",
    "__version__",
]
