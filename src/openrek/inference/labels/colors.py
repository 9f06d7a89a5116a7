"""Colour naming for DetectLabels' DominantColors: CSS colour names and Rekognition's simplified colours.

A dominant colour is reported as a CSS colour: Red/Green/Blue and HexCode are the CSS
colour's own values ("#2f4f4f", lowercase, with '#'), CSSColor its name, SimplifiedColor
one of Rekognition's 12 simplified colours. That is what Rekognition itself returns: in
real responses every reported RGB is exactly a CSS named colour (47,79,79 "darkslategrey",
85,107,47 "darkolivegreen", 128,128,128 "gray", 105,105,105 "dimgrey") and the simplified
names are lowercase ("grey", "green", "black").

The palette is the 147 CSS3 / SVG 1.1 colour keywords, one entry per distinct colour (138):
of the gray/grey pairs the compound names take the "grey" spelling and plain #808080 is
"gray", as observed in Rekognition's output; aqua/cyan and fuchsia/magenta are "cyan" and
"magenta". CSS Color 4's rebeccapurple is left out (not in the CSS3 set).

Each colour's simplified name follows the CSS colour families (W3C's grouping of the
keywords into reds, pinks, oranges, yellows, browns, greens, cyans, blues, purples,
whites, greys) mapped onto Rekognition's vocabulary (cyans -> "teal", grays -> "grey"),
with a few perceptual corrections where a family would mislead: near-white tints
(lavender, lightcyan, cornsilk, papayawhip: CIELAB chroma under 15 at L* over 90) are
"white", teal/darkcyan/lightseagreen are "teal", maroon is "red", goldenrod is "yellow",
and the salmons and peachpuff (CIELAB hue 45-70 degrees, where orange is) are "orange",
except salmon itself (33 degrees, with the reds).

Nearest-colour search uses CIEDE2000 in CIELAB (D65), the CIE's perceptual colour
difference, so "nearest" means what a viewer would call closest.
"""

from __future__ import annotations

import cv2
import numpy as np

# Rekognition's 12 simplified colours, spelled as its responses spell them.
SIMPLIFIED_COLORS = (
    "black",
    "blue",
    "brown",
    "green",
    "grey",
    "orange",
    "pink",
    "purple",
    "red",
    "teal",
    "white",
    "yellow",
)

