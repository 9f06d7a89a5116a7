"""Bytes -> pixels, refusing anything that is not a sane JPEG or PNG.

The header is read before any pixel is decoded, so a decompression bomb (a tiny
file declaring a huge canvas) is refused without allocating the canvas.

Memory is bounded by design: no model looks at more than WORKING_MAX_PIXELS, so a
larger photo is brought down to that while it is decoded (a JPEG big enough decodes
straight at 1/2 scale or less) and only the small copy lives on. What a decode
holds at its peak, and the working copy, are charged to a PixelBudget shared by
the requests in flight until the request answers. Boxes and landmarks are ratios of the image, so the answer is
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
# What a request is charged against the image budget: per full-size pixel, the bytes
# its decode holds at the peak (Pillow keeps RGB as 4 bytes; 16-bit and 32-bit
# samples are copied once to be brought to 8 bits), and per working pixel, the RGB
# image the models read (Pillow's 4 bytes and numpy's 3).
_DECODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 6, "I;16B": 6, "I;16L": 6, "I": 12, "F": 16}
_DECODE_BYTES_OTHERWISE = 4
_WORKING_BYTES = 7
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L")


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


def decode_cost(mode: str, full_pixels: int, working_pixels: int) -> int:
    """Bytes a decode of that size and mode is charged against the image budget."""
    per_pixel = _DECODE_BYTES.get(mode, _DECODE_BYTES_OTHERWISE)
    return full_pixels * per_pixel + working_pixels * _WORKING_BYTES


def draft_scale(width: int, height: int) -> int:
    """The largest JPEG DCT scale (1/2, 1/4, 1/8) that leaves at least 3/4 of the working
    pixels: the decoder then skips the detail the models would not see."""
    for scale in (8, 4, 2):
        if (width // scale) * (height // scale) >= WORKING_MAX_PIXELS * 3 // 4:
            return scale
    return 1


def _to_8_bit(image: Image.Image) -> Image.Image:
    """High-bit-depth grayscale scaled into 0..255 (Pillow's convert would clip it to white)."""
    if image.mode in _SIXTEEN_BIT or image.mode == "I":
        # PNG stores 16-bit samples; Pillow widens them to "I" in some paths. One copy,
        # shifted in place, so a 60 MP image costs its 16-bit size once more.
        samples = np.array(image)
        if image.mode == "I":
            np.clip(samples, 0, 65535, out=samples)
        samples >>= 8
        return Image.fromarray(samples.astype(np.uint8), mode="L")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float32))
        top = 1.0 if float(values.max(initial=0.0)) <= 1.0 else 255.0
        return Image.fromarray((np.clip(values / top, 0.0, 1.0) * 255).astype(np.uint8), mode="L")
    return image


def _decode(image: Image.Image, budget: PixelBudget | None) -> Image.Image:
    width, height = image.size
    scale = draft_scale(width, height) if image.format in ("JPEG", "MPO") else 1
    if scale > 1:
        image.draft(image.mode, (-(-width // scale), -(-height // scale)))
    target = working_size(*image.size)
    cost = decode_cost(image.mode, image.size[0] * image.size[1], target[0] * target[1])
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
