"""Face models: detection, mesh and blendshapes, age and gender, emotion, appearance."""
