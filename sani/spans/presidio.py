"""Microsoft Presidio as one more detector (pip install 'sani-llm[presidio]'), run offline, its entity types
mapped to sani's labels so that --labels, --rare and the reports treat its spans like the built-in ones."""

from __future__ import annotations

import os

from ..errors import SaniError
from . import detect
from .data import Span

# Presidio's entity types -> sani's labels (so --labels, --rare and reports treat them alike); others kept
PRESIDIO_LABELS = {
    "PERSON": "NAME",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "SSN",
    "IBAN_CODE": "IBAN",
    "DATE_TIME": "DATE",
    "UK_NHS": "NHS_NUMBER",
    "NRP": "NATIONALITY",
}


def _offline_public_suffixes() -> None:
    """Presidio's e-mail and URL recognizers use tldextract, which fetches the public suffix list from the
    network before falling back to its bundled copy: use the bundled copy at once."""
    try:
        import tldextract.tldextract as tld
    except ImportError:
        return
    tld.TLD_EXTRACTOR.suffix_list_urls = ()


def presidio_detector(spacy_model: str | None = None):
    """Presidio's analyzer as a detector (pip install 'sani-llm[presidio]').

    Presidio needs a spaCy pipeline: `spacy_model`, else SANI_PRESIDIO_SPACY_MODEL, else the one the NER
    detector uses (`detect.spacy_model`: the small English pipeline of the extra); a package name or a path
    to a pipeline saved on disk (offline machines).
    """
    try:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        raise SaniError("--presidio: presidio-analyzer is not installed (pip install 'sani-llm[presidio]')") from None
    name = spacy_model or os.environ.get("SANI_PRESIDIO_SPACY_MODEL") or detect.spacy_model()
    _offline_public_suffixes()
    try:
        provider = NlpEngineProvider(
            nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": name}]}
        )
        engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    except (OSError, ImportError, ValueError, SystemExit) as e:
        raise SaniError(
            f"--presidio: Presidio's spaCy model '{name}' is not installed (python -m spacy download {name}, "
            f"or set SANI_PRESIDIO_SPACY_MODEL to a saved pipeline): {type(e).__name__}"
        ) from None

    def detect_presidio(text: str):
        for res in engine.analyze(text=text, language="en"):
            yield Span(res.start, res.end, PRESIDIO_LABELS.get(res.entity_type, res.entity_type), source="presidio")

    return detect_presidio
