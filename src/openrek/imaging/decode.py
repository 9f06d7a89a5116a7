"""Bytes -> pixels, refusing anything that is not a sane JPEG or PNG.

The header is read before any pixel is decoded, so a decompression bomb (a tiny
file declaring a huge canvas) is refused without allocating the canvas.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from openrek.protocol.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
)

ACCEPTED_FORMATS = ("JPEG", "PNG")
MIN_SIDE = 80
MAX_SIDE = 10_000
MAX_PIXELS = 60_000_000  # a 10000 x 6000 photo; more is refused before decoding

# Pillow's own bomb guard raises at twice this; ours fires first with an AWS error.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


@dataclass(frozen=True)
class LoadedImage:
    """An upright RGB image: EXIF orientation already applied."""

    rgb: np.ndarray  # (height, width, 3) uint8
    format: str

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def _invalid_format() -> InvalidImageFormatException:
    return InvalidImageFormatException("Request has invalid image format")


def decode_image(data: bytes, max_side: int = MAX_SIDE, min_side: int = MIN_SIDE) -> LoadedImage:
    if not data:
        raise _invalid_format()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd EXIF; the check below decides
            image = Image.open(io.BytesIO(data))
            image_format = image.format
            if image_format not in ACCEPTED_FORMATS:
                raise _invalid_format()
            width, height = image.size
            if width > max_side or height > max_side or width * height > MAX_PIXELS:
                raise ImageTooLargeException(
                    f"Image dimensions {width}x{height} exceed the limit of {max_side} "
                    "pixels per side"
                )
            image.load()
            upright = ImageOps.exif_transpose(image) or image
            rgb = upright.convert("RGB")
    except (ImageTooLargeException, InvalidImageFormatException):
        raise
    except Image.DecompressionBombError:
        raise ImageTooLargeException("Image dimensions exceed the allowed limit") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error):
        # Truncated, corrupt or hostile data (a damaged EXIF block raises struct.error
        # while the orientation is read): Pillow signals it with any of these.
        raise _invalid_format() from None
    if rgb.width < min_side or rgb.height < min_side:
        raise InvalidParameterException(
            f"Image dimensions {rgb.width}x{rgb.height} are below the minimum of "
            f"{min_side} pixels per side"
        )
    return LoadedImage(np.asarray(rgb), image_format)
