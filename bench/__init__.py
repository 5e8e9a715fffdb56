"""Benchmarks of what a page costs the dashboard itself, against the backend's own latency."""
