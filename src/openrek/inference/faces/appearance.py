"""Eyeglasses, Sunglasses, Beard, Mustache and FaceOccluded as measurements.

No trained model for these attributes ships in a package registry, so each one is a
single photometric measurement taken on regions placed from the detector's five
points, turned into a probability by a two-parameter logistic curve. Where the SFace
model is installed, DetectFaces answers Eyeglasses from a learned head instead
(appearance_head.py), which also reads these measurements.

The face is first warped (similarity transform) into a canonical crop where the eye
distance is `UNIT` pixels and the eyes are level, so every region below has the same
meaning whatever the face's size and roll. Regions are placed from the *warped* five
points rather than from a fixed template, so a smile or a turned head moves them with
the face.

The measurements (each relative to the face's own skin, so exposure and skin tone
matter less):
- sunglasses: how dark the lens areas are (their 75th percentile of lightness, so a
  bare eye's skin around the opening keeps it high) against the lit cheek or forehead;
  the lighter eye counts, since lenses cover both eyes and makeup or shadow seldom do.
- eyeglasses: the strongest horizontal bar across the nose bridge (a frame's bridge),
  against the cheek's own edge strength; sunglasses count too, as Rekognition reports
  Eyeglasses true for them.
- beard: how much darker chin and jaw are than the lit cheek.
- mustache: how much darker the band between nose tip and upper lip is than the cheek.
- occluded: the share of the lower face (nose to chin, the mouth left out) whose colour
  is not the skin colour of the upper face: masks, scarves and held objects differ in
  hue or are greyer than skin. Skin-coloured occluders (a hand, a shoulder) and
  grey-scale photos are not seen; a full dark beard may be.

Known weaknesses, measured by the bench: the labels hold no beard, no mustache and no
clear spectacles, so those outputs are unvalidated beyond staying low on bare faces;
points that miss the eyes (YuNet on large, tilted faces scaled to 640) move every region.

bench/appearance_accuracy.py measures the accuracy on the hand-labelled evaluation
photos (tests/data/face_labels.json) and refits the curves with `--fit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Canonical crop: eye distance UNIT px, eye midpoint at (CENTRE_X, EYE_Y); tall enough
# to hold the chin (~1.6 eye distances below the eyes) and some forehead.
UNIT = 48.0
CROP_W, CROP_H = 128, 160
CENTRE_X, EYE_Y = 64.0, 56.0

# Chromaticity (r, g) of grey, and the least skin saturation (distance from grey) that
# still says the photo has colour (grey-scale photos give 0; the palest skin under
# white light in the evaluation photos gives 0.015).
NEUTRAL = np.array([1.0 / 3.0, 1.0 / 3.0], dtype=np.float32)
MIN_SKIN_SATURATION = 0.01

# Beyond this nose offset (eye distances) the bridge strips no longer lie on the nose.
MAX_BRIDGE_YAW = 0.35

# Where the five points sit in the canonical crop, in eye distances from the eye
# midpoint; the median of YuNet's points over the evaluation faces.
TEMPLATE = np.array([[-0.5, 0.0], [0.5, 0.0], [0.0, 0.6], [-0.43, 1.05], [0.43, 1.05]], dtype=np.float64)


@dataclass(frozen=True)
class Appearance:
    eyeglasses: float
    sunglasses: float
    beard: float
    mustache: float
    occluded: float


@dataclass(frozen=True)
class Measurements:
    """The raw numbers behind each probability (kept for the benchmark and tests)."""

    lens_dark: float
    bridge_line: float
    chin_dark: float
    lip_dark: float
    lower_off_skin: float


@dataclass(frozen=True)
class Logistic:
    """p = 1 / (1 + exp(-(x - midpoint) / scale))."""

    midpoint: float
    scale: float

    def __call__(self, x: float) -> float:
        z = float(np.clip((x - self.midpoint) / self.scale, -50.0, 50.0))  # no overflow
        return 1.0 / (1.0 + float(np.exp(-z)))


# Printed by `python bench/appearance_accuracy.py --fit`: maximum a posteriori logistic
# fits (class-balanced log-loss plus a Gaussian prior on midpoint and log scale, see the
# bench) on the 43 hand-labelled faces of tests/data/face_labels.json, each measured
# twice (five points from YuNet at full size and at the product's 640 scale), plus,
# for `occluded`, 152 copies of those faces with insightface's mask textures pasted on.
# The labels hold one sunglasses face (also the one eyeglasses face) and no beard or
# mustache at all, so those four curves rest mostly on their priors and on keeping the
# bare faces below 0.5; the bench's leave-one-photo-out table is the honest accuracy.
CURVES: dict[str, Logistic] = {
    "eyeglasses": Logistic(2.4, 0.7339),
    "sunglasses": Logistic(0.492, 0.037),
    "beard": Logistic(0.548, 0.0452),
    "mustache": Logistic(0.542, 0.043),
    "occluded": Logistic(0.516, 0.0951),
}


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation+scale+shift taking src points onto dst, as a 2x3 matrix.

    Written with complex numbers: dst = a * src + b, solved in closed form.
    """
    zs = src[:, 0] + 1j * src[:, 1]
    zd = dst[:, 0] + 1j * dst[:, 1]
    ms, md = zs.mean(), zd.mean()
    a = np.sum((zd - md) * np.conj(zs - ms)) / max(float(np.sum(np.abs(zs - ms) ** 2)), 1e-9)
    b = md - a * ms
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]], dtype=np.float64)


