"""The one door for pixels: Image.Bytes or Image.S3Object -> LoadedImage."""
