"""sani: remove memorized sensitive values from a fine-tuned language model, and prove it (SANI, arXiv 2510.21322)."""

__version__ = "0.1.0"

from .config import PRESETS, SanitizeConfig, make_config  # noqa: E402
from .errors import SaniError  # noqa: E402
from .pipeline import audit, find_spans, sanitize  # noqa: E402
from .spans import SpanFinder  # noqa: E402

__all__ = ["sanitize", "audit", "find_spans", "SpanFinder", "SanitizeConfig", "make_config", "PRESETS", "SaniError", "__version__"]
