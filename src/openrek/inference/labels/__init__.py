"""DetectLabels: objects and scenes, label taxonomy, image properties."""
