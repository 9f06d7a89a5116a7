"""Quarter turns of a photo, and geometry found in a turned copy mapped back to the stored one.

Photos stored sideways or upside down without an EXIF orientation hold faces that the
detector, trained on upright faces, does not find. The analyser then looks in turned
copies; whatever it finds there (boxes, five points, mesh) is mapped back here, so
every answer stays in the stored image's frame, as Rekognition reports positions in
an image it did not correct.

A turn is `numpy.rot90(image, turns)`: `turns` quarter turns counterclockwise. In
continuous pixel coordinates (a pixel spans [x, x + 1)) of a stored image W wide and H
high, a point (x, y) lands at:

* 1 turn: (y, W - x)
* 2 turns: (W - x, H - y)
* 3 turns: (H - y, x)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from openrek.inference.faces.detector import FaceDetections


def turn(image: np.ndarray, turns: int) -> np.ndarray:
    """The image turned `turns` quarter turns counterclockwise (a contiguous copy)."""
    return np.ascontiguousarray(np.rot90(image, turns % 4))


def points_to_stored(points: np.ndarray, turns: int, width: int, height: int) -> np.ndarray:
    """Points (..., 2 or more; x and y first) of the turned image, in the stored image.

    `width` and `height` are the stored image's. Columns after x and y (a mesh's depth)
    are kept as they are: a turn in the image plane does not change depth.
    """
    turned = np.asarray(points)
    stored = turned.astype(np.float32, copy=True)
    x, y = turned[..., 0], turned[..., 1]
    turns %= 4
    if turns == 1:
        stored[..., 0], stored[..., 1] = width - y, x
    elif turns == 2:
        stored[..., 0], stored[..., 1] = width - x, height - y
    elif turns == 3:
        stored[..., 0], stored[..., 1] = y, height - x
    return stored


def boxes_to_stored(boxes: np.ndarray, turns: int, width: int, height: int) -> np.ndarray:
    """Boxes (n, 4: x1, y1, x2, y2) of the turned image, in the stored image.

    A quarter turn keeps boxes axis-aligned: the mapped corners span the same box.
    """
    corners = points_to_stored(np.asarray(boxes).reshape(-1, 2, 2), turns, width, height)
    return np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1).astype(np.float32)


def detect_turned(
    detect: Callable[[np.ndarray], FaceDetections], turns: int
) -> Callable[[np.ndarray], FaceDetections]:
    """`detect` run on the image turned by `turns`, its detections mapped back.

    Refining the points of a face that was found turned (detector.refine_points) needs
    the detector to see that face upright again.
    """

    def detect_in_stored_frame(image_rgb: np.ndarray) -> FaceDetections:
        height, width = image_rgb.shape[:2]
        found = detect(turn(image_rgb, turns))
        return FaceDetections(
            boxes_to_stored(found.boxes, turns, width, height),
            found.scores,
            points_to_stored(found.points, turns, width, height),
        )

    return detect_in_stored_frame
