"""Benchmarks of the harness: each bar is a ratio against the strongest baseline, run in the same process.

`make bench` (python -m benchmarks.run_cpu) and `make bench-gpu` (python -m benchmarks.run_gpu) write
reports/bench/latest.json and latest.md. Not timed tests: CI does not run them. See reports/bench/README.md.
"""
