"""Benchmarks (not tests): `python -m jobs.bench.forecasts`, `python -m jobs.bench.battery`."""
