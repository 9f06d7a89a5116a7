"""MediaPipe Face Landmarker (Apache-2.0): the 478-point mesh and 52 blendshapes.

The crop reproduces MediaPipe's CPU path for a face found by a detector:

* ROI (mediapipe/modules/face_landmark/face_detection_front_detection_to_roi.pbtxt):
  the detection box centre, rotated so the eye line is level
  (DetectionsToRectsCalculator, start keypoint = image-left eye, end = image-right
  eye, target angle 0), made square on its longer side and scaled by 1.5
  (RectTransformationCalculator scale_x/scale_y 1.5, square_long).
* Tensor (ImageToTensorCalculator via tasks' ImagePreprocessingGraph): the rotated
  square is warped onto 256x256 with bilinear sampling and replicated borders (the
  calculator's default border mode), RGB scaled to [0, 1] (the model's metadata
  normalisation is mean 0, std 255).
* Outputs (face_landmarks_detector_graph.cc): tensor 0 holds 478 x (x, y, z) in
  input-tensor pixels, tensor 1 the face-presence logit (TensorsToFloatsCalculator
  with SIGMOID). Points are projected back with the inverse of the crop
  (LandmarkProjectionCalculator), z scaled like x.
* Blendshapes (face_blendshapes_graph.cc): 146 of the points, (x, y) only, in
  pixels of the whole image (LandmarksToTensorCalculator multiplies the normalised
  landmarks by the image size), one (1, 146, 2) tensor; 52 scores out.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from openrek.inference.faces.pose import head_pose
from openrek.inference.session import Session

__all__ = ["BLENDSHAPE_NAMES", "FaceMesh", "MeshResult", "head_pose"]

NUM_POINTS = 478
ROI_SCALE = 1.5

# Order of the 146 mesh points the blendshape model reads (MediaPipe
# face_blendshapes_graph.cc, kLandmarksSubsetIdxs).
BLENDSHAPE_POINTS = np.array(
    [
        0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39, 40, 46, 52, 53, 54, 55, 58,
        61, 63, 65, 66, 67, 70, 78, 80, 81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107,
        109, 127, 132, 133, 136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157,
        158, 159, 160, 161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197,
        234, 246, 249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293,
        295, 296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
        336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382, 384,
        385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454, 466, 468,
        469, 470, 471, 472, 473, 474, 475, 476, 477,
    ],
    dtype=np.int64,
)  # fmt: skip

# The model's 52 outputs in order (ARKit names; "Left"/"Right" are the subject's).
BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight",
    "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight",
    "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)  # fmt: skip


Box = tuple[float, float, float, float]
Eyes = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class MeshResult:
    points: np.ndarray  # (478, 3) float32: x, y in image pixels, z in pixels like x
    presence: float  # probability in [0, 1] that the crop holds a face
    # BLENDSHAPE_NAMES -> score in [0, 1]; None where they were not asked for (the
    # blendshape model is a second invocation per face that only expressions read).
    blendshapes: dict[str, float] | None


def roi_to_tensor(
    box: tuple[float, float, float, float],
    eyes: tuple[tuple[float, float], tuple[float, float]],
    size: int,
) -> tuple[np.ndarray, float]:
    """The 2x3 affine from image pixels to the model's square input, and the ROI side.

    Corners of the rotated square map onto tensor corners 0 and `size`, as
    ImageToTensorCalculator's OpenCV path maps cv::RotatedRect box points.
    """
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    side = max(x2 - x1, y2 - y1) * ROI_SCALE
    (lx, ly), (rx, ry) = eyes
    # Image y grows downwards, so this is the clockwise tilt of the eye line.
    angle = np.arctan2(ry - ly, rx - lx)
    cos, sin = np.cos(angle), np.sin(angle)
    half = side / 2.0

    def corner(u: float, v: float) -> list[float]:
        return [cx + cos * u - sin * v, cy + sin * u + cos * v]

    source = np.array([corner(-half, -half), corner(half, -half), corner(-half, half)], dtype=np.float32)
    target = np.array([[0, 0], [size, 0], [0, size]], dtype=np.float32)
    return cv2.getAffineTransform(source, target), float(side)


def _sigmoid(value: float) -> float:
    return float(1.0 / (1.0 + np.exp(-value)))


class FaceMesh:
    def __init__(self, landmarks: Session, blendshapes: Session, parallel_faces: int = 1) -> None:
        """`parallel_faces`: how many faces of one photo are landmarked side by side."""
        self._landmarks = landmarks
        self._blendshapes = blendshapes
        # The faces of one photo are independent, and the landmark model is the largest
        # per-face cost (5-6 ms a face here). LiteRT's own threads split one face's small
        # convolutions and could not be shown to help; whole faces split cleanly, and the
        # interpreter lets go of the GIL while it runs. Each pool thread gets its own
        # interpreter (TfliteSession is per thread).
        self._pool = (
            ThreadPoolExecutor(parallel_faces, thread_name_prefix="openrek-mesh")
            if parallel_faces > 1
            else None
        )
        shape = tuple(landmarks.input_shapes[0])
        if len(shape) != 4 or shape[3] != 3 or shape[1] != shape[2]:
            raise ValueError(f"landmark model takes {shape}, expected (1, S, S, 3)")
        self._size = int(shape[1])  # type: ignore[arg-type]
        blend_shape = tuple(blendshapes.input_shapes[0])
        if blend_shape[-2:] != (len(BLENDSHAPE_POINTS), 2):
            raise ValueError(f"blendshape model takes {blend_shape}, expected (1, 146, 2)")

    def predict(self, image_rgb: np.ndarray, box: Box, eyes: Eyes, blendshapes: bool = True) -> MeshResult:
        """Mesh, presence and (when asked) blendshapes for the face in `box` (x1, y1, x2, y2 pixels).

        `eyes` are the detector's (image-left eye, image-right eye) centres in pixels;
        they only set the crop's rotation.
        """
        return self.predict_many(image_rgb, [(box, eyes)], blendshapes)[0]

    def predict_many(
        self, image_rgb: np.ndarray, faces: Sequence[tuple[Box, Eyes]], blendshapes: bool
    ) -> list[MeshResult]:
        """`predict` for several faces of one image.

        One landmark invocation per face, `parallel_faces` at a time. The model's batch
        dimension is free and LiteRT can resize it, but batching was measured
        (docs/models.md, "Per-face cost"): on CPU a batch costs what its faces cost one
        by one, and resizing the interpreter to each photo's face count adds about 3 ms
        a photo."""
        if not faces:
            return []
        crops = np.empty((len(faces), self._size, self._size, 3), dtype=np.float32)
        inverses, sides = [], []
        for n, (box, eyes) in enumerate(faces):
            matrix, side = roi_to_tensor(box, eyes, self._size)
            crop = cv2.warpAffine(
                image_rgb,
                matrix,
                (self._size, self._size),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            )
            np.multiply(crop, np.float32(1.0 / 255.0), out=crops[n], casting="unsafe")
            inverses.append(cv2.invertAffineTransform(matrix))
            sides.append(side)
        if self._pool is not None and len(crops) > 1:
            landmarked = list(self._pool.map(self._landmark, crops))
        else:
            landmarked = [self._landmark(crop) for crop in crops]
        raw_all = [raw for raw, _ in landmarked]
        logits = [logit for _, logit in landmarked]

        results = []
        for raw, logit, inverse, side in zip(raw_all, logits, inverses, sides, strict=True):
            points = np.empty((NUM_POINTS, 3), dtype=np.float32)
            points[:, :2] = raw[:, :2] @ inverse[:, :2].T + inverse[:, 2]
            points[:, 2] = raw[:, 2] * (side / self._size)
            results.append(
                MeshResult(
                    points=points,
                    presence=_sigmoid(float(logit)),
                    blendshapes=self._blendshapes_of(points) if blendshapes else None,
                )
            )
        return results

    def _landmark(self, crop: np.ndarray) -> tuple[np.ndarray, float]:
        """Raw points (in input-tensor pixels) and the presence logit of one face crop."""
        outputs = self._landmarks.run({self._landmarks.input_names[0]: crop[None]})
        return outputs[0].reshape(NUM_POINTS, 3), float(outputs[1].ravel()[0])

    def _blendshapes_of(self, points: np.ndarray) -> dict[str, float]:
        # The blendshape model's batch is fixed at 1 (LiteRT refuses to resize it).
        subset = points[BLENDSHAPE_POINTS, :2][None].astype(np.float32)
        scores = self._blendshapes.run({self._blendshapes.input_names[0]: subset})[0].ravel()
        return {name: float(score) for name, score in zip(BLENDSHAPE_NAMES, scores, strict=True)}
