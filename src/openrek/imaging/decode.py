"""Bytes -> pixels, refusing anything that is not a sane JPEG or PNG.

The header is read before any pixel is decoded, so a decompression bomb (a tiny
file declaring a huge canvas) is refused without allocating the canvas.

Memory is bounded by design: no model looks at more than WORKING_MAX_PIXELS, so a
larger photo is brought down to that while it is decoded (a JPEG decodes straight
at 1/2, 1/4 or 1/8 scale) and only the small copy lives on. The full-size decode
of a PNG, the one big transient, is charged to a PixelBudget shared by the
requests in flight. Boxes and landmarks are ratios of the image, so the answer is
the same as at full size; AWS itself detects faces down to about 2% of the image
side, which stays above 80 px at this size.
"""

from __future__ import annotations

import io
import struct
import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from PIL import Image

from openrek.imaging.budget import PixelBudget
from openrek.imaging.limits import DEFAULT_LIMITS, ImageLimits
from openrek.protocol.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
)

# Pillow names a phone's multi-picture JPEG "MPO"; its first frame is the photo.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG"}
WORKING_MAX_PIXELS = 4096 * 4096

# Pillow's own bomb guard raises at twice this; ours fires first with an AWS error.
Image.MAX_IMAGE_PIXELS = DEFAULT_LIMITS.max_pixels

# EXIF orientation tag -> the transposition that makes the image upright.
_ORIENTATION_TAG = 0x0112
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Bytes Pillow holds per pixel while an image of that mode is decoded (RGB is
# stored as 4 bytes); what a decode is charged against the budget.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "LA": 4}


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


def working_size(width: int, height: int, max_pixels: int = WORKING_MAX_PIXELS) -> tuple[int, int]:
    """The size a width x height image is analysed at: itself, or scaled down to max_pixels."""
    if width * height <= max_pixels:
        return width, height
    scale = (max_pixels / (width * height)) ** 0.5
    return max(1, int(width * scale)), max(1, int(height * scale))


def _to_8_bit(image: Image.Image) -> Image.Image:
    """High-bit-depth grayscale scaled into 0..255 (Pillow's convert would clip it to white)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # PNG stores 16-bit samples; Pillow widens them to "I" in some paths.
        wide = np.asarray(image).astype(np.uint32, copy=False)
        return Image.fromarray((np.minimum(wide, 65535) >> 8).astype(np.uint8), mode="L")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        top = 1.0 if float(values.max(initial=0.0)) <= 1.0 else 255.0
        return Image.fromarray((np.clip(values / top, 0.0, 1.0) * 255).astype(np.uint8), mode="L")
    return image


def _decode(image: Image.Image, budget: PixelBudget | None) -> Image.Image:
    width, height = image.size
    target = working_size(width, height)
    if image.format in ("JPEG", "MPO") and target != (width, height):
        image.draft(image.mode, target)  # the decoder itself skips the detail
    cost = image.size[0] * image.size[1] * _BYTES_PER_PIXEL.get(image.mode, 4)
    with budget.charge_request(cost) if budget is not None else nullcontext():
        orientation = image.getexif().get(_ORIENTATION_TAG)
        image.load()
        image = _to_8_bit(image)
        if image.size != target:
            image = image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
        return image.convert("RGB")


def decode_image(
    data: bytes, limits: ImageLimits = DEFAULT_LIMITS, budget: PixelBudget | None = None
) -> LoadedImage:
    if not data:
        raise _invalid_format()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow warns on odd EXIF; the check below decides
            image = Image.open(io.BytesIO(data))
            image_format = ACCEPTED_FORMATS.get(image.format or "")
            if image_format is None:
                raise _invalid_format()
            width, height = image.size
            if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
                raise ImageTooLargeException(
                    f"Image dimensions {width}x{height} exceed the limit of {limits.max_side} pixels per side"
                )
            if min(width, height) < limits.min_side:
                raise _too_small(width, height, limits)
            rgb = _decode(image, budget)
    except (ImageTooLargeException, InvalidImageFormatException, InvalidParameterException):
        raise
    except Image.DecompressionBombError:
        raise ImageTooLargeException("Image dimensions exceed the allowed limit") from None
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error):
        # Truncated, corrupt or hostile data (a damaged EXIF block raises struct.error
        # while the orientation is read): Pillow signals it with any of these.
        raise _invalid_format() from None
    return LoadedImage(np.asarray(rgb), image_format)


def _too_small(width: int, height: int, limits: ImageLimits) -> InvalidParameterException:
    return InvalidParameterException(
        f"Image dimensions {width}x{height} are below the minimum of {limits.min_side} pixels per side"
    )