# name, hex, simplified colour.
CSS_COLORS: tuple[tuple[str, str, str], ...] = (
    ("aliceblue", "#f0f8ff", "white"),
    ("antiquewhite", "#faebd7", "white"),
    ("aquamarine", "#7fffd4", "teal"),
    ("azure", "#f0ffff", "white"),
    ("beige", "#f5f5dc", "white"),
    ("bisque", "#ffe4c4", "brown"),
    ("black", "#000000", "black"),
    ("blanchedalmond", "#ffebcd", "brown"),
    ("blue", "#0000ff", "blue"),
    ("blueviolet", "#8a2be2", "purple"),
    ("brown", "#a52a2a", "brown"),
    ("burlywood", "#deb887", "brown"),
    ("cadetblue", "#5f9ea0", "teal"),
    ("chartreuse", "#7fff00", "green"),
    ("chocolate", "#d2691e", "brown"),
    ("coral", "#ff7f50", "orange"),
    ("cornflowerblue", "#6495ed", "blue"),
    ("cornsilk", "#fff8dc", "white"),
    ("crimson", "#dc143c", "red"),
    ("cyan", "#00ffff", "teal"),
    ("darkblue", "#00008b", "blue"),
    ("darkcyan", "#008b8b", "teal"),
    ("darkgoldenrod", "#b8860b", "brown"),
    ("darkgrey", "#a9a9a9", "grey"),
    ("darkgreen", "#006400", "green"),
    ("darkkhaki", "#bdb76b", "yellow"),
    ("darkmagenta", "#8b008b", "purple"),
    ("darkolivegreen", "#556b2f", "green"),
    ("darkorange", "#ff8c00", "orange"),
    ("darkorchid", "#9932cc", "purple"),
    ("darkred", "#8b0000", "red"),
    ("darksalmon", "#e9967a", "orange"),
    ("darkseagreen", "#8fbc8f", "green"),
    ("darkslateblue", "#483d8b", "purple"),
    ("darkslategrey", "#2f4f4f", "grey"),
    ("darkturquoise", "#00ced1", "teal"),
    ("darkviolet", "#9400d3", "purple"),
    ("deeppink", "#ff1493", "pink"),
    ("deepskyblue", "#00bfff", "blue"),
    ("dimgrey", "#696969", "grey"),
    ("dodgerblue", "#1e90ff", "blue"),
    ("firebrick", "#b22222", "red"),
    ("floralwhite", "#fffaf0", "white"),
    ("forestgreen", "#228b22", "green"),
    ("gainsboro", "#dcdcdc", "grey"),
    ("ghostwhite", "#f8f8ff", "white"),
    ("gold", "#ffd700", "yellow"),
    ("goldenrod", "#daa520", "yellow"),
    ("gray", "#808080", "grey"),
    ("green", "#008000", "green"),
    ("greenyellow", "#adff2f", "green"),
    ("honeydew", "#f0fff0", "white"),
    ("hotpink", "#ff69b4", "pink"),
    ("indianred", "#cd5c5c", "red"),
    ("indigo", "#4b0082", "purple"),
    ("ivory", "#fffff0", "white"),
    ("khaki", "#f0e68c", "yellow"),
    ("lavender", "#e6e6fa", "white"),
    ("lavenderblush", "#fff0f5", "white"),
    ("lawngreen", "#7cfc00", "green"),
    ("lemonchiffon", "#fffacd", "yellow"),
    ("lightblue", "#add8e6", "blue"),
    ("lightcoral", "#f08080", "red"),
    ("lightcyan", "#e0ffff", "white"),
    ("lightgoldenrodyellow", "#fafad2", "yellow"),
    ("lightgrey", "#d3d3d3", "grey"),
    ("lightgreen", "#90ee90", "green"),
    ("lightpink", "#ffb6c1", "pink"),
    ("lightsalmon", "#ffa07a", "orange"),
    ("lightseagreen", "#20b2aa", "teal"),
    ("lightskyblue", "#87cefa", "blue"),
    ("lightslategrey", "#778899", "grey"),
    ("lightsteelblue", "#b0c4de", "blue"),
    ("lightyellow", "#ffffe0", "yellow"),
    ("lime", "#00ff00", "green"),
    ("limegreen", "#32cd32", "green"),
    ("linen", "#faf0e6", "white"),
    ("magenta", "#ff00ff", "purple"),
    ("maroon", "#800000", "red"),
    ("mediumaquamarine", "#66cdaa", "green"),
    ("mediumblue", "#0000cd", "blue"),
    ("mediumorchid", "#ba55d3", "purple"),
    ("mediumpurple", "#9370db", "purple"),
    ("mediumseagreen", "#3cb371", "green"),
    ("mediumslateblue", "#7b68ee", "purple"),
    ("mediumspringgreen", "#00fa9a", "green"),
    ("mediumturquoise", "#48d1cc", "teal"),
    ("mediumvioletred", "#c71585", "pink"),
    ("midnightblue", "#191970", "blue"),
    ("mintcream", "#f5fffa", "white"),
    ("mistyrose", "#ffe4e1", "white"),
    ("moccasin", "#ffe4b5", "yellow"),
    ("navajowhite", "#ffdead", "brown"),
    ("navy", "#000080", "blue"),
    ("oldlace", "#fdf5e6", "white"),
    ("olive", "#808000", "green"),
    ("olivedrab", "#6b8e23", "green"),
    ("orange", "#ffa500", "orange"),
    ("orangered", "#ff4500", "orange"),
    ("orchid", "#da70d6", "purple"),
    ("palegoldenrod", "#eee8aa", "yellow"),
    ("palegreen", "#98fb98", "green"),
    ("paleturquoise", "#afeeee", "teal"),
    ("palevioletred", "#db7093", "pink"),
    ("papayawhip", "#ffefd5", "white"),
    ("peachpuff", "#ffdab9", "orange"),
    ("peru", "#cd853f", "brown"),
    ("pink", "#ffc0cb", "pink"),
    ("plum", "#dda0dd", "purple"),
    ("powderblue", "#b0e0e6", "blue"),
    ("purple", "#800080", "purple"),
    ("red", "#ff0000", "red"),
    ("rosybrown", "#bc8f8f", "brown"),
    ("royalblue", "#4169e1", "blue"),
    ("saddlebrown", "#8b4513", "brown"),
    ("salmon", "#fa8072", "red"),
    ("sandybrown", "#f4a460", "brown"),
    ("seagreen", "#2e8b57", "green"),
    ("seashell", "#fff5ee", "white"),
    ("sienna", "#a0522d", "brown"),
    ("silver", "#c0c0c0", "grey"),
    ("skyblue", "#87ceeb", "blue"),
    ("slateblue", "#6a5acd", "purple"),
    ("slategrey", "#708090", "grey"),
    ("snow", "#fffafa", "white"),
    ("springgreen", "#00ff7f", "green"),
    ("steelblue", "#4682b4", "blue"),
    ("tan", "#d2b48c", "brown"),
    ("teal", "#008080", "teal"),
    ("thistle", "#d8bfd8", "purple"),
    ("tomato", "#ff6347", "red"),
    ("turquoise", "#40e0d0", "teal"),
    ("violet", "#ee82ee", "purple"),
    ("wheat", "#f5deb3", "brown"),
    ("white", "#ffffff", "white"),
    ("whitesmoke", "#f5f5f5", "white"),
    ("yellow", "#ffff00", "yellow"),
    ("yellowgreen", "#9acd32", "green"),
)

