"""Reqivo's benchmarks: Reqivo and its peers side by side in one run, ratios reported.

Run with ``uv run nox -s bench`` (or ``uv run python -m benchmarks [suite ...]``).
Benchmarks never run in the test suite: timings belong here, not in assertions.
"""
