"""Benchmarks (`make bench-*`): each prints figures against a named peer in one run."""
