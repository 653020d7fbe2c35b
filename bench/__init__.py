"""Benchmarks that print tables for docs/benchmarks.md. Run each from the repository root as
`.venv/bin/python -m bench.NAME`: run as a script path, bench/retrieval.py would shadow the retrieval package."""
