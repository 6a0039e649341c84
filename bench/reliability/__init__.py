"""Reliability harness: the pipelines under faults, SIGKILL, bad input, and a scan for secrets.

Every scenario runs the real plugins as processes against the api-sandbox and counts, from what
the sandbox stored, what was lost and what was doubled. ``python -m bench.reliability [--quick]``
runs them all and writes ``bench/results/reliability.json``; docs/reliability.md explains them.
"""
