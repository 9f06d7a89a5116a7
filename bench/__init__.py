"""Benchmarks, run as scripts (`python bench/detect_faces.py`); tests import a few of their helpers."""
