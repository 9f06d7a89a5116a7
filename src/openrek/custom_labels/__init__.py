"""Custom Labels: projects, datasets (SageMaker Ground Truth manifest lines), training
of heads over a frozen backbone, model versions and their inference."""
