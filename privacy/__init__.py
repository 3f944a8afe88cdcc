"""Privacy: key normalization, keyed hashing, the sharing policy, thresholds."""
