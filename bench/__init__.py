"""Benchmarks for the help centre (`make bench`)."""
