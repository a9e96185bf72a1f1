"""Reports: the terminal's tables and verdict line (`text`), the attacks' sections (`attacks`), the
self-contained HTML page (`html`) and its charts (`charts`). They read audits through
`sani.audit.results.AuditResult`, never the JSON."""
