"""Benchmarks: one command, ratios measured side by side in one run."""
