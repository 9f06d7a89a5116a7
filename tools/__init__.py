"""Helpers shared by tests/, bench/ and the command line: evaluation photos, hand labels, masked faces."""
