"""Finding the sensitive spans: the corpus's records and spans (`data`), the span finder (`finder.SpanFinder`:
tags, terms, detectors, patterns, rarity, labels, propagation), the detectors (`detect`, `phones`, `tagger`
and the sentences it learns from, `presidio`), canaries, and the values of a label (`candidates`,
`lookalike`). The stages read spans from here; nothing here knows a model."""
