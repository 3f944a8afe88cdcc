"""Synthetic, reproducible ecosystems for demos, tests and benchmarks."""
