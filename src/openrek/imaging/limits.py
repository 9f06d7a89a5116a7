"""The limits an operation puts on the images it accepts.

Rekognition's limits are the same for most operations; DetectProtectiveEquipment
has its own (smaller bytes and sides, smaller minimum). One value carries them
through the image door so every operation reads pixels the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 5 * MiB  # Image.Bytes, after base64 decoding
    max_s3_bytes: int = 15 * MiB  # Image.S3Object
    max_side: int = 10_000
    min_side: int = 80
    # A 10000 x 6000 photo; more is refused from the header, before decoding.
    max_pixels: int = 60_000_000

    def __post_init__(self) -> None:
        if not 0 < self.min_side <= self.max_side:
            raise ValueError(f"min_side {self.min_side} must be in 1..max_side {self.max_side}")
        if self.max_bytes <= 0 or self.max_s3_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("byte and pixel limits must be positive")


DEFAULT_LIMITS = ImageLimits()
