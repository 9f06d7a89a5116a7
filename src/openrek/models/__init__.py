"""Pull time: which model files openrek runs, fetching them, converting them, verifying them.

Run-time code needs only `openrek.models.store.ModelStore` (paths and pin checks);
the converters, and onnx itself, are imported when a pull has something to prepare.
"""
