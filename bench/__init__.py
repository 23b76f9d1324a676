"""Benchmarks of the hub: ratios measured in one run, printed and written to bench/latest.md."""
