"""Face image quality as Rekognition reports it: Brightness and Sharpness, 0-100.

Both are measurements, not model outputs:
- Brightness: mean BT.601 luma of the face box, as a percentage of 255.
- Sharpness: the variance v of the Laplacian of the face, scaled to 128x128 grey
  (so the number does not depend on face size), mapped as 50 * log10(v / 5) and
  clipped to 0-100. Measured on the evaluation photos (docs/models.md): sharp faces
  give v = 92-672 (64-100), the same faces under a Gaussian blur of sigma 1 px at
  that scale give v = 28-113 (37-67), sigma 2 px give v = 8-32 (10-40).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SHARPNESS_SIDE = 128


@dataclass(frozen=True)
class FaceQuality:
    brightness: float
    sharpness: float


def face_crop(image_rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    height, width = image_rgb.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(width, max(x1 + 1, round(box[2]))), min(height, max(y1 + 1, round(box[3])))
    return image_rgb[y1:y2, x1:x2]


def measure_quality(image_rgb: np.ndarray, box: tuple[float, float, float, float]) -> FaceQuality:
    grey = cv2.cvtColor(face_crop(image_rgb, box), cv2.COLOR_RGB2GRAY)
    brightness = float(grey.mean()) / 255.0 * 100.0
    scaled = cv2.resize(grey, (SHARPNESS_SIDE, SHARPNESS_SIDE), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(scaled, cv2.CV_64F).var())
    sharpness = 50.0 * np.log10(max(variance, 1e-6) / 5.0)
    return FaceQuality(brightness, float(np.clip(sharpness, 0.0, 100.0)))
