"""Converters that turn published weights (TF.js, Keras, PyTorch) into ONNX files at pull time,
without installing the frameworks they were trained in."""
