"""Scale: several processes (`dist`), a sharded repair (`sharded`: FSDP, ZeRO-3), the corpus in memory or
streamed from disk (`corpus`, read in two passes by `passes`), and peak memory (`memory`)."""
