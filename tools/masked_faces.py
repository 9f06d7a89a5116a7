"""Masked faces for the PPE tests and bench, made from real photos and real masks.

No photo of a person wearing a mask ships in any registry package we can reach.
InsightFace ships four photos of surgical masks (black, blue, green, white) for
exactly this use: its training pipeline renders them onto faces. We do the same,
more simply: each mask photo is warped onto the lower face that MediaPipe's face
mesh finds (from the nose bridge down to the chin, cheek to cheek) and blended in
with a soft edge. The faces and the masks are real photos; the composite is not,
and every number measured on it says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from openrek.inference.faces.analyzer import FaceAnalysis

MASK_COLOURS = ("black", "blue", "green", "white")

# MediaPipe face-mesh indices. The mask's top edge runs across the nose bridge
# (168 between the eyes is too high, 6 just below it) to the cheeks level with it;
# the lower edge follows the face oval under the chin.
NOSE_BRIDGE = 6
CHEEK_TOP = (234, 454)  # image-left cheek, image-right cheek (subject's right, left)
OVAL_BELOW = (
    234,
    93,
    132,
    58,
    172,
    136,
    150,
    149,
    176,
    148,
    152,
    377,
    400,
    378,
    379,
    365,
    397,
    288,
    361,
    323,
    454,
)


def mask_polygon(mesh_points: np.ndarray) -> np.ndarray:
    """The outline a worn surgical mask covers, in image pixels: (n, 2) float32."""
    points = mesh_points[:, :2]
    bridge = points[NOSE_BRIDGE]
    left, right = points[CHEEK_TOP[0]], points[CHEEK_TOP[1]]
    # Raise the cheek corners to the bridge's height so the top edge is straight
    # across the face, as a mask's wire is.
    top_left = np.array([left[0], min(left[1], bridge[1])])
    top_right = np.array([right[0], min(right[1], bridge[1])])
    outline = [top_left, bridge, top_right] + [points[i] for i in reversed(OVAL_BELOW[1:-1])]
    return np.asarray(outline, dtype=np.float32)


def put_on_mask(image_rgb: np.ndarray, mesh_points: np.ndarray, mask_rgb: np.ndarray) -> np.ndarray:
    """`image_rgb` with the mask photo warped onto the face whose mesh is given."""
    polygon = mask_polygon(mesh_points)
    x1, y1 = polygon.min(0)
    x2, y2 = polygon.max(0)
    # A perspective warp of the mask photo onto the face's lower box, tilted with the
    # face: its top corners on the cheeks, its bottom corners below them at the chin.
    points = mesh_points[:, :2]
    left, right, chin = points[CHEEK_TOP[0]], points[CHEEK_TOP[1]], points[152]
    down = chin - (left + right) / 2
    corners_face = np.array([left, right, right + down, left + down], dtype=np.float32)
    corners_face[:2, 1] = np.minimum(corners_face[:2, 1], points[NOSE_BRIDGE][1])
    mh, mw = mask_rgb.shape[:2]
    corners_mask = np.array([[0, 0], [mw, 0], [mw, mh], [0, mh]], dtype=np.float32)
    warp = cv2.getPerspectiveTransform(corners_mask, corners_face)
    height, width = image_rgb.shape[:2]
    warped = cv2.warpPerspective(mask_rgb, warp, (width, height), flags=cv2.INTER_LINEAR)
    coverage = np.zeros((height, width), np.uint8)
    cv2.fillPoly(coverage, [np.round(polygon).astype(np.int32)], 255)
    # A soft edge a few pixels wide, so the seam is not a hard cut-out line.
    soften = max(1, int(np.rint(0.02 * max(x2 - x1, y2 - y1)))) * 2 + 1
    alpha = cv2.GaussianBlur(coverage, (soften, soften), 0).astype(np.float32)[..., None] / 255
    blended = image_rgb.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def load_mask(photos: Path, colour: str) -> np.ndarray:
    return np.asarray(Image.open(photos / "insightface" / f"mask_{colour}.jpg").convert("RGB"))


def masked_photo(image_rgb: np.ndarray, faces: list[FaceAnalysis], mask_rgb: np.ndarray) -> np.ndarray:
    """Every face in `faces` (FaceAnalysis objects with a mesh) wearing the mask."""
    out = image_rgb
    for face in faces:
        out = put_on_mask(out, face.mesh.points, mask_rgb)
    return out
