"""DetectLabels IMAGE_PROPERTIES on real photos: quality, dominant colours, foreground/background.

Expected outcomes come from looking at the photos (docs/image_properties.md): coffee.png is a
red-brown cup on a brown table; apple.jpg an orange-red apple (the photo has a warm cast) on a
green cloth; orange.jpg a lit orange; chelsea.png a cat's face filling the left three quarters
of the frame, blurred room on the right (the cat covers x < 0.82 of the width).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageColor

from openrek.inference.labels import colors
from openrek.inference.labels import image_properties as measure
from openrek.inference.labels.image_properties import foreground_mask
from openrek.operations.image_properties import dominant_colors_shape, image_properties_shape
from tests.shapes import assert_valid_output

SIMPLIFIED = {
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
}


def image_properties(rgb: np.ndarray, max_dominant_colors: int = 10) -> dict[str, Any]:
    """ImageProperties as DetectLabels answers it: measured, then shaped."""
    return image_properties_shape(measure.image_properties(rgb, max_dominant_colors))


def dominant_colors(region: np.ndarray, max_colors: int = 10) -> list[dict[str, Any]]:
    """An instance's DominantColors as DetectLabels answers them."""
    return dominant_colors_shape(measure.dominant_colors(region, max_colors))


def load(photos: Path, name: str) -> np.ndarray:
    return np.array(Image.open(photos / name).convert("RGB"))


def share(found: list[dict[str, Any]], simplified: set[str]) -> float:
    total: float = sum(c["PixelPercent"] for c in found if c["SimplifiedColor"] in simplified)
    return total


def test_response_matches_botocore_shape_and_rekognition_conventions(photos: Path) -> None:
    properties = image_properties(load(photos, "skimage/coffee.png"))
    assert_valid_output(
        "DetectLabels", {"Labels": [], "ImageProperties": properties, "LabelModelVersion": "3.0"}
    )
    # Contrast is reported for the whole image only; parts carry Brightness and Sharpness.
    assert set(properties["Quality"]) == {"Brightness", "Sharpness", "Contrast"}
    assert set(properties["Foreground"]["Quality"]) == {"Brightness", "Sharpness"}
    assert set(properties["Background"]["Quality"]) == {"Brightness", "Sharpness"}
    for part in (properties, properties["Foreground"], properties["Background"]):
        assert all(0.0 <= value <= 100.0 for value in part["Quality"].values())
        for color in part["DominantColors"]:
            rgb = (color["Red"], color["Green"], color["Blue"])
            # As Rekognition writes it: "#2f4f4f", the CSS colour's own values.
            assert re.fullmatch(r"#[0-9a-f]{6}", color["HexCode"])
            assert color["HexCode"] == "#{:02x}{:02x}{:02x}".format(*rgb)
            assert ImageColor.getrgb(color["CSSColor"]) == rgb
            assert color["SimplifiedColor"] in SIMPLIFIED
        percents = [c["PixelPercent"] for c in part["DominantColors"]]
        assert percents == sorted(percents, reverse=True)


def test_half_red_half_blue_gives_two_named_colours_near_half_each() -> None:
    image = np.zeros((120, 200, 3), np.uint8)
    image[:, :100] = (230, 20, 25)
    image[:, 100:] = (20, 40, 210)
    found = image_properties(image)["DominantColors"]
    assert [c["SimplifiedColor"] for c in found] == ["blue", "red"] or [
        c["SimplifiedColor"] for c in found
    ] == ["red", "blue"]
    assert {c["CSSColor"] for c in found} == {"red", "mediumblue"}
    for color in found:
        assert color["PixelPercent"] == pytest.approx(50.0, abs=2.0)


def test_pixel_percent_covers_the_image_and_max_colors_is_respected(photos: Path) -> None:
    rgb = load(photos, "opencv-doc/fruits.jpg")
    everything = image_properties(rgb, max_dominant_colors=20)["DominantColors"]
    assert 3 <= len(everything) <= 20
    assert sum(c["PixelPercent"] for c in everything) == pytest.approx(100.0, abs=0.01)
    for limit in (0, 1, 3):
        limited = image_properties(rgb, max_dominant_colors=limit)
        assert len(limited["DominantColors"]) == limit
        assert limited["DominantColors"] == everything[:limit]
        for part in ("Foreground", "Background"):
            assert len(limited[part]["DominantColors"]) <= limit


def test_coffee_is_mostly_brown_with_black(photos: Path) -> None:
    found = image_properties(load(photos, "skimage/coffee.png"))["DominantColors"]
    assert found[0]["SimplifiedColor"] == "brown"
    assert share(found, {"brown"}) > 45.0
    assert share(found, {"black"}) > 8.0
    assert share(found, {"red"}) > 15.0  # the cup


