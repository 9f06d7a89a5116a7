"""DetectLabels' ImageProperties and DominantColors, shaped from the measurements of
openrek.inference.labels.image_properties (fractions, reported as percentages)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openrek.inference.labels.measurements import DominantColor, ImageProperties, Quality, RegionProperties


def dominant_colors_shape(colors: Iterable[DominantColor]) -> list[dict[str, Any]]:
    return [
        {
            "Red": color.rgb[0],
            "Green": color.rgb[1],
            "Blue": color.rgb[2],
            "HexCode": color.hex_code,
            "CSSColor": color.css_name,
            "SimplifiedColor": color.simplified,
            "PixelPercent": color.share * 100.0,
        }
        for color in colors
    ]


def _quality(quality: Quality) -> dict[str, float]:
    shaped = {"Brightness": quality.brightness * 100.0, "Sharpness": quality.sharpness * 100.0}
    if quality.contrast is not None:  # measured for the whole image only
        shaped["Contrast"] = quality.contrast * 100.0
    return shaped


def _region(region: RegionProperties) -> dict[str, Any]:
    return {
        "Quality": _quality(region.quality),
        "DominantColors": dominant_colors_shape(region.dominant_colors),
    }


def image_properties_shape(properties: ImageProperties) -> dict[str, Any]:
    """Foreground and Background only when the image has a clear foreground: Rekognition
    reports them "if available"."""
    shaped = {
        "Quality": _quality(properties.quality),
        "DominantColors": dominant_colors_shape(properties.dominant_colors),
    }
    if properties.foreground is not None and properties.background is not None:
        shaped["Foreground"] = _region(properties.foreground)
        shaped["Background"] = _region(properties.background)
    return shaped