def canonical_transform(five_points: np.ndarray) -> np.ndarray:
    """The 2x3 matrix taking image pixels into the canonical crop."""
    points = np.asarray(five_points, dtype=np.float64).reshape(5, 2)
    target = TEMPLATE * UNIT + np.array([CENTRE_X, EYE_Y])
    return _similarity(points, target)


def _crop(image_rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """The canonical crop as float32 RGB 0-255."""
    rgb = image_rgb if image_rgb.ndim == 3 else np.repeat(image_rgb[..., None], 3, axis=2)
    shrinking = matrix[0, 0] ** 2 + matrix[1, 0] ** 2 < 1.0  # area filter only when shrinking
    crop = cv2.warpAffine(
        np.ascontiguousarray(rgb[..., :3]),
        matrix,
        (CROP_W, CROP_H),
        flags=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return crop.astype(np.float32)


class _Regions:
    """Rectangles in the canonical crop, in eye distances, anchored on warped points."""

    def __init__(self, warped: np.ndarray) -> None:
        self.eyes = warped[:2]
        self.nose = warped[2]
        self.mouth = (warped[3] + warped[4]) / 2.0
        self.mouth_half = max(abs(warped[4, 0] - warped[3, 0]) / 2.0, 0.2 * UNIT)
        self.mid_x = (self.eyes[0, 0] + self.eyes[1, 0]) / 2.0

    @staticmethod
    def box(cx: float, cy: float, half_w: float, half_h: float) -> tuple[slice, slice]:
        x1 = int(np.clip(round(cx - half_w), 0, CROP_W - 1))
        x2 = int(np.clip(round(cx + half_w), x1 + 1, CROP_W))
        y1 = int(np.clip(round(cy - half_h), 0, CROP_H - 1))
        y2 = int(np.clip(round(cy + half_h), y1 + 1, CROP_H))
        return slice(y1, y2), slice(x1, x2)

    def cheeks(self) -> list[tuple[slice, slice]]:
        # Below each eye at the nose tip's height: under large sunglasses, above a beard.
        cy = self.nose[1] + 0.02 * UNIT
        return [
            self.box(self.eyes[0, 0] - 0.03 * UNIT, cy, 0.13 * UNIT, 0.1 * UNIT),
            self.box(self.eyes[1, 0] + 0.03 * UNIT, cy, 0.13 * UNIT, 0.1 * UNIT),
        ]

    def lenses(self) -> list[tuple[slice, slice]]:
        return [self.box(x, y + 0.03 * UNIT, 0.24 * UNIT, 0.16 * UNIT) for x, y in self.eyes]

    def bridge(self) -> tuple[slice, slice]:
        # From brow height down to just below the eye line: frames sit anywhere there.
        eye_y = self.eyes[:, 1].mean()
        return self.box(self.mid_x, eye_y - 0.12 * UNIT, 0.1 * UNIT, 0.24 * UNIT)

    def yaw(self) -> float:
        """Nose tip's sideways offset from the eyes' midpoint, in eye distances."""
        return float(self.nose[0] - self.mid_x) / UNIT

    def upper_lip(self) -> tuple[slice, slice]:
        gap = self.mouth[1] - self.nose[1]
        return self.box(self.mouth[0], self.nose[1] + 0.6 * gap, 0.7 * self.mouth_half, 0.17 * gap)

    def chin_and_jaw(self) -> list[tuple[slice, slice]]:
        below = self.mouth[1]
        return [
            self.box(self.mouth[0], below + 0.45 * UNIT, 0.6 * self.mouth_half, 0.1 * UNIT),
            *(
                self.box(
                    self.mouth[0] + side * 1.25 * self.mouth_half,
                    below + 0.12 * UNIT,
                    0.1 * UNIT,
                    0.14 * UNIT,
                )
                for side in (-1.0, 1.0)
            ),
        ]

    def upper_skin(self) -> list[tuple[slice, slice]]:
        # Candidate skin patches above where a mask reaches: between the eyes, just under
        # each eye, above each brow and mid-forehead. Hair, glare, a frame or a lens spoil
        # some of them; the caller keeps the most typical one.
        top = self.eyes[:, 1].mean()
        return [
            self.box(self.mid_x, top + 0.02 * UNIT, 0.08 * UNIT, 0.1 * UNIT),
            self.box(self.eyes[0, 0], self.eyes[0, 1] + 0.22 * UNIT, 0.14 * UNIT, 0.05 * UNIT),
            self.box(self.eyes[1, 0], self.eyes[1, 1] + 0.22 * UNIT, 0.14 * UNIT, 0.05 * UNIT),
            self.box(self.mid_x, top - 0.5 * UNIT, 0.2 * UNIT, 0.08 * UNIT),
            self.box(self.eyes[0, 0], top - 0.45 * UNIT, 0.12 * UNIT, 0.07 * UNIT),
            self.box(self.eyes[1, 0], top - 0.45 * UNIT, 0.12 * UNIT, 0.07 * UNIT),
        ]

    def lower_face(self) -> np.ndarray:
        """A mask of nose-to-chin across the face, without the mouth itself."""
        mask = np.zeros((CROP_H, CROP_W), dtype=bool)
        top, bottom = self.nose[1] - 0.1 * UNIT, self.mouth[1] + 0.4 * UNIT
        half_w = self.mouth_half + 0.25 * UNIT
        mask[self.box(self.mouth[0], (top + bottom) / 2, half_w, (bottom - top) / 2)] = True
        # Lips and teeth are not skin-coloured either: leave the (possibly open) mouth out.
        mask[
            self.box(
                self.mouth[0],
                self.mouth[1] + 0.04 * UNIT,
                self.mouth_half + 0.05 * UNIT,
                0.16 * UNIT,
            )
        ] = False
        return mask


def _pixels(channel: np.ndarray, regions: list[tuple[slice, slice]]) -> np.ndarray:
    return np.concatenate([channel[r].ravel() for r in regions])


def _chromaticity(rgb: np.ndarray) -> np.ndarray:
    """(r, g) = (R, G) / (R + G + B): colour without brightness, so shade does not count."""
    # Adding 10 to each channel calms near-black pixels and keeps grey at exactly 1/3.
    chroma: np.ndarray = (rgb[..., :2] + 10.0) / (rgb.sum(axis=-1, keepdims=True) + 30.0)
    return chroma


def _off_skin_share(chroma: np.ndarray, lightness: np.ndarray, regions: _Regions) -> float:
    """Share of lower-face pixels whose colour is not the upper face's skin colour.

    Colours are (r, g) chromaticities taken from neutral grey, so each is a direction
    (hue) and a length (saturation). Skin keeps its hue from forehead to chin and is, if
    anything, more saturated in shade; fabric is either another hue (blue, green) or
    nearly neutral (white, black, grey). A pixel is off-skin when it is much less
    saturated than the skin along the skin's hue, or turned more than 45 degrees away.
    """
    bright = [float(np.median(lightness[r])) for r in regions.upper_skin()]
    # Dark lenses and dark hair are not skin: keep the patches at least half as light as
    # the lightest, then take their medoid, since glare or a frame spoil one or two.
    patches = [
        np.median(chroma[r].reshape(-1, 2), axis=0) - NEUTRAL
        for r, light in zip(regions.upper_skin(), bright, strict=True)
        if light >= 0.5 * max(bright)
    ]
    skin = min(patches, key=lambda c: sum(float(np.hypot(*(c - o))) for o in patches))
    saturation = float(np.hypot(skin[0], skin[1]))
    if saturation < MIN_SKIN_SATURATION:
        return 0.0  # a grey-scale photo: colour cannot tell skin from fabric
    along = skin / saturation
    lower = chroma[regions.lower_face()] - NEUTRAL
    parallel = lower @ along
    across = np.abs(lower @ np.array([-along[1], along[0]]))
    off = (parallel < 0.4 * saturation) | ((across > parallel) & (across > 0.015))
    return float(np.mean(off))


def measure(image_rgb: np.ndarray, five_points: np.ndarray) -> Measurements:
    matrix = canonical_transform(five_points)
    rgb = _crop(image_rgb, matrix)
    lightness = cv2.cvtColor(rgb / 255.0, cv2.COLOR_RGB2LAB)[..., 0]
    points = np.asarray(five_points, dtype=np.float64).reshape(5, 2)
    warped = points @ matrix[:, :2].T + matrix[:, 2]
    regions = _Regions(warped)

    # The lit cheek is the reference: one side may be in shadow or under a lens.
    cheek = max(max(float(np.median(lightness[r])) for r in regions.cheeks()), 5.0)
    forehead = float(np.median(lightness[regions.upper_skin()[3]]))

    # Sunglasses: a lens darkens its whole area, a bare eye only its opening, so the
    # 75th percentile of lightness there stays near skin for a bare eye. The lighter
    # eye counts; the reference includes the forehead since big lenses shade cheeks.
    lens_light = max(float(np.percentile(lightness[r], 75)) for r in regions.lenses())
    lens_dark = 1.0 - lens_light / max(cheek, forehead)

    # Eyeglasses: a frame's bridge is a horizontal bar across the nose. The vertical
    # gradient is averaged along rows in three side-by-side strips; a bar lifts the same
    # row in all three (the weakest strip counts), a slanting nose edge or a brow does
    # not. Divided by the cheek's mean gradient so contrast and noise do not count. On a
    # face turned so far that the strips leave the nose, the number means nothing.
    bridge_line = 0.0
    if abs(regions.yaw()) <= MAX_BRIDGE_YAW:
        gy = np.abs(cv2.Sobel(lightness, cv2.CV_32F, 0, 1, ksize=3))
        gx = np.abs(cv2.Sobel(lightness, cv2.CV_32F, 1, 0, ksize=3))
        bridge = gy[regions.bridge()]
        strips = np.array_split(bridge, 3, axis=1)
        row_strength = np.min([strip.mean(axis=1) for strip in strips], axis=0)
        cheek_grad = float(np.mean(_pixels(np.hypot(gx, gy), regions.cheeks())))
        bridge_line = float(row_strength.max()) / (cheek_grad + 2.0)

    # Beard: chin and jaw darker than the cheeks.
    chin_dark = 1.0 - float(np.median(_pixels(lightness, regions.chin_and_jaw()))) / cheek

    # Mustache: the band between nose tip and upper lip darker than the cheeks.
    lip_dark = 1.0 - float(np.median(lightness[regions.upper_lip()])) / cheek

    lower_off_skin = _off_skin_share(_chromaticity(rgb), lightness, regions)

    return Measurements(lens_dark, bridge_line, chin_dark, lip_dark, lower_off_skin)


def measure_appearance(
    image_rgb: np.ndarray, box: tuple[float, float, float, float], five_points: np.ndarray
) -> Appearance:
    """Probabilities in [0, 1]. `box` is unused: the five points place every region."""
    del box
    return appearance_from(measure(image_rgb, five_points))


def appearance_from(m: Measurements) -> Appearance:
    """The measurements' probabilities (the learned heads also read `m` itself)."""
    sunglasses = CURVES["sunglasses"](m.lens_dark)
    return Appearance(
        eyeglasses=max(CURVES["eyeglasses"](m.bridge_line), sunglasses),
        sunglasses=sunglasses,
        beard=CURVES["beard"](m.chin_dark),
        mustache=CURVES["mustache"](m.lip_dark),
        occluded=CURVES["occluded"](m.lower_off_skin),
    )