def test_apple_is_warm_on_a_green_background(photos: Path) -> None:
    properties = image_properties(load(photos, "opencv-doc/apple.jpg"))
    foreground, background = (
        properties["Foreground"]["DominantColors"],
        properties["Background"]["DominantColors"],
    )
    assert share(foreground, {"red", "orange", "brown"}) > 85.0
    assert share(foreground, {"green"}) < 2.0
    assert share(background, {"green", "yellow"}) > 75.0


def test_orange_foreground_is_warm_and_lit(photos: Path) -> None:
    properties = image_properties(load(photos, "opencv-doc/orange.jpg"))
    foreground = properties["Foreground"]["DominantColors"]
    # CSS names the fruit's mid-tones "peru" (a brown) and its lit side goldenrod and gold.
    assert all(c["Red"] > c["Green"] > c["Blue"] for c in foreground[:3])  # warm hues, red to yellow
    assert share(foreground, {"orange", "yellow", "brown"}) > 90.0
    assert share(foreground, {"orange", "yellow"}) > 40.0
    # The lit fruit is brighter than its dark surroundings.
    assert (
        properties["Foreground"]["Quality"]["Brightness"]
        > properties["Background"]["Quality"]["Brightness"] + 15
    )


def test_instance_colours_of_a_region(photos: Path) -> None:
    rgb = load(photos, "opencv-doc/apple.jpg")
    height, width = rgb.shape[:2]
    apple = dominant_colors(
        rgb[int(0.2 * height) : int(0.8 * height), int(0.2 * width) : int(0.8 * width)], 5
    )
    cloth = dominant_colors(rgb[: int(0.1 * height), : int(0.15 * width)], 5)
    assert share(apple, {"red", "orange", "brown"}) > 80.0
    assert share(cloth, {"green", "yellow"}) > 80.0
    assert len(dominant_colors(rgb[:1, :1], 5)) == 1
    assert dominant_colors(rgb[:0], 5) == []
    assert dominant_colors(rgb, 0) == []


def test_blur_lowers_sharpness_and_exposure_does_not(photos: Path) -> None:
    for name in ("skimage/chelsea.png", "skimage/camera.png", "skimage/coffee.png"):
        rgb = load(photos, name)
        quality = image_properties(rgb)["Quality"]
        blurred = image_properties(cv2.GaussianBlur(rgb, (0, 0), 2.0))["Quality"]
        darker = image_properties((rgb * 0.4).astype(np.uint8))["Quality"]
        assert blurred["Sharpness"] < 0.5 * quality["Sharpness"], name
        assert darker["Brightness"] == pytest.approx(0.4 * quality["Brightness"], abs=1.5), name
        assert darker["Sharpness"] == pytest.approx(quality["Sharpness"], abs=8.0), name
        assert darker["Contrast"] < 0.5 * quality["Contrast"], name


def test_defocused_text_is_less_sharp_than_sharp_photos(photos: Path) -> None:
    defocused = image_properties(load(photos, "opencv-doc/text_defocus.jpg"))["Quality"]["Sharpness"]
    for name in ("skimage/camera.png", "skimage/coffee.png", "opencv-doc/baboon.jpg", "skimage/page.png"):
        assert image_properties(load(photos, name))["Quality"]["Sharpness"] > defocused + 25.0, name


def test_low_contrast_copy_has_lower_contrast(photos: Path) -> None:
    rgb = load(photos, "skimage/astronaut.png")
    washed = (rgb * 0.3 + 0.7 * 128).astype(np.uint8)
    assert (
        image_properties(washed)["Quality"]["Contrast"] < 0.4 * image_properties(rgb)["Quality"]["Contrast"]
    )


def test_cat_is_the_foreground_of_chelsea(photos: Path) -> None:
    rgb = load(photos, "skimage/chelsea.png")
    mask = foreground_mask(rgb)
    assert mask is not None
    columns = np.arange(mask.shape[1]) / mask.shape[1]
    inside_cat = mask[:, columns < 0.82].sum() / mask.sum()
    assert inside_cat > 0.95
    assert mask.mean() > 0.2
    properties = image_properties(rgb)
    # The cat is in focus, the room behind it is not.
    assert (
        properties["Foreground"]["Quality"]["Sharpness"]
        > properties["Background"]["Quality"]["Sharpness"] + 15
    )


