"""What image_properties.py measures, as validated values: quality, dominant colours,
and the same for the foreground and background when the image has a clear one.

Every measure is a fraction in [0, 1]; how a response reports it is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass

from openrek.inference.labels.colors import CSS_NAMES, SIMPLIFIED_COLORS, hex_code


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ValueError(f"{name} {value} is not in [0, 1]")


@dataclass(frozen=True)
class DominantColor:
    """A CSS colour and the share of the pixels nearest to it."""

    css_name: str  # one of colors.CSS_NAMES
    rgb: tuple[int, int, int]  # the CSS colour's own value
    simplified: str  # one of colors.SIMPLIFIED_COLORS
    share: float  # of the pixels counted, (0, 1]

    def __post_init__(self) -> None:
        if self.css_name not in CSS_NAMES:
            raise ValueError(f"{self.css_name!r} is not a CSS colour name")
        if self.simplified not in SIMPLIFIED_COLORS:
            raise ValueError(f"{self.simplified!r} is not a simplified colour")
        if len(self.rgb) != 3 or not all(0 <= v <= 255 for v in self.rgb):
            raise ValueError(f"{self.rgb} is not an 8-bit RGB triple")
        if not 0.0 < self.share <= 1.0:
            raise ValueError(f"share {self.share} is not in (0, 1]")

    @property
    def hex_code(self) -> str:
        return hex_code(self.rgb)


@dataclass(frozen=True)
class Quality:
    brightness: float  # mean BT.601 luma / 255
    sharpness: float  # 0 for edges nine pixels wide or more, 1 for one-pixel edges
    contrast: float | None = None  # luma standard deviation / 127.5; whole image only

    def __post_init__(self) -> None:
        _check_fraction("brightness", self.brightness)
        _check_fraction("sharpness", self.sharpness)
        if self.contrast is not None:
            _check_fraction("contrast", self.contrast)


@dataclass(frozen=True)
class RegionProperties:
    """The foreground or the background: quality (no contrast) and colours."""

    quality: Quality
    dominant_colors: tuple[DominantColor, ...]

    def __post_init__(self) -> None:
        if self.quality.contrast is not None:
            raise ValueError("contrast is measured for the whole image only")


@dataclass(frozen=True)
class ImageProperties:
    quality: Quality
    dominant_colors: tuple[DominantColor, ...]  # largest share first
    # Both or neither: None when the image has no clear foreground.
    foreground: RegionProperties | None = None
    background: RegionProperties | None = None

    def __post_init__(self) -> None:
        if self.quality.contrast is None:
            raise ValueError("the whole image's quality includes its contrast")
        if (self.foreground is None) != (self.background is None):
            raise ValueError("a foreground comes with a background")
