"""Models behind one small interface. Knows nothing of AWS shapes."""
