"""Benchmarks: p44_magic against the script an analyst would otherwise write, in the same run."""
