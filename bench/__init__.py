"""Benchmarks run by `make bench`: outside chalicelib, never packaged for Lambda."""