def test_plain_image_has_one_colour_and_no_foreground() -> None:
    plain = np.full((80, 120, 3), (250, 250, 250), np.uint8)
    properties = image_properties(plain)
    assert "Foreground" not in properties and "Background" not in properties
    # Grey 250 is 1.6 L* below whitesmoke (245) and 2.0 below white: CIEDE2000 picks whitesmoke.
    assert [c["CSSColor"] for c in properties["DominantColors"]] == ["whitesmoke"]
    assert properties["DominantColors"][0]["SimplifiedColor"] == "white"
    assert properties["DominantColors"][0]["PixelPercent"] == pytest.approx(100.0)
    assert properties["Quality"]["Sharpness"] == 0.0
    assert properties["Quality"]["Contrast"] == 0.0
    assert properties["Quality"]["Brightness"] == pytest.approx(250 / 255 * 100, abs=0.1)


def test_results_repeat_exactly(photos: Path) -> None:
    rgb = load(photos, "opencv-doc/messi5.jpg")
    assert image_properties(rgb) == image_properties(rgb.copy())


def test_css_table_and_colour_difference() -> None:
    pillow = {name: ImageColor.getrgb(name) for name in ImageColor.colormap}
    for name, hex_code, _ in colors.CSS_COLORS:
        assert pillow[name] == ImageColor.getrgb(hex_code), name
    # Every CSS3 colour is in the table under one of its spellings (rebeccapurple is CSS4).
    distinct = {pillow[name] for name in pillow if name != "rebeccapurple"}
    assert distinct == {ImageColor.getrgb(h) for _, h, _ in colors.CSS_COLORS}
    assert set(colors.CSS_SIMPLIFIED) == SIMPLIFIED
    # CIEDE2000 reference pairs from Sharma, Wu & Dalal (2005), table 1.
    pairs = [
        ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
        ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
        ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
        ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
        # The mean-hue discontinuity: hue differences just under and over 180 degrees.
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0009), 7.1792),
        ((50.0, 2.49, -0.001), (50.0, -2.49, 0.0011), 7.2195),
    ]
    for first, second, expected in pairs:
        assert float(colors.ciede2000(np.array(first), np.array(second))) == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("shape", [(1, 1, 3), (2, 3, 3), (1, 3000, 3), (3000, 1, 3)])
def test_degenerate_sizes_still_answer(shape: tuple[int, int, int]) -> None:
    rgb = np.random.default_rng(7).integers(0, 256, shape, dtype=np.uint8)
    properties = image_properties(rgb, max_dominant_colors=4)
    assert 1 <= len(properties["DominantColors"]) <= 4
    assert all(0.0 <= value <= 100.0 for value in properties["Quality"].values())
    assert len(dominant_colors(rgb, 2)) <= 2


def test_noisy_css_colours_are_named_back() -> None:
    """Each CSS colour as a 64x64 patch with Gaussian noise (sigma 4 levels): clustering averages
    the noise away and the patch is named back (135 of 138 measured: the misses are
    neighbours 2-3 CIEDE2000 apart, e.g. chartreuse and lawngreen, linen and oldlace)."""
    rng = np.random.default_rng(0)
    named = simplified = 0
    for (name, _, simple), rgb in zip(colors.CSS_COLORS, colors.CSS_RGB, strict=True):
        patch = np.clip(rgb.astype(float) + rng.normal(0.0, 4.0, (64, 64, 3)), 0, 255).astype(np.uint8)
        top = dominant_colors(patch, 1)[0]
        named += top["CSSColor"] == name
        simplified += top["SimplifiedColor"] == simple
    assert named >= 132
    assert simplified == len(colors.CSS_COLORS)


def test_instance_colours_count_the_middle_of_the_box(photos: Path) -> None:
    # A red disc filling half of its box on blue: the inscribed ellipse is 64% red.
    rows, columns = np.mgrid[0:100, 0:100]
    box = np.full((100, 100, 3), (20, 40, 210), np.uint8)
    box[(rows - 49.5) ** 2 + (columns - 49.5) ** 2 <= 40**2] = (230, 20, 25)
    found = dominant_colors(box, 2)
    assert found[0]["SimplifiedColor"] == "red"
    assert found[0]["PixelPercent"] == pytest.approx(64.0, abs=2.0)
    # sahi's terrain2.png: the blue jeep's box (COCO annotation) is mostly tyres, shade and
    # desert, yet its blue is among the three top colours.
    rgb = load(photos, "sahi/terrain2.png")
    jeep = dominant_colors(rgb[437 : 437 + 56, 634 : 634 + 81], 3)
    assert "blue" in {c["SimplifiedColor"] for c in jeep}
