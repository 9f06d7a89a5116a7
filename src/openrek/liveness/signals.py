"""The measurements a liveness verdict is made of, each from real pixels.

Per frame (`measure_frame`): the largest face's box and 468 mesh points (the project's
YuNet detector and MediaPipe mesh), the mean colour of the face's middle and of the
background beside and above it, and how closed the eyes are.

Over the capture:
- `approach`: how much wider the face became between the start and the end, and
  whether it ended in the challenge's oval;
- `non_planarity`: how far the mesh points of two frames are from being one plane seen
  twice. Any picture of a face (a print, a screen), however it is moved or tilted in
  front of the camera, maps frame to frame by a homography, up to landmark noise; a
  real head does not (it turns, its expression moves, its nose comes closer faster
  than its ears);
- `flash_response`: whether the colour of the face, relative to the background,
  follows the colours the page flashed. A face a few tens of centimetres from a screen
  reflects its light; a background a metre or more away, much less; a print or a
  screen held up to the camera is lit evenly, face and surround alike, and a recorded
  video shows the flashes of another session if any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.faces.analyzer import FaceAnalyzer

MESH_POINTS = 468  # the face mesh without the iris points (their depth is not modelled)
# Mesh indices of the outer eye corners: the face's scale for landmark residuals.
OUTER_EYE_CORNERS = (33, 263)
# The part of the face box whose colour is measured: the middle, clear of hair and
# of the background at its edges.
FACE_PATCH = (0.25, 0.75, 0.2, 0.85)  # left, right, top, bottom as ratios of the box
# The background is what lies outside the face box grown by this much on each side.
BACKGROUND_MARGIN = 0.35


@dataclass(frozen=True)
class FaceMeasure:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels
    score: float
    points: np.ndarray  # (468, 2) mesh points in pixels
    face_rgb: tuple[float, float, float]  # mean colour of the face patch, 0-255
    background_rgb: tuple[float, float, float] | None  # None: too little background in view
    eyes_closed: float  # mean of the two eyeBlink blendshapes, 0-1

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def eye_span(self) -> float:
        left, right = self.points[OUTER_EYE_CORNERS[0]], self.points[OUTER_EYE_CORNERS[1]]
        return float(np.hypot(*(right - left)))


@dataclass(frozen=True)
class FrameMeasure:
    timestamp_ms: float
    flash: int | None  # index of the flash shown when the frame was taken
    width: int
    height: int
    face: FaceMeasure | None  # the largest face, if any


def _mean_rgb(pixels: np.ndarray) -> tuple[float, float, float]:
    mean = pixels.reshape(-1, 3).mean(axis=0)
    return float(mean[0]), float(mean[1]), float(mean[2])


def measure_frame(
    faces: FaceAnalyzer, image_rgb: np.ndarray, timestamp_ms: float, flash: int | None
) -> FrameMeasure:
    height, width = image_rgb.shape[:2]
    found = faces.detector.detect(image_rgb)
    if len(found) == 0:
        return FrameMeasure(timestamp_ms, flash, width, height, None)
    areas = (found.boxes[:, 2] - found.boxes[:, 0]) * (found.boxes[:, 3] - found.boxes[:, 1])
    i = int(np.argmax(areas))
    x1, y1, x2, y2 = (float(v) for v in found.boxes[i])
    eyes = ((float(found.points[i, 0, 0]), float(found.points[i, 0, 1])),
            (float(found.points[i, 1, 0]), float(found.points[i, 1, 1])))  # fmt: skip
    mesh = faces.mesh.predict(image_rgb, (x1, y1, x2, y2), eyes, blendshapes=True)
    w, h = x2 - x1, y2 - y1
    left, right, top, bottom = FACE_PATCH
    patch = image_rgb[
        max(0, int(y1 + top * h)) : max(1, int(y1 + bottom * h)),
        max(0, int(x1 + left * w)) : max(1, int(x1 + right * w)),
    ]
    if patch.size == 0:
        return FrameMeasure(timestamp_ms, flash, width, height, None)
    # Background: every pixel outside the grown box and above the chin (below it is
    # neck and clothes, as close to the screen as the face).
    outside = np.ones((height, width), dtype=bool)
    gx, gy = BACKGROUND_MARGIN * w, BACKGROUND_MARGIN * h
    outside[max(0, int(y1 - gy)) :, max(0, int(x1 - gx)) : min(width, int(x2 + gx))] = False
    outside[int(min(height, max(0, y2))) :, :] = False
    background = image_rgb[outside] if outside.sum() >= 0.02 * width * height else None
    shapes = mesh.blendshapes or {}
    blink = (shapes.get("eyeBlinkLeft", 0.0) + shapes.get("eyeBlinkRight", 0.0)) / 2
    return FrameMeasure(
        timestamp_ms,
        flash,
        width,
        height,
        FaceMeasure(
            box=(x1, y1, x2, y2),
            score=float(found.scores[i]),
            points=mesh.points[:MESH_POINTS, :2].astype(np.float64),
            face_rgb=_mean_rgb(patch),
            background_rgb=None if background is None else _mean_rgb(background),
            eyes_closed=float(blink),
        ),
    )


@dataclass(frozen=True)
class Approach:
    growth: float  # face width at the end over face width at the start
    end_width: float  # face width at the end, as a ratio of the frame's width
    end_centre: tuple[float, float]  # face box centre at the end, ratios of the frame


def approach(frames: Sequence[FrameMeasure]) -> Approach | None:
    """Start and end are the medians of the first and last fifth of the frames with a face."""
    seen = [f for f in frames if f.face is not None]
    if len(seen) < 5:
        return None
    part = max(1, len(seen) // 5)
    first, last = seen[:part], seen[-part:]
    start = float(np.median([f.face.width for f in first if f.face]))
    end = float(np.median([f.face.width for f in last if f.face]))
    cx = float(np.median([(f.face.box[0] + f.face.box[2]) / 2 / f.width for f in last if f.face]))
    cy = float(np.median([(f.face.box[1] + f.face.box[3]) / 2 / f.height for f in last if f.face]))
    return Approach(end / max(start, 1.0), end / last[-1].width, (cx, cy))


def _homography_residual(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    """RMS distance, in units of `scale`, between b and a mapped by the homography that
    fits them best (least squares over all points)."""
    matrix, _ = cv2.findHomography(a, b, 0)
    if matrix is None:
        return 0.0
    mapped = cv2.perspectiveTransform(a.reshape(-1, 1, 2), matrix).reshape(-1, 2)
    return float(np.sqrt(((mapped - b) ** 2).sum(axis=1).mean()) / scale)


def non_planarity(frames: Sequence[FrameMeasure], pairs: int = 24) -> float | None:
    """The 75th percentile, over pairs of frames apart in time, of how far their mesh
    points are from a homography of each other, in outer-eye-corner spans."""
    seen = [f.face for f in frames if f.face is not None]
    if len(seen) < 4:
        return None
    gap = max(1, len(seen) // 4)
    starts = np.linspace(0, len(seen) - 1 - gap, num=min(pairs, len(seen) - gap)).round().astype(int)
    residuals = [
        _homography_residual(seen[i].points, seen[i + gap].points, max(seen[i + gap].eye_span, 1.0))
        for i in sorted(set(starts.tolist()))
    ]
    return float(np.percentile(residuals, 75))


@dataclass(frozen=True)
class FlashResponse:
    correlation: float  # Pearson, face-minus-background chroma against the flashed colours
    gain: float  # least-squares slope of the same: the share of flash light the face shows
    flashes_seen: int  # flashes with at least one usable frame


def _chroma(rgb: tuple[float, float, float]) -> np.ndarray:
    r, g, b = (max(v, 1.0) for v in rgb)
    return np.array([np.log(r / g), np.log(b / g)])


def flash_response(frames: Sequence[FrameMeasure], colors: Sequence[tuple[int, int, int]]) -> FlashResponse:
    """How the face's chroma (log R/G, log B/G), less the background's, follows the
    flashes: a face lit by a screen of colour (r, g, b) shifts by about k(r-g, b-g).

    Each flash's frames are averaged, leaving out the first of each when there are
    more (the camera delivers a frame taken a little before the page recorded the
    colour); a straight-line drift over the sequence (white balance, exposure) is
    removed first.
    """
    usable = [f for f in frames if f.flash is not None and f.face is not None and f.face.background_rgb]
    if len(usable) < 3 or not colors:
        return FlashResponse(0.0, 0.0, 0)
    times = np.array([f.timestamp_ms for f in usable], dtype=np.float64)
    shift = np.array(
        [
            _chroma(f.face.face_rgb) - _chroma(f.face.background_rgb)
            for f in usable
            if f.face and f.face.background_rgb
        ]
    )
    # Remove a straight-line drift in each chroma channel.
    design = np.stack([np.ones_like(times), times - times.mean()], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, shift, rcond=None)
    shift = shift - design @ coefficients
    observed, expected = [], []
    for index, color in enumerate(colors):
        rows = [k for k, f in enumerate(usable) if f.flash == index]
        if len(rows) > 1:
            rows = rows[1:]
        if not rows:
            continue
        observed.append(shift[rows].mean(axis=0))
        r, g, b = (c / 255.0 for c in color)
        expected.append((r - g, b - g))
    if len(observed) < 3:
        return FlashResponse(0.0, 0.0, len(observed))
    o = np.array(observed) - np.mean(observed, axis=0)
    e = np.array(expected) - np.mean(expected, axis=0)
    o_flat, e_flat = o.ravel(), e.ravel()
    norm = float(np.linalg.norm(o_flat) * np.linalg.norm(e_flat))
    correlation = float(o_flat @ e_flat / norm) if norm > 0 else 0.0
    gain = float(o_flat @ e_flat / max(float(e_flat @ e_flat), 1e-9))
    return FlashResponse(correlation, gain, len(observed))
