"""Text in photos: PaddleOCR (PP-OCRv6) line detection, orientation and recognition,
with words and their boxes derived from the recogniser's CTC alignment."""
