"""Models and their kinds: loading a model directory and its FFN table (`loading`), causal vs masked LM decided
once (`kinds`: training examples, collators, log-probabilities, the rules that differ by kind), padding and
the model's window (`batching`), masked copies (`masking`), a value's likelihood in its place (`incontext`),
collators, and LoRA adapters (`adapters`)."""
