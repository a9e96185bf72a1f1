"""The demo and the benchmark: synthetic notes (`synthetic`), tiny models from a config (`tiny`), the one real
pre-trained encoder (`pretrained`), the demo (`demo`), the methods the bench compares (`methods`), its
rows against the oracle (`rows`) and its tables and charts (`table`)."""