CSS_NAMES = tuple(name for name, _, _ in CSS_COLORS)
CSS_RGB = np.array(
    [[int(hex_code[i : i + 2], 16) for i in (1, 3, 5)] for _, hex_code, _ in CSS_COLORS], dtype=np.uint8
)
CSS_SIMPLIFIED = tuple(simplified for _, _, simplified in CSS_COLORS)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) uint8 -> CIELAB (..., 3) float32 (L 0-100), D65, via OpenCV's exact float path."""
    flat = np.ascontiguousarray(rgb.reshape(-1, 1, 3), dtype=np.float32) / np.float32(255.0)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(*rgb.shape[:-1], 3)


CSS_LAB = rgb_to_lab(CSS_RGB)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005) between broadcastable (..., 3) Lab arrays."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    chroma_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0
    c7 = chroma_mean**7
    # Neutral colours get their a* axis stretched so hue differences near grey count less.
    g = 0.5 * (1.0 - np.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = (1.0 + g) * a1, (1.0 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360.0

    delta_l = l2 - l1
    delta_c = c2p - c1p
    hue_diff = h2p - h1p
    hue_diff = np.where(hue_diff > 180.0, hue_diff - 360.0, hue_diff)
    hue_diff = np.where(hue_diff < -180.0, hue_diff + 360.0, hue_diff)
    achromatic = (c1p * c2p) == 0.0
    hue_diff = np.where(achromatic, 0.0, hue_diff)
    delta_h = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(hue_diff) / 2.0)

    l_mean = (l1 + l2) / 2.0
    c_mean = (c1p + c2p) / 2.0
    hue_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) > 180.0,
        np.where(hue_sum < 360.0, (hue_sum + 360.0) / 2.0, (hue_sum - 360.0) / 2.0),
        hue_sum / 2.0,
    )
    h_mean = np.where(achromatic, hue_sum, h_mean)
    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_mean))
        + 0.32 * np.cos(np.radians(3.0 * h_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_mean - 63.0))
    )
    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / np.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * c_mean
    s_h = 1.0 + 0.015 * c_mean * t
    c_mean7 = c_mean**7
    rotation = (
        -2.0
        * np.sqrt(c_mean7 / (c_mean7 + 25.0**7))
        * np.sin(np.radians(60.0 * np.exp(-(((h_mean - 275.0) / 25.0) ** 2))))
    )
    term_l, term_c, term_h = delta_l / s_l, delta_c / s_c, delta_h / s_h
    return np.asarray(np.sqrt(term_l**2 + term_c**2 + term_h**2 + rotation * term_c * term_h))


def nearest_css(lab: np.ndarray) -> np.ndarray:
    """Index into CSS_COLORS of the nearest CSS colour (CIEDE2000) for each Lab row of an (N, 3) array."""
    lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    distances = ciede2000(lab[:, None, :], CSS_LAB[None, :, :])
    return np.asarray(np.argmin(distances, axis=1))


def hex_code(rgb: tuple[int, int, int] | np.ndarray) -> str:
    red, green, blue = (int(v) for v in rgb)
    return f"#{red:02x}{green:02x}{blue:02x}"
