"""Benchmarks against the tools a user would pick instead, and the reliability harness."""
