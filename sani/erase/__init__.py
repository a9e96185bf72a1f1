"""Erase: choose FFN neurons of the last layers (at random, the paper's, or scored on the sensitive tokens)
and reset them (`neurons`; SANI, arXiv 2510.21322)."""
