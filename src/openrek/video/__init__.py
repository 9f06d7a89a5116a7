"""Stored videos: where they are (location) and what frames they hold (decode)."""
